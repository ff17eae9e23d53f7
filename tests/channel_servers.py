"""Local stand-ins for the providers the channels talk to: an HTTP server on 127.0.0.1
that records every request it receives and answers with scripted responses shaped like the
provider's documented ones; and a helper to make a channel account with its secrets."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tawasul.channels.inbound import Incoming, inbound_receive
from tawasul.channels.models import ChannelAccount, ChannelKind, IdentityKind, InboundMessage
from tawasul.directory.models import CareCentre


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow provider)


@dataclass
class ProviderServer:
    """What a test sees of the server: its base URL, what it received, what it will answer."""

    url: str
    received: list[Received]
    replies: list[Reply]  # answered in order; when empty, `default` answers
    default: Callable[[Received], Reply]


@contextmanager
def provider_server(default: Callable[[Received], Reply] | None = None) -> Iterator[ProviderServer]:
    """Serve on a free local port for the duration of the block."""
    received: list[Received] = []
    replies: list[Reply] = []
    state = ProviderServer(
        url="", received=received, replies=replies, default=default or (lambda _r: Reply())
    )
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Received(
                method=self.command,
                path=self.path,
                headers={key.lower(): value for key, value in self.headers.items()},
                body=body,
            )
            with lock:
                received.append(request)
                reply = replies.pop(0) if replies else state.default(request)
            if reply.delay:
                threading.Event().wait(reply.delay)
            data = b"" if reply.payload is None else json.dumps(reply.payload).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def channel_account(
    *,
    kind: str,
    centre: CareCentre,
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    name: str | None = None,
) -> ChannelAccount:
    """A saved, checked channel account with its secrets set."""
    account = ChannelAccount(
        name=name or f"{kind} account", kind=kind, centre=centre, settings=settings or {}
    )
    account.secrets_set(secrets or {})
    account.full_clean()
    account.save()
    return account


def sms_gateway_account(centre: CareCentre, name: str) -> ChannelAccount:
    """An SMS gateway account of a centre (its provider is never called in these tests)."""
    return channel_account(
        kind=ChannelKind.SMS,
        centre=centre,
        settings={"url": "http://127.0.0.1:9/sms", "sender": "MOE"},
        name=name,
    )


_received_ids = itertools.count(1)
SARA_MOBILE = "+966551234567"  # sara's (tests/conftest.py), as an SMS gateway sends it


def received(
    account: ChannelAccount,
    *,
    body: str = "شكر",
    sender: str = SARA_MOBILE,
    kind: str = IdentityKind.MOBILE,
    **extra: Any,
) -> InboundMessage:
    """A message kept and processed by the core pipeline (by default 3 characters from
    sara's mobile: too short, so it waits for review)."""
    message, _new = inbound_receive(
        account,
        Incoming(
            external_id=f"received-{next(_received_ids)}",
            sender=sender,
            identity_kind=kind if sender else "",
            body=body,
            **extra,
        ),
    )
    return message
