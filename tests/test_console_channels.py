"""The console's channel pages through HTTP: the review queue (reach, filters, pages, masked
senders, query count), one message (escaped text, the original as a download, the three
actions with their refusals as 400/403/404/409), the nav badge, the beneficiary's addresses
and history across channels, and the channel shown on requests and messages in the console
and the portal. Arabic by default, English under /en/."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tawasul.cases.models import Channel, Message, Request
from tawasul.cases.services import request_submit
from tawasul.channels.models import (
    ChannelIdentity,
    ChannelKind,
    IdentityKind,
    InboundMessage,
    InboundStatus,
)
from tawasul.channels.review import inbound_review_attach, inbound_review_dismiss
from tawasul.portal.session import BENEFICIARY_KEY
from tests.channel_servers import SARA_MOBILE, channel_account, received, sms_gateway_account

STRANGER_MOBILE = "+966501112233"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _arabic():
    with translation.override("ar"):
        yield


@pytest.fixture
def sms(ministry):
    return sms_gateway_account(ministry.riyadh.centre, "Riyadh SMS")


@pytest.fixture
def mail(ministry):
    return channel_account(
        kind=ChannelKind.IMAP,
        centre=ministry.riyadh.centre,
        settings={"host": "127.0.0.1", "username": "care"},
        name="Riyadh mailbox",
    )


@pytest.fixture
def makkah_sms(ministry):
    return sms_gateway_account(ministry.makkah.centre, "Makkah SMS")


def submit(ministry, beneficiary, entity=None, **overrides):
    return request_submit(
        **{
            "beneficiary": beneficiary,
            "kind": "complaint",
            "category": ministry.exams,
            "subject": "تأخر نتيجة الاختبار",
            "description": "لم تظهر نتيجة ابني في نظام نور حتى الآن.",
            "entity": entity or ministry.riyadh,
            **overrides,
        }
    )


def queue_url(**params):
    url = reverse("console:inbound_queue")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def message_url(message, action=""):
    name = f"console:inbound_{action}" if action else "console:inbound_message"
    return reverse(name, args=[message.public_id])


def fresh(message):
    return InboundMessage.objects.get(pk=message.pk)


def rows(response):
    return re.findall(r'data-inbound="([0-9a-f-]+)"', response.content.decode())


# --- the queue ----------------------------------------------------------------------------


def test_the_queue_lists_messages_awaiting_review_within_reach(
    client, staff, sara, sms, makkah_sms
):
    # Given two Riyadh messages in review (one older), one dismissed, one at Makkah
    older = received(sms)
    newer = received(sms, sender=STRANGER_MOBILE)
    done = received(sms, sender="+966509998877")
    inbound_review_dismiss(done, by=staff.riyadh_agent, note="مكرر")
    received(makkah_sms)

    # When the Riyadh agent opens the queue
    client.force_login(staff.riyadh_agent)
    response = client.get(queue_url())

    # Then they see their two messages in review, newest first, senders masked
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="ar" dir="rtl"' in body
    assert rows(response) == [str(newer.public_id), str(older.public_id)]
    assert STRANGER_MOBILE not in body
    assert SARA_MOBILE not in body
    assert "+966••••••233" in body
    assert "Riyadh SMS" in body
    assert "Makkah SMS" not in body
    # the received time in both calendars (a Hijri year is 14xx)
    assert re.search(r"14\d\d", body)


def test_the_queue_filters_by_status_account_and_reason(client, staff, sara, sms, mail):
    short = received(sms)
    nobody = received(sms, sender="", body="رسالة بلا مرسل لكنها طويلة بما يكفي")
    by_mail = received(mail, sender="someone@example.com", kind=IdentityKind.EMAIL)
    dismissed = received(sms, sender=STRANGER_MOBILE)
    inbound_review_dismiss(dismissed, by=staff.riyadh_agent, note="مكرر")
    client.force_login(staff.riyadh_agent)

    assert set(rows(client.get(queue_url(reason="no_sender")))) == {str(nobody.public_id)}
    assert set(rows(client.get(queue_url(account=mail.pk)))) == {str(by_mail.public_id)}
    assert rows(client.get(queue_url(status="dismissed"))) == [str(dismissed.public_id)]
    every = set(rows(client.get(queue_url(status=""))))
    assert every == {str(m.public_id) for m in (short, nobody, by_mail, dismissed)}
    # e-mail masked: first letter and domain
    assert "s••••••@example.com" in client.get(queue_url()).content.decode()


def test_a_bad_filter_is_a_400_not_a_500(client, staff, sms, makkah_sms):
    client.force_login(staff.riyadh_agent)
    assert client.get(queue_url(status="bogus")).status_code == 400
    assert client.get(queue_url(account="abc")).status_code == 400
    # another centre's account is not a choice
    assert client.get(queue_url(account=makkah_sms.pk)).status_code == 400
    assert client.get(queue_url(page="999")).status_code == 200


def test_the_queue_pages_with_a_constant_number_of_queries(client, staff, sms, mail):
    client.force_login(staff.riyadh_agent)

    def cost(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for index in range(3):
        received(sms, sender=f"+96650000000{index}")
    small = cost(queue_url())
    for index in range(27):
        account = sms if index % 2 else mail
        received(account, sender=f"person{index}@example.com", kind=IdentityKind.EMAIL)
    assert cost(queue_url()) == small
    first = client.get(queue_url())
    second = client.get(queue_url() + "?page=2")
    assert (len(rows(first)), len(rows(second))) == (25, 5)
    assert not set(rows(first)) & set(rows(second))


def test_the_queue_in_english(client, staff, sms):
    received(sms)
    client.force_login(staff.riyadh_agent)
    response = client.get("/en" + queue_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert 'lang="en" dir="ltr"' in body
    assert "Review queue" in body
    assert "Too short to become a request" in body


@pytest.mark.parametrize(
    ("who", "status"), [("outsider", 403), ("makkah_agent", 200), ("quality_officer", 200)]
)
def test_who_sees_what_in_the_queue(client, staff, sms, who, status):
    message = received(sms)
    client.force_login(getattr(staff, who))
    response = client.get(queue_url())
    assert response.status_code == status
    seen = str(message.public_id) in rows(response) if status == 200 else False
    assert seen == (who == "quality_officer")


def test_anonymous_goes_to_sign_in(client, sms):
    response = client.get(queue_url())
    assert response.status_code == 302
    assert reverse("console:login") in response["Location"]


def test_the_nav_shows_the_count_awaiting_review(client, staff, sara, sms, makkah_sms):
    received(sms)
    received(sms, sender=STRANGER_MOBILE)
    received(makkah_sms)
    client.force_login(staff.riyadh_agent)
    body = client.get(reverse("console:queue", args=["mine"])).content.decode()
    assert re.search(r'id="nav-review-count">2<', body)
    client.force_login(staff.central_agent)
    body = client.get(reverse("console:queue", args=["mine"])).content.decode()
    assert re.search(r'id="nav-review-count">3<', body)


# --- one message --------------------------------------------------------------------------


def test_the_message_page_escapes_the_text_and_offers_the_actions(client, staff, sms):
    message = received(
        sms,
        sender="",
        body="<script>alert('x')</script> رسالة طويلة",
        raw=b'{"from": "+966500000000"}',
        raw_name="sms.json",
    )
    client.force_login(staff.riyadh_agent)
    response = client.get(message_url(message))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert message_url(message, "original") in body
    for action in ("attach", "dismiss"):
        assert message_url(message, action) in body
    assert message_url(message, "open") not in body  # no sender to open a request for


def test_the_original_is_a_download_for_staff_in_reach(client, staff, sms):
    message = received(sms, raw=b'{"from": "+966551234567", "text": "abc"}', raw_name="sms.json")
    client.force_login(staff.riyadh_agent)
    response = client.get(message_url(message, "original"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b'{"from": "+966551234567", "text": "abc"}'
    client.force_login(staff.makkah_agent)
    assert client.get(message_url(message, "original")).status_code == 404
    assert client.get(message_url(message)).status_code == 404
    client.force_login(staff.outsider)
    assert client.get(message_url(message, "original")).status_code == 403


def test_a_reader_sees_the_message_without_the_actions(client, staff, ministry, sms):
    message = received(sms)
    client.force_login(staff.quality_officer)
    body = client.get(message_url(message)).content.decode()
    assert message_url(message, "dismiss") not in body
    response = client.post(message_url(message, "dismiss"), {"note": "مكرر"})
    assert response.status_code == 403
    assert fresh(message).status == InboundStatus.REVIEW


def test_open_a_request_from_the_page(client, staff, ministry, sara, sms):
    message = received(sms)
    client.force_login(staff.riyadh_agent)
    response = client.post(
        message_url(message, "open"),
        {"kind": "complaint", "category": ministry.exams.pk, "entity": ministry.riyadh.pk},
    )
    opened = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:request", args=[opened.pk])
    assert (opened.beneficiary, opened.channel) == (sara, Channel.SMS)
    page = client.get(response["Location"]).content.decode()
    assert opened.tracking_display in page  # the success message and the header
    assert "رسالة نصية" in page  # the channel in the header


def test_open_with_bad_input_is_a_400_with_the_services_words(client, staff, ministry, sara, sms):
    message = received(sms)
    client.force_login(staff.riyadh_agent)
    form = {"kind": "complaint", "category": ministry.praise_only.pk, "entity": ministry.riyadh.pk}
    arabic = client.post(message_url(message, "open"), form)
    assert arabic.status_code == 400
    assert "هذا التصنيف لا يقبل هذا النوع من الطلبات." in arabic.content.decode()
    missing = client.post(message_url(message, "open"), {"kind": "complaint"})
    assert missing.status_code == 400
    assert "يُرجى تصحيح النموذج والمحاولة مرة أخرى." in missing.content.decode()
    english = client.post("/en" + message_url(message, "open"), form)
    assert english.status_code == 400
    assert "This category does not take this kind of request." in english.content.decode()
    assert fresh(message).status == InboundStatus.REVIEW


def test_add_to_a_request_by_its_tracking_number(client, staff, ministry, sara, sms):
    request = submit(ministry, sara)
    message = received(sms, sender=STRANGER_MOBILE)
    client.force_login(staff.riyadh_agent)
    response = client.post(
        message_url(message, "attach"), {"tracking_number": request.tracking_display}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("console:request", args=[request.pk])
    assert Message.objects.get(request=request, from_beneficiary=True).channel == Channel.SMS
    assert ChannelIdentity.objects.get(value=STRANGER_MOBILE).beneficiary == sara


def test_add_to_a_request_out_of_reach_is_a_400(client, staff, ministry, sara, sms):
    elsewhere = submit(ministry, sara, ministry.makkah)
    message = received(sms)
    client.force_login(staff.riyadh_agent)
    out_of_reach = "لا يوجد طلب برقم المتابعة هذا ضمن نطاق صلاحياتك."
    for number, words in (
        (elsewhere.tracking_number, out_of_reach),
        ("abc", "رقم المتابعة غير صحيح."),
    ):
        response = client.post(message_url(message, "attach"), {"tracking_number": number})
        assert response.status_code == 400
        assert words in response.content.decode()
    assert fresh(message).status == InboundStatus.REVIEW


def test_dismiss_then_act_again_is_a_409(client, staff, sms):
    message = received(sms)
    client.force_login(staff.riyadh_agent)
    assert client.post(message_url(message, "dismiss"), {"note": ""}).status_code == 400
    response = client.post(message_url(message, "dismiss"), {"note": "رسالة دعائية"})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:inbound_queue")
    assert fresh(message).status == InboundStatus.DISMISSED
    again = client.post(message_url(message, "dismiss"), {"note": "مرة أخرى"})
    assert again.status_code == 409
    page = client.get(message_url(message)).content.decode()
    assert "رسالة دعائية" in page  # the note, on record
    assert message_url(message, "dismiss") not in page


def test_another_centre_cannot_act(client, staff, ministry, sms):
    message = received(sms)
    client.force_login(staff.makkah_agent)
    form = {"kind": "complaint", "category": ministry.exams.pk, "entity": ministry.makkah.pk}
    assert client.post(message_url(message, "open"), form).status_code == 404
    assert client.post(message_url(message, "dismiss"), {"note": "مكرر"}).status_code == 404
    client.force_login(staff.outsider)
    assert client.post(message_url(message, "dismiss"), {"note": "مكرر"}).status_code == 403
    assert fresh(message).status == InboundStatus.REVIEW


# --- one person across channels -----------------------------------------------------------


def test_the_beneficiary_panel_lists_addresses_and_links_one_by_hand(
    client, staff, ministry, sara, sms
):
    request = submit(ministry, sara)
    inbound_review_attach(
        received(sms, sender=STRANGER_MOBILE), by=staff.riyadh_agent, request=request
    )
    page_url = reverse("console:request", args=[request.pk])
    link_url = reverse("console:identity_link", args=[request.tracking_number])
    client.force_login(staff.riyadh_agent)

    body = client.get(page_url).content.decode()
    assert "+966••••••233" in body
    assert STRANGER_MOBILE not in body
    assert link_url in body
    assert reverse("console:beneficiary_history", args=[request.tracking_number]) in body
    revealed = client.post(reverse("console:request_reveal", args=[request.pk]))
    assert STRANGER_MOBILE in revealed.content.decode()  # in full once revealed (logged)

    response = client.post(
        link_url,
        {"identity-kind": "x", "identity-value": "98765", "identity-handle": "@sara_x"},
    )
    assert response.status_code == 302
    assert response["Location"] == page_url + "#beneficiary"
    assert ChannelIdentity.objects.get(kind="x", value="98765").linked_by == staff.riyadh_agent
    assert "@sara_x" in client.get(page_url).content.decode()


def test_linking_by_hand_refusals(client, staff, ministry, sara):
    request = submit(ministry, sara)
    link_url = reverse("console:identity_link", args=[request.tracking_number])
    client.force_login(staff.riyadh_agent)
    bad = client.post(link_url, {"identity-kind": "mobile", "identity-value": "  "})
    assert bad.status_code == 400
    client.force_login(staff.quality_officer)
    assert (
        "identity-value"
        not in client.get(reverse("console:request", args=[request.pk])).content.decode()
    )
    denied = client.post(link_url, {"identity-kind": "x", "identity-value": "1"})
    assert denied.status_code == 403
    client.force_login(staff.makkah_agent)
    assert client.post(link_url, {"identity-kind": "x", "identity-value": "1"}).status_code == 404
    assert not ChannelIdentity.objects.filter(kind="x").exists()


def test_the_history_page(client, staff, ministry, sara, sms):
    portal = submit(ministry, sara)
    submit(ministry, sara, ministry.makkah)
    by_sms = submit(ministry, sara, channel=Channel.SMS)
    waiting = received(sms)
    client.force_login(staff.riyadh_agent)
    url = reverse("console:beneficiary_history", args=[portal.tracking_number])

    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'data-request="(\d+)"', body) == [str(by_sms.pk), str(portal.pk)]
    assert 'data-channel="sms"' in body
    assert "رسالة نصية" in body
    assert 'data-channel="portal"' in body
    assert 'id="out-of-reach"' in body
    assert rows(response) == [str(waiting.public_id)]
    assert SARA_MOBILE not in body

    english = client.get("/en" + url).content.decode()
    assert "1 other request of this beneficiary is outside your reach." in english
    assert "History across channels" in english


def test_the_history_page_is_reached_only_through_a_request_in_reach(client, staff, ministry, sara):
    makkah = submit(ministry, sara, ministry.makkah)
    client.force_login(staff.riyadh_agent)
    for number in (makkah.tracking_number, "12345678901", "not-a-number"):
        url = reverse("console:beneficiary_history", args=[number])
        assert client.get(url).status_code == 404
    client.force_login(staff.outsider)
    url = reverse("console:beneficiary_history", args=[makkah.tracking_number])
    assert client.get(url).status_code == 403


# --- the channel everywhere ---------------------------------------------------------------


def test_the_channel_of_each_message_in_the_console_and_the_portal(
    client, staff, ministry, sara, sms
):
    # Given sara's portal request with her reply by SMS
    request = submit(ministry, sara)
    inbound_review_attach(received(sms), by=staff.riyadh_agent, request=request)

    # Then the console timeline marks the reply as SMS, and the header the request's channel
    client.force_login(staff.riyadh_agent)
    body = client.get(reverse("console:request", args=[request.pk])).content.decode()
    assert body.count('class="badge badge--channel" data-channel="sms"') == 1
    assert "البوابة الإلكترونية" in body  # the request came by the portal

    # And the portal shows both to sara
    client.logout()
    session = client.session
    session[BENEFICIARY_KEY] = sara.pk
    session.save()
    portal = client.get(reverse("portal:request_detail", args=[request.tracking_number]))
    html = portal.content.decode()
    assert portal.status_code == 200
    assert 'id="request-channel"' in html
    assert 'data-channel="sms"' in html
    assert "رسالة نصية" in html
