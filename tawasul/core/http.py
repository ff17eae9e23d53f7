"""The client's address, also behind trusted reverse proxies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address that rate limits and lockouts count.

    With `TAWASUL_TRUSTED_PROXIES = N` (N reverse proxies in front of the app, each
    appending to X-Forwarded-For), the N-th address from the right is the client as
    seen by the outermost trusted proxy; addresses further left could be forged by
    the client and are ignored. With 0 (the default), REMOTE_ADDR.
    """
    proxies = int(getattr(settings, "TAWASUL_TRUSTED_PROXIES", 0))
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    return chain[-proxies] if len(chain) >= proxies else remote
