"""SMS gateways, the HTTP one against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tawasul.channels import sms
from tawasul.channels.sms import (
    ConsoleSmsGateway,
    FileSmsGateway,
    HttpSmsGateway,
    MemorySmsGateway,
    SmsDeliveryError,
    sms_gateway,
)

NUMBER = "+966551234567"
TEXT = "تواصل: تم استلام طلبك رقم 482-9310-5726"


class ProviderServer(ThreadingHTTPServer):
    """A stand-in SMS provider: records each request, answers with `reply`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.received: list[dict] = []
        self.reply: tuple[int, bytes, dict[str, str]] = (200, b'{"id": "msg-42"}', {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/messages"


class ProviderHandler(BaseHTTPRequestHandler):
    server: ProviderServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(
            {
                "path": self.path,
                "authorization": self.headers["Authorization"],
                "content_type": self.headers["Content-Type"],
                "json": json.loads(body),
            }
        )
        status, payload, headers = self.server.reply
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output stays readable."""


@pytest.fixture
def provider():
    server = ProviderServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def gateway_settings(settings, provider):
    settings.SMS_HTTP_URL = provider.url
    settings.SMS_HTTP_TOKEN = "token-123"
    settings.SMS_SENDER = "MOE-Care"
    settings.SMS_HTTP_TIMEOUT = 5
    return settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- HTTP ----------------------------------------------------------------------------


def test_http_gateway_posts_json_with_the_bearer_token(provider, gateway_settings):
    message_id = HttpSmsGateway().send(to=NUMBER, text=TEXT)

    assert message_id == "msg-42"
    [received] = provider.received
    assert received["path"] == "/v1/messages"
    assert received["authorization"] == "Bearer token-123"
    assert received["content_type"].startswith("application/json")
    assert received["json"] == {"to": NUMBER, "text": TEXT, "sender": "MOE-Care"}


def test_http_gateway_accepts_a_2xx_without_an_id(provider, gateway_settings):
    provider.reply = (202, b"", {})

    assert HttpSmsGateway().send(to=NUMBER, text=TEXT) == ""
    assert len(provider.received) == 1


def test_http_gateway_raises_on_a_server_error(provider, gateway_settings):
    provider.reply = (500, b'{"error": "boom"}', {})

    with pytest.raises(SmsDeliveryError) as raised:
        HttpSmsGateway().send(to=NUMBER, text=TEXT)

    assert str(raised.value) == "SMS provider answered HTTP 500"
    assert len(provider.received) == 1


def test_http_gateway_does_not_follow_a_redirect(provider, gateway_settings):
    provider.reply = (302, b"", {"Location": provider.url + "/elsewhere"})

    with pytest.raises(SmsDeliveryError, match="HTTP 302"):
        HttpSmsGateway().send(to=NUMBER, text=TEXT)

    assert len(provider.received) == 1


def test_http_gateway_raises_when_the_connection_is_refused(settings):
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{free_port()}/v1/messages"

    with pytest.raises(SmsDeliveryError) as raised:
        HttpSmsGateway().send(to=NUMBER, text=TEXT)

    assert "unreachable" in str(raised.value)
    assert NUMBER not in str(raised.value)
    assert TEXT not in str(raised.value)


def test_http_gateway_refuses_a_url_that_is_not_http(settings):
    settings.SMS_HTTP_URL = "file:///etc/passwd"

    with pytest.raises(SmsDeliveryError, match="not an http"):
        HttpSmsGateway().send(to=NUMBER, text=TEXT)


# --- development and tests ---------------------------------------------------------------


def test_file_gateway_appends_one_json_line_per_sms(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms")  # created on first use
    gateway = FileSmsGateway()

    first = gateway.send(to=NUMBER, text=TEXT)
    second = gateway.send(to="+966501112223", text="second")

    lines = (tmp_path / "sms" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [first, second]
    assert records[0]["to"] == NUMBER
    assert records[0]["text"] == TEXT
    assert records[0]["sender"] == settings.SMS_SENDER
    assert TEXT in lines[0]  # Arabic kept readable, not \u-escaped


def test_console_gateway_masks_the_number():
    stream = io.StringIO()

    ConsoleSmsGateway(stream=stream).send(to=NUMBER, text=TEXT)

    output = stream.getvalue()
    assert TEXT in output
    assert NUMBER not in output
    assert "+966" in output
    assert "567" in output


def test_the_gateway_is_chosen_by_settings(settings):
    settings.SMS_BACKEND = "tawasul.channels.sms.MemorySmsGateway"
    sms.outbox.clear()

    gateway = sms_gateway()
    message_id = gateway.send(to=NUMBER, text=TEXT)

    assert isinstance(gateway, MemorySmsGateway)
    assert sms.outbox == [sms.SentSms(id=message_id, to=NUMBER, text=TEXT)]
    sms.outbox.clear()


def test_a_backend_that_is_not_a_gateway_is_refused(settings):
    settings.SMS_BACKEND = "io.StringIO"

    with pytest.raises(TypeError):
        sms_gateway()
