"""Walk the pages in Arabic and fail on any string rendered without an Arabic translation.

The recorder wraps Django's translation object: every msgid looked up while a page
renders in Arabic that comes back unchanged (and has Latin letters) is a miss.
"""

from __future__ import annotations

import pytest

PUBLIC_PAGES = ["/", "/signin/", "/track/", "/admin/login/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_no_untranslated_string(client, ministry, untranslated, path):
    response = client.get(path)
    assert response.status_code == 200
    assert 'lang="ar"' in response.content.decode()
    assert untranslated == set(), f"untranslated on {path}: {sorted(untranslated)}"


def test_the_recorder_catches_a_missing_translation(untranslated):
    from django.utils import translation

    with translation.override("ar"):
        translation.gettext("A sentence nobody has translated yet")
    assert untranslated == {"A sentence nobody has translated yet"}


def test_console_pages_have_no_untranslated_string(client, ministry, staff, sara, untranslated):
    from tawasul.cases.services import request_claim, request_note, request_submit

    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر النتيجة",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن.",
        entity=ministry.riyadh,
    )
    request_claim(request=request, by=staff.riyadh_agent)
    request_note(request=request, by=staff.riyadh_agent, body="ملاحظة داخلية")
    assert client.get("/console/login/").status_code == 200
    client.force_login(staff.riyadh_supervisor)
    pages = [
        "/console/queues/mine/", "/console/queues/subtree/", "/console/queues/overdue/",
        f"/console/requests/{request.pk}/", "/console/intake/", "/console/team/",
        "/console/oversight/",
    ]  # fmt: skip
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'lang="ar"' in response.content.decode()
    assert untranslated == set(), f"untranslated: {sorted(untranslated)}"


def test_channel_pages_have_no_untranslated_string(client, ministry, staff, sara, untranslated):
    """The review queue, an inbound message, a beneficiary's history across channels and the
    call pop, all in Arabic."""
    import json
    import time

    from tawasul.channels.calls import call_event_apply, call_event_parse
    from tawasul.channels.models import ChannelKind
    from tests.channel_servers import channel_account, received, sms_gateway_account

    sms = sms_gateway_account(ministry.riyadh.centre, "Riyadh SMS")
    waiting = received(sms)  # three characters from sara's mobile: waits for review
    opened = received(sms, body="أرجو إفادتي بموعد صدور نتائج اختبارات ابني هذا الفصل")
    line = channel_account(kind=ChannelKind.CTI, centre=ministry.riyadh.centre, name="Line")
    event = {"event": "ringing", "call_id": "c-1", "from": "+966551234567", "at": time.time()}
    call_event_apply(
        account=line,
        event=call_event_parse(json.dumps({**event, "agent": "riyadh_supervisor"}).encode()),
    )
    client.force_login(staff.riyadh_supervisor)
    pages = {  # each with one Arabic text it must show
        "/console/inbound/": "أقصر من أن تصبح طلبًا",
        f"/console/inbound/{waiting.public_id}/": "فتح طلب من هذه الرسالة",
        f"/console/requests/{opened.request.pk}/": "السجل عبر القنوات",
        f"/console/requests/number/{opened.request.tracking_number}/history/": "العناوين",
        "/console/calls/pop/": "مكالمة واردة",
    }
    for path, arabic in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert arabic in response.content.decode(), path
    assert untranslated == set(), f"untranslated: {sorted(untranslated)}"
