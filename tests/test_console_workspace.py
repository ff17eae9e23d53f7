"""The request workspace: the page, every action through HTTP with its permission,
reveal logging, canned responses, merge, forward/return, links, and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tawasul.cases import services as svc
from tawasul.cases.attachments import attachment_check
from tawasul.cases.canned import canned_render
from tawasul.cases.models import (
    CannedResponse,
    Event,
    EventKind,
    Message,
    Priority,
    Request,
    RequestLink,
    Status,
)
from tawasul.channels.models import OutboxMessage
from tawasul.channels.notifications import notification_render_sms
from tawasul.core.ids import tracking_number_display
from tawasul.directory.models import CareCentre


@pytest.fixture(autouse=True)
def _arabic():
    """Addresses are reversed in Arabic (the default), whatever an earlier test activated."""
    with translation.override("ar"):
        yield


def submit(ministry, beneficiary, **overrides):
    fields = {
        "beneficiary": beneficiary,
        "kind": "complaint",
        "category": ministry.exams,
        "subject": "تأخر نتيجة الاختبار",
        "description": "لم تظهر نتيجة ابني في نظام نور حتى الآن رغم انتهاء الفصل الدراسي.",
        "entity": ministry.riyadh,
    }
    return svc.request_submit(**{**fields, **overrides})


def page(case):
    return reverse("console:request", args=[case.pk])


def act(case, action):
    return reverse("console:request_act", args=[case.pk, action])


def signed_in(client, user):
    client.force_login(user)
    return client


def refreshed(case):
    return Request.objects.get(pk=case.pk)


@pytest.fixture
def riyadh_case(ministry, staff, sara):
    return submit(ministry, sara)


@pytest.fixture
def makkah_case(ministry, staff, khalid):
    return submit(ministry, khalid, entity=ministry.makkah)


# --- the page -----------------------------------------------------------------------------


class TestPage:
    @pytest.mark.parametrize(
        ("persona", "expected"),
        [
            ("riyadh_agent", 200),
            ("riyadh_supervisor", 200),
            ("central_agent", 200),
            ("quality_officer", 200),
            ("executive", 200),
            ("makkah_agent", 404),
            ("university_agent", 404),
            ("outsider", 403),
        ],
    )
    def test_who_may_open_a_riyadh_request(self, client, staff, riyadh_case, persona, expected):
        response = signed_in(client, getattr(staff, persona)).get(page(riyadh_case))
        assert response.status_code == expected

    def test_anonymous_is_sent_to_sign_in(self, client, riyadh_case):
        response = client.get(page(riyadh_case))
        assert response.status_code == 302
        assert reverse("console:login") in response["Location"]

    def test_header_shows_tracking_status_entity_transfers_and_due_dates(
        self, client, staff, riyadh_case, settings
    ):
        settings.TAWASUL_MAX_TRANSFERS = 3
        response = signed_in(client, staff.riyadh_agent).get(page(riyadh_case))
        body = response.content.decode()
        assert riyadh_case.tracking_display in body
        assert "الإدارة العامة للتعليم بمنطقة الرياض" in body
        assert "0 من 3" in body or "0 of 3" in body
        assert 'data-shortcut="c"' in body  # claim offered, with its shortcut

    def test_beneficiary_is_masked_by_default(self, client, staff, riyadh_case, sara):
        body = signed_in(client, staff.riyadh_agent).get(page(riyadh_case)).content.decode()
        assert sara.national_id not in body
        assert sara.mobile not in body
        assert sara.masked_national_id in body
        assert sara.masked_mobile in body
        assert not Event.objects.filter(kind=EventKind.BENEFICIARY_REVEALED).exists()

    def test_each_reveal_is_logged_once_and_shows_the_data_for_that_response_only(
        self, client, staff, riyadh_case, sara
    ):
        client = signed_in(client, staff.riyadh_agent)
        url = reverse("console:request_reveal", args=[riyadh_case.pk])
        revealed = client.post(url)
        assert revealed.status_code == 200
        assert sara.national_id in revealed.content.decode()
        reveals = Event.objects.filter(request=riyadh_case, kind=EventKind.BENEFICIARY_REVEALED)
        assert reveals.count() == 1
        event = reveals.get()
        assert not event.is_public
        assert event.actor_user == staff.riyadh_agent
        # The next ordinary view is masked again; a second reveal is a second entry.
        assert sara.national_id not in client.get(page(riyadh_case)).content.decode()
        client.post(url)
        assert reveals.count() == 2

    def test_reveal_out_of_reach_is_not_found_and_not_logged(self, client, staff, riyadh_case):
        url = reverse("console:request_reveal", args=[riyadh_case.pk])
        assert signed_in(client, staff.makkah_agent).post(url).status_code == 404
        assert not Event.objects.filter(kind=EventKind.BENEFICIARY_REVEALED).exists()

    def test_timeline_shows_internal_notes_and_events_to_staff(self, client, staff, riyadh_case):
        svc.request_note(request=riyadh_case, by=staff.riyadh_agent, body="ملاحظة داخلية سرية")
        body = signed_in(client, staff.quality_officer).get(page(riyadh_case)).content.decode()
        assert "ملاحظة داخلية سرية" in body
        assert "timeline__item--internal" in body
        assert "riyadh_agent" in body  # the actor's name

    def test_page_queries_do_not_grow_with_the_timeline(self, client, staff, ministry, sara):
        short = submit(ministry, sara)
        long = submit(ministry, sara)
        for number in range(28):
            svc.request_note(request=long, by=staff.riyadh_agent, body=f"ملاحظة {number}")
        svc.request_forward(
            request=long, by=staff.riyadh_agent, to_entity=ministry.university, reason="خطأ"
        )
        svc.request_note(request=short, by=staff.riyadh_agent, body="ملاحظة")
        svc.request_forward(
            request=short, by=staff.riyadh_agent, to_entity=ministry.university, reason="خطأ"
        )
        assert long.events.count() >= 30
        assert short.events.count() == 3
        client = signed_in(client, staff.central_supervisor)
        client.get(page(short))  # warm caches (session, content types)
        counts = []
        for case in (short, long):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(page(case)).status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1]
        assert counts[1] <= 30


# --- the isolation matrix for actions -------------------------------------------------------

# (action, form data) → the personas allowed on a Riyadh request; the others get 403/404.
ACTIONS = {
    "claim": ({}, {"riyadh_agent", "riyadh_supervisor", "central_agent", "riyadh_admin"}),
    "note": (
        {"note-body": "ملاحظة للفريق"},
        {"riyadh_agent", "riyadh_supervisor", "central_agent", "quality_officer", "riyadh_admin"},
    ),
    "priority": (
        {"priority": Priority.URGENT},
        {"riyadh_agent", "riyadh_supervisor", "central_agent", "riyadh_admin"},
    ),
    "cancel": ({"cancel-reason": "رسالة مزعجة"}, {"riyadh_supervisor", "riyadh_admin"}),
}
OUT_OF_REACH = {"makkah_agent", "university_agent"}
PERSONAS = [
    "riyadh_agent",
    "riyadh_supervisor",
    "central_agent",
    "quality_officer",
    "executive",
    "riyadh_admin",
    "makkah_agent",
    "university_agent",
    "outsider",
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_isolation_matrix(client, staff, riyadh_case, persona, action):
    data, allowed = ACTIONS[action]
    before = (Event.objects.count(), Message.objects.count(), refreshed(riyadh_case).status)
    response = signed_in(client, getattr(staff, persona)).post(act(riyadh_case, action), data)
    after = (Event.objects.count(), Message.objects.count(), refreshed(riyadh_case).status)
    if persona in allowed:
        assert response.status_code == 302
        assert after != before
    else:
        expected = 404 if persona in OUT_OF_REACH else 403
        assert response.status_code == expected
        assert after == before


def test_actions_on_a_makkah_request_are_not_found_for_riyadh(client, staff, makkah_case):
    client = signed_in(client, staff.riyadh_supervisor)
    for action, (data, _allowed) in ACTIONS.items():
        assert client.post(act(makkah_case, action), data).status_code == 404
    assert makkah_case.events.count() == 1


def test_unknown_action_is_not_found(client, staff, riyadh_case):
    response = signed_in(client, staff.riyadh_agent).post(act(riyadh_case, "explode"))
    assert response.status_code == 404


# --- working a request ----------------------------------------------------------------------


class TestWorking:
    def test_claim_start_reply_answer(self, client, staff, riyadh_case):
        client = signed_in(client, staff.riyadh_agent)
        assert client.post(act(riyadh_case, "claim")).status_code == 302
        assert refreshed(riyadh_case).assignee == staff.riyadh_agent
        assert client.post(act(riyadh_case, "start")).status_code == 302
        response = client.post(act(riyadh_case, "reply"), {"reply-body": "نعمل على طلبك"})
        assert response.status_code == 302
        assert response["Location"] == page(riyadh_case)
        response = client.post(
            act(riyadh_case, "answer"),
            {"resolution": "ظهرت النتيجة في نظام نور الآن.", "resolution_code": "resolved"},
        )
        assert response.status_code == 302
        case = refreshed(riyadh_case)
        assert case.status == Status.ANSWERED
        assert case.resolution_code == "resolved"
        assert list(case.events.values_list("kind", flat=True)) == [
            EventKind.SUBMITTED,
            EventKind.CLAIMED,
            EventKind.STARTED,
            EventKind.REPLIED,
            EventKind.ANSWERED,
        ]

    def test_another_agent_may_not_reply_to_a_request_taken_by_someone_else(
        self, client, staff, riyadh_case
    ):
        svc.request_claim(request=riyadh_case, by=staff.riyadh_agent)
        response = signed_in(client, staff.riyadh_agent2).post(
            act(riyadh_case, "reply"), {"reply-body": "رد"}
        )
        assert response.status_code == 403
        assert not Message.objects.exists()

    def test_a_step_the_lifecycle_refuses_is_409_with_the_message(self, client, staff, riyadh_case):
        response = signed_in(client, staff.riyadh_supervisor).post(
            act(riyadh_case, "answer"),
            {"resolution": "إجابة مبكرة جداً للطلب", "resolution_code": "resolved"},
        )
        assert response.status_code == 409
        assert refreshed(riyadh_case).status == Status.NEW
        assert "notice--error" in response.content.decode()

    def test_claim_twice_is_a_conflict(self, client, staff, riyadh_case):
        svc.request_claim(request=riyadh_case, by=staff.riyadh_agent)
        response = signed_in(client, staff.riyadh_agent2).post(act(riyadh_case, "claim"))
        assert response.status_code == 409
        assert refreshed(riyadh_case).assignee == staff.riyadh_agent

    def test_supervisor_assigns_to_an_agent_of_the_entity(self, client, staff, riyadh_case):
        client = signed_in(client, staff.riyadh_supervisor)
        page_body = client.get(page(riyadh_case)).content.decode()
        assert "riyadh_agent2" in page_body
        assert "makkah_agent" not in page_body
        response = client.post(act(riyadh_case, "assign"), {"assignee": staff.riyadh_agent2.pk})
        assert response.status_code == 302
        assert refreshed(riyadh_case).assignee == staff.riyadh_agent2
        bad = client.post(act(riyadh_case, "assign"), {"assignee": staff.makkah_agent.pk})
        assert bad.status_code == 400
        assert refreshed(riyadh_case).assignee == staff.riyadh_agent2

    def test_request_information_and_internal_note(self, client, staff, riyadh_case):
        svc.request_claim(request=riyadh_case, by=staff.riyadh_agent)
        svc.request_start(request=riyadh_case, by=staff.riyadh_agent)
        client = signed_in(client, staff.riyadh_agent)
        assert (
            client.post(act(riyadh_case, "request_info"), {"info-body": "رقم الطالب؟"}).status_code
            == 302
        )
        assert refreshed(riyadh_case).status == Status.AWAITING_BENEFICIARY
        assert (
            client.post(act(riyadh_case, "note"), {"note-body": "بانتظار الرد"}).status_code == 302
        )
        assert riyadh_case.messages.filter(visibility="internal").count() == 1

    def test_change_category_and_priority_are_logged(self, client, staff, ministry, riyadh_case):
        client = signed_in(client, staff.riyadh_agent)
        response = client.post(act(riyadh_case, "recategorise"), {"category": ministry.transfer.pk})
        assert response.status_code == 302
        assert client.post(act(riyadh_case, "priority"), {"priority": "high"}).status_code == 302
        case = refreshed(riyadh_case)
        assert (case.category, case.priority) == (ministry.transfer, "high")
        recat = case.events.get(kind=EventKind.RECATEGORISED)
        assert recat.data == {"from": ministry.exams.pk, "to": ministry.transfer.pk}
        assert not recat.is_public
        assert case.events.get(kind=EventKind.REPRIORITISED).data == {
            "from": "normal",
            "to": "high",
        }

    def test_a_category_that_does_not_take_the_kind_is_refused(
        self, client, staff, ministry, riyadh_case
    ):
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "recategorise"), {"category": ministry.praise_only.pk}
        )
        assert response.status_code == 400
        assert refreshed(riyadh_case).category == ministry.exams

    def test_empty_reply_is_400_and_nothing_changes(self, client, staff, riyadh_case):
        svc.request_claim(request=riyadh_case, by=staff.riyadh_agent)
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "reply"), {"reply-body": ""}
        )
        assert response.status_code == 400
        assert not Message.objects.exists()

    def test_cancel_needs_a_reason(self, client, staff, riyadh_case):
        client = signed_in(client, staff.riyadh_supervisor)
        assert client.post(act(riyadh_case, "cancel"), {"cancel-reason": ""}).status_code == 400
        assert client.post(act(riyadh_case, "cancel"), {"cancel-reason": "مكرر"}).status_code == 302
        assert refreshed(riyadh_case).status == Status.CANCELLED

    def test_staff_download_their_request_files_others_get_404(self, client, staff, ministry, sara):
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        checked = attachment_check(name="report.pdf", content=pdf)
        case = submit(ministry, sara, attachments=[checked])
        attachment = case.attachments.get()
        url = reverse("console:request_attachment", args=[case.pk, attachment.pk])
        body = signed_in(client, staff.riyadh_agent).get(page(case)).content.decode()
        assert url in body
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == pdf
        assert signed_in(client, staff.makkah_agent).get(url).status_code == 404


# --- canned responses -------------------------------------------------------------------------


class TestCanned:
    @pytest.fixture
    def canned(self, ministry):
        return CannedResponse.objects.create(
            title_ar="استلام",
            title_en="Received",
            body_ar="مرحباً {name}، طلبك {tracking_number} لدى {entity}.",
            body_en="Hello {name}, your request {tracking_number} is with {entity}.",
        )

    def test_render_in_arabic_and_english(self, canned, riyadh_case):
        number = tracking_number_display(riyadh_case.tracking_number)
        assert canned_render(canned, riyadh_case, "ar") == (
            f"مرحباً سارة، طلبك {number} لدى الإدارة العامة للتعليم بمنطقة الرياض."
        )
        assert canned_render(canned, riyadh_case, "en") == (
            f"Hello سارة, your request {number} is with Riyadh Education."
        )

    def test_english_falls_back_to_arabic_and_unknown_braces_stay(self, riyadh_case):
        canned = CannedResponse.objects.create(title_ar="ع", body_ar="{name} {other}")
        assert canned_render(canned, riyadh_case, "en") == "سارة {other}"

    def test_picker_fills_the_reply_without_javascript(self, client, staff, canned, riyadh_case):
        svc.request_claim(request=riyadh_case, by=staff.riyadh_agent)
        client = signed_in(client, staff.riyadh_agent)
        response = client.get(page(riyadh_case), {"canned": canned.pk})
        assert response.status_code == 200
        textarea = response.content.decode().split('id="id_reply-body"')[1].split("</textarea>")[0]
        assert "مرحباً سارة" in textarea

    def test_only_the_centres_own_and_shared_responses_are_offered(
        self, client, staff, ministry, canned, riyadh_case
    ):
        makkah_centre = CareCentre.objects.get(entity=ministry.makkah)
        CannedResponse.objects.create(centre=makkah_centre, title_ar="ردّ مكة", body_ar="مكة")
        CannedResponse.objects.create(title_ar="ردّ معطل", body_ar="x", is_active=False)
        svc.request_claim(request=riyadh_case, by=staff.riyadh_agent)
        body = signed_in(client, staff.riyadh_agent).get(page(riyadh_case)).content.decode()
        assert "استلام" in body
        assert "ردّ مكة" not in body
        assert "ردّ معطل" not in body


# --- forward, return, transfer cap ---------------------------------------------------------------


class TestForwarding:
    def test_forward_moves_the_request_out_of_the_senders_reach(
        self, client, staff, ministry, riyadh_case
    ):
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "forward"),
            {"to_entity": ministry.makkah.pk, "reason": "المدرسة في مكة"},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("console:home")
        assert refreshed(riyadh_case).entity == ministry.makkah
        assert client.get(page(riyadh_case)).status_code == 404
        makkah = signed_in(client, staff.makkah_agent).get(page(riyadh_case))
        assert makkah.status_code == 200
        assert "المدرسة في مكة" in makkah.content.decode()

    def test_forward_needs_a_reason(self, client, staff, ministry, riyadh_case):
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "forward"), {"to_entity": ministry.makkah.pk, "reason": ""}
        )
        assert response.status_code == 400
        assert refreshed(riyadh_case).entity == ministry.riyadh

    def test_the_receiving_centre_returns_a_misrouted_request(
        self, client, staff, ministry, riyadh_case
    ):
        svc.request_forward(
            request=riyadh_case, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="مكة"
        )
        client = signed_in(client, staff.makkah_agent)
        assert "action--return" in client.get(page(riyadh_case)).content.decode()
        response = client.post(act(riyadh_case, "return"), {"return-reason": "ليست لنا"})
        assert response.status_code == 302
        case = refreshed(riyadh_case)
        assert (case.entity, case.transfer_count) == (ministry.riyadh, 2)

    def test_return_is_not_offered_on_a_request_never_forwarded(self, client, staff, riyadh_case):
        client = signed_in(client, staff.riyadh_agent)
        assert "action--return" not in client.get(page(riyadh_case)).content.decode()
        response = client.post(act(riyadh_case, "return"), {"return-reason": "لا"})
        assert response.status_code == 400

    def test_transfers_are_capped(self, client, staff, ministry, riyadh_case, settings):
        settings.TAWASUL_MAX_TRANSFERS = 1
        svc.request_forward(
            request=riyadh_case, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="مكة"
        )
        body = signed_in(client, staff.makkah_agent).get(page(riyadh_case)).content.decode()
        assert "1 من 1" in body or "1 of 1" in body
        response = client.post(
            act(riyadh_case, "forward"),
            {"to_entity": ministry.university.pk, "reason": "للجامعة"},
        )
        assert response.status_code == 409
        case = refreshed(riyadh_case)
        assert (case.entity, case.transfer_count) == (ministry.makkah, 1)


# --- link and merge ------------------------------------------------------------------------------


class TestLinkAndMerge:
    def test_link_two_requests_shows_on_both(self, client, staff, ministry, sara, riyadh_case):
        other = submit(ministry, sara)
        client = signed_in(client, staff.riyadh_agent)
        response = client.post(
            act(riyadh_case, "link"), {"link-tracking_number": other.tracking_display}
        )
        assert response.status_code == 302
        assert RequestLink.objects.count() == 1
        assert other.tracking_display in client.get(page(riyadh_case)).content.decode()
        assert riyadh_case.tracking_display in client.get(page(other)).content.decode()
        again = client.post(
            act(other, "link"), {"link-tracking_number": riyadh_case.tracking_number}
        )
        assert again.status_code == 409
        assert RequestLink.objects.count() == 1

    def test_link_to_a_request_out_of_reach_is_refused(
        self, client, staff, riyadh_case, makkah_case
    ):
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "link"), {"link-tracking_number": makkah_case.tracking_number}
        )
        assert response.status_code == 400
        assert not RequestLink.objects.exists()

    def test_merge_closes_the_duplicate_and_tells_its_beneficiary(
        self, client, staff, ministry, sara, riyadh_case
    ):
        survivor = submit(ministry, sara)
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "merge"),
            {"merge-tracking_number": survivor.tracking_display, "merge-reason": "طلب مكرر"},
        )
        assert response.status_code == 302
        merged = refreshed(riyadh_case)
        assert merged.status == Status.CLOSED
        assert merged.merged_into == survivor
        public = merged.events.get(kind=EventKind.MERGED)
        assert public.is_public
        assert public.data["tracking_number"] == survivor.tracking_number
        internal = survivor.events.get(kind=EventKind.MERGED_FROM)
        assert not internal.is_public
        assert internal.data["request"] == merged.pk
        assert merged.events.filter(kind=EventKind.SUBMITTED).exists()  # timelines kept
        notice = OutboxMessage.objects.get(request=merged, template="merged")
        assert notice.recipient == sara.mobile
        text = notification_render_sms(notice)
        assert survivor.tracking_display in text
        assert merged.tracking_display in text
        body = client.get(page(merged)).content.decode()
        assert reverse("console:request", args=[survivor.pk]) in body

    def test_merge_into_itself_or_a_closed_request_is_refused(
        self, client, staff, ministry, sara, riyadh_case
    ):
        client = signed_in(client, staff.riyadh_supervisor)
        itself = client.post(
            act(riyadh_case, "merge"),
            {"merge-tracking_number": riyadh_case.tracking_number, "merge-reason": "مكرر"},
        )
        assert itself.status_code == 400
        closed = submit(ministry, sara)
        svc.request_cancel(request=closed, by=staff.riyadh_supervisor, reason="مزعج")
        response = client.post(
            act(riyadh_case, "merge"),
            {"merge-tracking_number": closed.tracking_number, "merge-reason": "مكرر"},
        )
        assert response.status_code == 409
        assert refreshed(riyadh_case).status == Status.NEW
        assert not OutboxMessage.objects.filter(template="merged").exists()

    def test_merge_of_different_beneficiaries_warns(
        self, client, staff, ministry, khalid, riyadh_case
    ):
        other = submit(ministry, khalid)
        response = signed_in(client, staff.riyadh_agent).post(
            act(riyadh_case, "merge"),
            {"merge-tracking_number": other.tracking_number, "merge-reason": "نفس الموضوع"},
            follow=True,
        )
        assert response.status_code == 200
        assert refreshed(riyadh_case).merged_into == other
        assert any(
            "different beneficiaries" in str(m) or "مختلف" in str(m)
            for m in response.context["messages"]
        )
