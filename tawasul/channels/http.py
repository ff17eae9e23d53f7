"""One way to POST to a provider (an SMS gateway, a social platform's send API): no redirect
followed, a timeout, and network failures turned into a retryable error whose summary names
the provider and the error's class only (never an address, a token or a text)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from tawasul.channels.errors import ChannelDeliveryError


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer we did not expect: fail instead of re-posting elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def provider_post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    label: str,
    unreachable: type[ChannelDeliveryError] = ChannelDeliveryError,
) -> tuple[int, bytes]:
    """POST `body` to `url`; the HTTP status and answer, whatever the status (a 3xx is
    returned as such). A URL that is not http(s), or a provider that cannot be reached,
    raises `unreachable` ("<label> unreachable (<error class>)")."""
    if not url.startswith(("http://", "https://")):
        raise unreachable(f"{label}: the address is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Accept": "application/json", **headers}
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        try:
            answer = error.read()[:65536]
        except OSError:
            answer = b""
        return error.code, answer
    except urllib.error.URLError as error:
        reason = type(error.reason).__name__ if error.reason else "URLError"
        raise unreachable(f"{label} unreachable ({reason})") from None
    except (TimeoutError, OSError) as error:
        raise unreachable(f"{label} unreachable ({type(error).__name__})") from None
