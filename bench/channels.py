"""Benchmark: what a message costs to come in through a channel, against a plain submission.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_bench \\
        .venv/bin/python -m bench.channels --messages 300

PostgreSQL only, a database whose name contains "bench" (created if missing, migrated; the
demo ministry's directory loaded if it has none). In one process, one after the other,
`--messages` times each:

- **submit**: `request_submit` of an Arabic request by a known beneficiary — the floor;
- **e-mail → request**: an Arabic e-mail (HTML alternative, a PNG attached) parsed from its
  bytes and received (`incoming_from_bytes` + `inbound_receive`): kept, its sender
  recognised, a request opened, its file stored, the acknowledgement queued back;
- **e-mail → reply**: an answer quoting the request's tracking number in its subject;
- **WhatsApp webhook → request**: a signed Cloud API POST through the whole Django stack
  (`django.test.Client`: middleware, signature check on the bytes, parsing, pipeline);
- **webhook replayed**: the same POST again (signature checked, found kept, nothing more).

Reports the median and 95th percentile in milliseconds and each path's median over the
floor's, and appends a dated entry to bench/RESULTS.md. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

SECTION = "## Channels (`bench/channels.py`)"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
TEXT = (
    "السلام عليكم، أرجو إفادتي بموعد صدور نتائج اختبارات الفصل الدراسي الأول لابني في "
    "الصف الثالث المتوسط، فقد تأخرت النتائج عن الموعد المعلن ولم تصلنا أي رسالة من المدرسة."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    name = database_url.rsplit("/", 1)[-1]
    if not database_url.startswith(("postgres://", "postgresql://")) or "bench" not in name:
        print("Refusing: set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
        return 2
    from bench.pg_reference import database_ensure

    database_ensure(database_url.rsplit("/", 1)[0] + "/postgres", name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    timings = _run(args.messages)
    _report(timings, args.messages)
    return 0


def _run(count: int) -> dict[str, list[float]]:
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from bench.intake import directory_ensure
    from tawasul.beneficiaries.services import beneficiary_register
    from tawasul.cases.models import Category, Kind
    from tawasul.cases.services import request_submit
    from tawasul.channels.models import ChannelAccount, ChannelKind
    from tawasul.directory.models import CareCentre

    settings.ALLOWED_HOSTS = ["*"]
    directory_ensure()
    centre = CareCentre.objects.filter(is_central=False).order_by("pk").first()
    assert centre is not None
    category = next(
        c for c in Category.objects.filter(is_active=True, numchild=0) if c.allows(Kind.INQUIRY)
    )
    run = f"{timezone.now():%Y%m%d%H%M%S}"
    mailbox = ChannelAccount.objects.create(
        name=f"bench mailbox {run}",
        kind=ChannelKind.IMAP,
        centre=centre,
        settings={
            "host": "imap.invalid",
            "username": "care@bench.invalid",
            "category": category.code,
        },
    )
    whatsapp = ChannelAccount(
        name=f"bench whatsapp {run}",
        kind=ChannelKind.WHATSAPP,
        centre=centre,
        settings={"phone_number_id": f"9{run}", "category": category.code},
    )
    whatsapp.secrets_set({"app_secret": "bench-app-secret", "access_token": "x"})
    whatsapp.save()
    known = beneficiary_register(full_name="ولي أمر تجريبي", email=f"known-{run}@bench.invalid")
    timings: dict[str, list[float]] = {key: [] for key in _PATHS}
    client = Client()
    requests: list[Any] = []

    def add(path: str, measured: tuple[float, Any]) -> Any:
        timings[path].append(measured[0])
        return measured[1]

    for index in range(count):
        add(
            "submit",
            _timed(
                request_submit,
                beneficiary=known,
                kind=Kind.INQUIRY,
                category=category,
                subject="نتائج الاختبارات",
                description=TEXT,
                entity=centre.entity_id,
            ),
        )
        sender = f"parent-{run}-{index}@bench.invalid"
        raw = _email(f"<{run}-{index}@bench.invalid>", sender, "نتائج الاختبارات")
        requests.append(add("e-mail → request", _timed(_receive, mailbox, raw)))
    for index, message in enumerate(requests):
        subject = f"Re: نتائج الاختبارات [{message.request.tracking_display}]"
        raw = _email(f"<{run}-r{index}@bench.invalid>", message.sender, subject)
        add("e-mail → reply", _timed(_receive, mailbox, raw))
    url = f"/channels/whatsapp/{whatsapp.public_id}/webhook"
    bodies = [_whatsapp_body(whatsapp, run, index) for index in range(count)]
    for body in bodies:
        add("WhatsApp webhook → request", _timed(_post, client, url, body))
    for body in bodies:
        add("webhook replayed", _timed(_post, client, url, body))
    return timings


_PATHS = (
    "submit",
    "e-mail → request",
    "e-mail → reply",
    "WhatsApp webhook → request",
    "webhook replayed",
)


def _timed(action: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def _receive(account: Any, raw: bytes) -> Any:
    from tawasul.channels.email_in import incoming_from_bytes
    from tawasul.channels.inbound import inbound_receive

    return inbound_receive(account, incoming_from_bytes(raw, account))[0]


def _email(message_id: str, sender: str, subject: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"ولي أمر <{sender}>"
    mail["To"] = "care@bench.invalid"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content(TEXT)
    mail.add_alternative(f"<p dir='rtl'>{TEXT}</p>", subtype="html")
    mail.add_attachment(PNG, maintype="image", subtype="png", filename="إشعار.png")
    return mail.as_bytes()


def _whatsapp_body(account: object, run: str, index: int) -> bytes:
    phone_id = account.settings["phone_number_id"]  # type: ignore[attr-defined]
    wa_id = f"9665{(int(run[-6:]) * 1000 + index) % 100_000_000:08d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "966920000000",
                                "phone_number_id": phone_id,
                            },
                            "contacts": [{"profile": {"name": "ولي أمر"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.{run}.{index}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": TEXT},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def _post(client: object, url: str, body: bytes) -> None:
    signature = "sha256=" + hmac.new(b"bench-app-secret", body, hashlib.sha256).hexdigest()
    response = client.post(  # type: ignore[attr-defined]
        url, data=body, content_type="application/json", headers={"X-Hub-Signature-256": signature}
    )
    if response.status_code != 200:
        raise RuntimeError(f"webhook answered {response.status_code}")


def _report(timings: dict[str, list[float]], count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from bench.results import results_add

    floor = statistics.median(timings["submit"])
    lines = [
        f"{timezone.localdate().isoformat()} · {platform.node() or 'machine'} "
        f"({os.cpu_count()} cores) · "
        f"PostgreSQL {connection.pg_version // 10000} · {count} messages per path, one process",
        "",
        "| path | p50 ms | p95 ms | p50 / submit |",
        "|---|---:|---:|---:|",
    ]
    for path in _PATHS:
        values = sorted(timings[path])
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        median = statistics.median(values)
        lines.append(f"| {path} | {median:.1f} | {p95:.1f} | {median / floor:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    results_add(section=SECTION, text=text)


if __name__ == "__main__":
    raise SystemExit(main())
