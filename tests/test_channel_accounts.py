"""Channel accounts (issue 10, first part): each mapped to the care centre that receives its
traffic, its secret stored encrypted and never shown again, its settings checked for what
its kind needs — through the model and the real admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tawasul.channels.admin import ChannelAccountForm
from tawasul.channels.models import ChannelAccount, ChannelKind
from tawasul.directory.models import CareCentre

pytestmark = pytest.mark.django_db

PASSWORD = "imap-Pass-9x!"


@pytest.fixture
def centre(ministry) -> CareCentre:
    return CareCentre.objects.filter(entity=ministry.riyadh).first() or CareCentre.objects.first()


def test_the_secret_is_stored_encrypted_and_read_back(centre) -> None:
    account = ChannelAccount(
        name="Riyadh mailbox",
        kind=ChannelKind.IMAP,
        centre=centre,
        settings={"host": "imap.moe.example", "username": "care-riyadh"},
    )
    account.secret_set(PASSWORD)
    account.full_clean()
    account.save()

    stored = ChannelAccount.objects.values_list("secret_encrypted", flat=True).get()
    assert PASSWORD not in stored
    assert ChannelAccount.objects.get().secret() == PASSWORD
    account.secret_set("")
    assert (account.has_secret, account.secret()) == (False, "")


@pytest.mark.parametrize(
    ("kind", "values", "missing"),
    [
        (ChannelKind.IMAP, {"host": "imap.moe.example"}, "username"),
        (ChannelKind.WHATSAPP, {}, "phone_number_id"),
        (ChannelKind.SMS, {"url": "https://sms.example/send", "sender": " "}, "sender"),
    ],
)
def test_an_account_without_what_its_kind_needs_is_refused_in_both_languages(
    centre, kind, values, missing
) -> None:
    account = ChannelAccount(name="incomplete", kind=kind, centre=centre, settings=values)
    for language, words in (("en", "needs"), ("ar", "يحتاج")):
        with translation.override(language), pytest.raises(ValidationError) as refused:
            account.full_clean()
        message = " ".join(refused.value.message_dict["settings"])
        assert missing in message
        assert words in message


def test_a_telephony_account_needs_no_setting(centre) -> None:
    ChannelAccount(name="CTI", kind=ChannelKind.CTI, centre=centre).full_clean()


def test_the_admin_keeps_the_secret_and_never_shows_it(admin_client, centre) -> None:
    add = reverse("admin:channels_channelaccount_add")
    form = {
        "name": "Ministry WhatsApp",
        "kind": ChannelKind.WHATSAPP,
        "centre": centre.pk,
        "settings": '{"phone_number_id": "1055500000"}',
        "is_active": "on",
        "secret": PASSWORD,
    }
    response = admin_client.post(add, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    account = ChannelAccount.objects.get()
    assert account.secret() == PASSWORD

    change = reverse("admin:channels_channelaccount_change", args=[account.pk])
    page = admin_client.get(change).content.decode()
    listing = admin_client.get(reverse("admin:channels_channelaccount_changelist"))
    for shown in (page, listing.content.decode()):
        assert PASSWORD not in shown
        assert account.secret_encrypted not in shown

    # saving again with the secret left empty keeps it; a new one replaces it
    admin_client.post(change, {**form, "secret": "", "name": "Ministry WhatsApp (main)"})
    account.refresh_from_db()
    assert (account.name, account.secret()) == ("Ministry WhatsApp (main)", PASSWORD)
    admin_client.post(change, {**form, "secret": "rotated-Token-2"})
    account.refresh_from_db()
    assert account.secret() == "rotated-Token-2"


def test_the_admin_refuses_bad_settings_and_saves_nothing(admin_client, centre) -> None:
    response = admin_client.post(
        reverse("admin:channels_channelaccount_add"),
        {
            "name": "Broken mailbox",
            "kind": ChannelKind.IMAP,
            "centre": centre.pk,
            "settings": '{"host": "imap.moe.example"}',
            "secret": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "username" in response.content.decode()
    assert not ChannelAccount.objects.exists()


def test_an_edit_in_the_admin_keeps_the_adapters_state(admin_client, centre, monkeypatch) -> None:
    account = ChannelAccount(
        name="Riyadh mailbox",
        kind=ChannelKind.IMAP,
        centre=centre,
        settings={"host": "imap.moe.example", "username": "care-riyadh"},
    )
    account.save()
    change = reverse("admin:channels_channelaccount_change", args=[account.pk])
    original_clean = ChannelAccountForm.clean

    def poller_writes_meanwhile(form):  # a worker polls the mailbox during the edit
        ChannelAccount.objects.filter(pk=account.pk).update(state={"last_uid": 42})
        return original_clean(form)

    monkeypatch.setattr(ChannelAccountForm, "clean", poller_writes_meanwhile)

    response = admin_client.post(
        change,
        {
            "name": "Riyadh mailbox (main)",
            "kind": ChannelKind.IMAP,
            "centre": centre.pk,
            "settings": '{"host": "imap.moe.example", "username": "care-riyadh"}',
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.state) == ("Riyadh mailbox (main)", {"last_uid": 42})


def test_the_admin_lists_inbound_messages_with_the_sender_masked(admin_client, centre) -> None:
    from tests.channel_servers import received, sms_gateway_account

    message = received(sms_gateway_account(centre, "SMS"), sender="+966551234567")

    listing = admin_client.get(reverse("admin:channels_inboundmessage_changelist"))
    detail = admin_client.get(reverse("admin:channels_inboundmessage_change", args=[message.pk]))

    for page in (listing, detail):
        assert page.status_code == 200
        text = page.content.decode()
        assert "+966••••••567" in text
        assert "551234567" not in text
