"""Demo channels: the central centre's mailbox, SMS gateway, WhatsApp and telephony accounts
(switched off: the demo reaches no real server), and what came in through them that the
review queue shows — written through the inbound pipeline as a real adapter would.

No request and no beneficiary is added: the senders are demo beneficiaries, and what comes in
either joins a request they have or waits for review. The notices it queues are discarded.
"""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Request, Status
from tawasul.channels.inbound import Incoming, inbound_receive
from tawasul.channels.models import (
    ChannelAccount,
    ChannelKind,
    IdentityKind,
    OutboxMessage,
    OutboxStatus,
)
from tawasul.directory.models import CareCentre

ACCOUNTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "بريد مركز رعاية المستفيدين",
        ChannelKind.IMAP,
        {"host": "imap.moe.gov.sa.invalid", "username": "care@moe.gov.sa.invalid"},
    ),
    (
        "بوابة الرسائل النصية",
        ChannelKind.SMS,
        {"provider": "unifonic", "sender": "MOE"},
    ),
    ("واتساب الوزارة", ChannelKind.WHATSAPP, {"phone_number_id": "100000000000001"}),
    ("الرقم الموحد", ChannelKind.CTI, {"agents": {}}),
)


def channels_load(rng: random.Random) -> None:
    """The accounts, switched off, and a few messages: one reply joining its request, three
    waiting for review, one automatic reply ignored."""
    central = CareCentre.objects.get(is_central=True)
    with transaction.atomic():
        accounts = {
            kind: ChannelAccount.objects.create(
                name=name, kind=kind, centre=central, settings=settings, is_active=False
            )
            for name, kind, settings in ACCOUNTS
        }
    people = list(Beneficiary.objects.exclude(mobile="").order_by("pk")[:50])
    open_request = (
        Request.objects.filter(status=Status.IN_PROGRESS, beneficiary__in=people)
        .select_related("beneficiary")
        .order_by("pk")
        .first()
    )
    mail, sms = accounts[ChannelKind.IMAP], accounts[ChannelKind.SMS]
    if open_request is not None:
        owner = open_request.beneficiary
        inbound_receive(
            sms,
            Incoming(
                external_id="demo-sms-1",
                sender=owner.mobile,
                identity_kind=IdentityKind.MOBILE,
                body=f"بخصوص طلبي {open_request.tracking_display} أرفقت الإشعار عبر البوابة",
            ),
        )
        stranger = rng.choice([person for person in people if person.pk != owner.pk])
        inbound_receive(
            sms,
            Incoming(
                external_id="demo-sms-2",
                sender=stranger.mobile,
                identity_kind=IdentityKind.MOBILE,
                body=f"أريد معرفة حالة الطلب {open_request.tracking_display} من فضلكم",
            ),
        )
    inbound_receive(
        sms,
        Incoming(
            external_id="demo-sms-3",
            sender=rng.choice(people).mobile,
            identity_kind=IdentityKind.MOBILE,
            body="شكرا",
        ),
    )
    inbound_receive(
        mail,
        Incoming(
            external_id="<demo-1@mail.invalid>",
            sender="",
            identity_kind=IdentityKind.EMAIL,
            subject="استفسار عن القبول",
            body="السلام عليكم، متى يفتح باب القبول في برنامج الدبلوم التربوي؟",
        ),
    )
    inbound_receive(
        mail,
        Incoming(
            external_id="<demo-2@mail.invalid>",
            sender="no-reply@school.invalid",
            identity_kind=IdentityKind.EMAIL,
            subject="رد تلقائي: خارج المكتب",
            body="أنا خارج المكتب حتى نهاية الأسبوع.",
            ignore_reason="auto_reply",
        ),
    )
    # Nothing was really sent: nobody is to be notified about the demo's messages.
    OutboxMessage.objects.filter(account__in=accounts.values()).delete()
    if open_request is not None:
        OutboxMessage.objects.filter(request=open_request, status=OutboxStatus.PENDING).delete()
