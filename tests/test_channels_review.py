"""The review queue's services: open a request from a message, add it to a request, dismiss
it; each rechecks the message is still awaiting review with its row locked, records who and
when, and keeps to the access rules (another centre's agent neither sees nor acts; readers
read but do not act). Also: linking an address by hand, the beneficiary's history across
channels, and an SMS-channel request counted under its label in the statistics."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from tawasul.cases.models import Channel, EventKind, Message, Request
from tawasul.cases.services import request_answer, request_claim, request_start, request_submit
from tawasul.channels.inbound import IncomingFile, Reason
from tawasul.channels.models import (
    ChannelIdentity,
    IdentityKind,
    InboundMessage,
    InboundStatus,
)
from tawasul.channels.review import (
    beneficiary_history,
    inbound_review_attach,
    inbound_review_dismiss,
    inbound_review_open,
    request_identity_link,
)
from tawasul.core.errors import (
    AccessDenied,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
)
from tawasul.insights.open_statistics import open_statistics
from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.selectors import insights_volume
from tawasul.insights.summary import insights_summarise
from tests.channel_servers import received, sms_gateway_account
from tests.insights_data import submitted_on
from tests.threads import race

STRANGER_MOBILE = "+966501112233"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def sms(ministry):
    return sms_gateway_account(ministry.riyadh.centre, "Riyadh SMS")


@pytest.fixture
def makkah_sms(ministry):
    return sms_gateway_account(ministry.makkah.centre, "Makkah SMS")


def fresh(message):
    return InboundMessage.objects.get(pk=message.pk)


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


# --- what lands in review ------------------------------------------------------------------


def test_the_core_sends_short_and_senderless_messages_to_review(sms):
    short = received(sms)
    nobody = received(sms, sender="", body="رسالة بلا مرسل لكنها طويلة بما يكفي")
    assert (short.status, short.reason) == (InboundStatus.REVIEW, Reason.TOO_SHORT)
    assert (nobody.status, nobody.reason) == (InboundStatus.REVIEW, Reason.NO_SENDER)


# --- open a request ------------------------------------------------------------------------


def test_open_makes_a_request_for_the_sender_by_the_staff_member(ministry, staff, sara, sms):
    # Given a too-short SMS from sara's mobile
    message = received(sms)

    # When a Riyadh agent opens a complaint from it
    request = inbound_review_open(
        message, by=staff.riyadh_agent, kind="complaint", category=ministry.exams.pk
    )

    # Then the request is sara's, by SMS, at the account's centre, taken by the agent
    assert request.beneficiary == sara
    assert (request.channel, request.entity, request.kind) == (
        Channel.SMS,
        ministry.riyadh,
        "complaint",
    )
    assert request.description.startswith("شكر")
    assert len(request.description) >= 10
    submitted = request.events.get(kind=EventKind.SUBMITTED)
    assert submitted.actor_user == staff.riyadh_agent
    assert not submitted.by_beneficiary
    # And the message records what became of it, who decided and when
    after = fresh(message)
    assert after.status == InboundStatus.PROCESSED
    assert after.request == request
    assert after.reviewed_by == staff.riyadh_agent
    assert after.reviewed_at is not None
    assert after.data["review"] == {"action": "opened"}
    assert after.reason == Reason.TOO_SHORT  # why it went to review stays on record


def test_open_at_another_entity(ministry, staff, sara, sms):
    message = received(sms)
    request = inbound_review_open(
        message,
        by=staff.riyadh_agent,
        kind="inquiry",
        category=ministry.transfer,
        entity=ministry.makkah,
    )
    assert request.entity == ministry.makkah


def test_open_says_in_the_description_that_files_were_refused(ministry, staff, sara, sms):
    message = received(sms, files=[IncomingFile("tool.exe", b"MZ\x90\x00" * 10)])
    assert message.data["files_refused"][0]["reason"] == "file_type"
    with translation.override("en"):  # the note is in the beneficiary's language (Arabic)
        request = inbound_review_open(
            message, by=staff.riyadh_agent, kind="complaint", category=ministry.exams
        )
    with translation.override("ar"):
        from django.utils.translation import gettext

        note = gettext("Files sent with the message could not be attached: {count}.")
    assert note.format(count=1) in request.description


def test_open_needs_a_sender(ministry, staff, sms):
    message = received(sms, sender="", body="رسالة بلا مرسل لكنها طويلة بما يكفي")
    with pytest.raises(InvalidInput) as refused:
        inbound_review_open(
            message, by=staff.riyadh_agent, kind="complaint", category=ministry.exams
        )
    assert refused.value.code == "no_sender"
    assert set(refused.value.messages()) == {"ar", "en"}
    assert fresh(message).status == InboundStatus.REVIEW


def test_open_refused_by_the_request_checks_changes_nothing(ministry, staff, sara, sms):
    message = received(sms)
    with pytest.raises(InvalidInput):  # thanks only takes praise
        inbound_review_open(
            message, by=staff.riyadh_agent, kind="complaint", category=ministry.praise_only
        )
    assert fresh(message).status == InboundStatus.REVIEW
    assert not Request.objects.exists()


# --- add to a request ----------------------------------------------------------------------


def test_attach_adds_the_beneficiarys_reply_and_links_the_sender(ministry, staff, sara, sms):
    # Given sara's open request and a short SMS from a number nobody knows
    request = submit(ministry, sara)
    message = received(sms, sender=STRANGER_MOBILE)

    # When the agent adds it to sara's request
    reply = inbound_review_attach(message, by=staff.riyadh_agent, request=request)

    # Then it is sara's reply by SMS, and the number is now hers, linked by the agent
    assert (reply.from_beneficiary, reply.channel, reply.body) == (True, Channel.SMS, "شكر")
    assert reply.request == request
    identity = ChannelIdentity.objects.get(kind=IdentityKind.MOBILE, value=STRANGER_MOBILE)
    assert identity.beneficiary == sara
    assert identity.linked_by == staff.riyadh_agent
    after = fresh(message)
    assert (after.status, after.request, after.message) == (
        InboundStatus.PROCESSED,
        request,
        reply,
    )
    assert after.data["review"] == {"action": "attached", "identity_linked": True}
    # And the next SMS from that number is recognised as sara's
    again = received(sms, sender=STRANGER_MOBILE, body="أرجو الإفادة عن طلبي السابق مع الشكر")
    assert again.request.beneficiary == sara


def test_attach_without_a_sender_links_nothing(ministry, staff, sara, sms):
    request = submit(ministry, sara)
    message = received(sms, sender="", body="رسالة بلا مرسل لكنها طويلة بما يكفي")
    inbound_review_attach(message, by=staff.riyadh_agent, request=request)
    assert fresh(message).data["review"]["identity_linked"] is False
    assert Message.objects.filter(request=request, from_beneficiary=True).count() == 1


def test_attach_to_a_request_out_of_reach_or_closed_is_refused(ministry, staff, sara, sms):
    makkah_request = submit(ministry, sara, ministry.makkah)
    answered = submit(ministry, sara)
    request_claim(request=answered, by=staff.riyadh_agent)
    request_start(request=answered, by=staff.riyadh_agent)
    request_answer(request=answered, by=staff.riyadh_agent, resolution="تمت المعالجة بنجاح.")
    message = received(sms)

    with pytest.raises(NotFound):
        inbound_review_attach(message, by=staff.riyadh_agent, request=makkah_request)
    with pytest.raises(IllegalTransition):
        inbound_review_attach(
            message, by=staff.riyadh_agent, request=Request.objects.get(pk=answered.pk)
        )
    assert fresh(message).status == InboundStatus.REVIEW
    assert not ChannelIdentity.objects.filter(linked_by__isnull=False).exists()


# --- dismiss -------------------------------------------------------------------------------


def test_dismiss_keeps_the_note(staff, sms):
    message = received(sms)
    inbound_review_dismiss(message, by=staff.riyadh_agent, note="  رسالة   دعائية ")
    after = fresh(message)
    assert after.status == InboundStatus.DISMISSED
    assert after.data["review"] == {"action": "dismissed", "note": "رسالة دعائية"}
    assert after.reviewed_by == staff.riyadh_agent


def test_dismiss_needs_a_note(staff, sms):
    message = received(sms)
    with pytest.raises(InvalidInput) as refused:
        inbound_review_dismiss(message, by=staff.riyadh_agent, note=" ")
    assert refused.value.details["field"] == "note"
    assert fresh(message).status == InboundStatus.REVIEW


# --- once only -----------------------------------------------------------------------------

ACTIONS = {
    "open": lambda m, by, ctx: inbound_review_open(
        m, by=by, kind="complaint", category=ctx["ministry"].exams
    ),
    "attach": lambda m, by, ctx: inbound_review_attach(m, by=by, request=ctx["request"]),
    "dismiss": lambda m, by, ctx: inbound_review_dismiss(m, by=by, note="مكرر"),
}


@pytest.mark.parametrize("first", sorted(ACTIONS))
@pytest.mark.parametrize("second", sorted(ACTIONS))
def test_a_message_is_reviewed_once(ministry, staff, sara, sms, first, second):  # noqa: PLR0917
    # Given a message already dealt with by one agent (the other holds a stale copy)
    context = {"ministry": ministry, "request": submit(ministry, sara)}
    message = received(sms)
    stale = fresh(message)
    ACTIONS[first](message, staff.riyadh_agent, context)

    # When another agent acts on their stale copy, then they are told it is done
    with pytest.raises(Conflict) as done:
        ACTIONS[second](stale, staff.riyadh_agent2, context)
    assert done.value.code == "not_in_review"
    assert fresh(message).reviewed_by == staff.riyadh_agent


@pytest.mark.django_db(transaction=True)
def test_two_agents_at_the_same_moment_one_wins(on_postgres, ministry, staff, sara, sms):
    message = received(sms)
    outcomes = race(
        [
            lambda: inbound_review_dismiss(fresh(message), by=staff.riyadh_agent, note="مكرر"),
            lambda: inbound_review_open(
                fresh(message), by=staff.riyadh_agent2, kind="complaint", category=ministry.exams
            ),
        ]
    )
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    after = fresh(message)
    assert after.status in (InboundStatus.DISMISSED, InboundStatus.PROCESSED)
    assert Request.objects.count() == (1 if after.status == InboundStatus.PROCESSED else 0)


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("makkah_agent", NotFound),  # another centre: not even seen
        ("university_agent", NotFound),
        ("outsider", NotFound),
        ("quality_officer", AccessDenied),  # reads the whole tree, acts on none
        ("executive", AccessDenied),
    ],
)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_who_may_not_act(ministry, staff, sara, sms, who, error, action):  # noqa: PLR0917
    context = {"ministry": ministry, "request": submit(ministry, sara)}
    message = received(sms)
    with pytest.raises(error):
        ACTIONS[action](message, getattr(staff, who), context)
    assert fresh(message).status == InboundStatus.REVIEW


@pytest.mark.parametrize("who", ["riyadh_agent", "riyadh_supervisor", "central_agent"])
def test_who_may_act(ministry, staff, sara, sms, who):
    message = received(sms)
    inbound_review_dismiss(message, by=getattr(staff, who), note="رسالة تجريبية")
    assert fresh(message).status == InboundStatus.DISMISSED


# --- one person across channels ------------------------------------------------------------


def test_staff_link_an_address_by_hand(ministry, staff, sara):
    request = submit(ministry, sara)
    identity = request_identity_link(
        request=request, by=staff.riyadh_agent, kind=IdentityKind.EMAIL, value=" Sara@Example.com "
    )
    assert (identity.beneficiary, identity.value, identity.linked_by) == (
        sara,
        "sara@example.com",
        staff.riyadh_agent,
    )
    with pytest.raises(InvalidInput):
        request_identity_link(request=request, by=staff.riyadh_agent, kind="fax", value="1")
    with pytest.raises(NotFound):
        request_identity_link(
            request=request, by=staff.makkah_agent, kind=IdentityKind.X, value="12345"
        )
    with pytest.raises(AccessDenied):
        request_identity_link(
            request=request, by=staff.quality_officer, kind=IdentityKind.X, value="12345"
        )


def test_history_across_channels_within_reach(  # noqa: PLR0917
    ministry, staff, sara, khalid, sms, makkah_sms
):
    # Given sara's requests at Riyadh (portal, and one opened from her SMS) and at Makkah
    portal = submit(ministry, sara)
    makkah = submit(ministry, sara, ministry.makkah)
    first, waiting = received(sms), received(sms)  # two short SMS from her number
    from_sms = inbound_review_open(
        first, by=staff.riyadh_agent, kind="complaint", category=ministry.exams
    )
    received(makkah_sms)  # hers, but at Makkah's account
    submit(ministry, khalid)  # someone else's

    # When the Riyadh agent looks at her history through her portal request
    history = beneficiary_history(staff.riyadh_agent, request=portal)

    # Then they see her Riyadh requests, newest first, one out of reach, and her messages
    assert [r.pk for r in history.requests] == [from_sms.pk, portal.pk]
    assert history.out_of_reach == 1
    assert [m.pk for m in history.inbound] == [waiting.pk, first.pk]
    assert [i.kind for i in history.identities] == [IdentityKind.MOBILE]
    # And the central agent sees all three requests and every message
    everything = beneficiary_history(staff.central_agent, request=makkah)
    assert (len(everything.requests), everything.out_of_reach, len(everything.inbound)) == (
        3,
        0,
        3,
    )


# --- statistics ----------------------------------------------------------------------------

RIYADH = ZoneInfo("Asia/Riyadh")
OCTOBER = period_containing(Grain.MONTH, dt.date(2026, 10, 15))


def test_sms_requests_are_counted_under_their_label(ministry, staff, sara):
    # Given ten requests in October 2026: five by SMS, five from the portal
    when = dt.datetime(2026, 10, 5, 10, tzinfo=RIYADH)
    for channel in ["sms", "portal"] * 5:
        submitted_on(sara, ministry.riyadh, when=when, category=ministry.exams, channel=channel)
    insights_summarise(first=OCTOBER.first, last=OCTOBER.last)

    # Then the dashboard counts them under "SMS" in either language
    for language, label in (("ar", "رسالة نصية"), ("en", "SMS")):
        with translation.override(language):
            rows = insights_volume(
                user=staff.central_supervisor, period=OCTOBER, dimension="channel"
            )
            assert {(row.key, row.label, row.current) for row in rows} >= {("sms", label, 5)}
    # And the open statistics publish the count with its bilingual label
    table = next(t for t in open_statistics(period=OCTOBER).tables if t.key == "channel")
    sms_row = next(row for row in table.rows if row.key == "sms")
    assert (sms_row.label.ar, sms_row.label.en, sms_row.current.value) == (
        "رسالة نصية",
        "SMS",
        5,
    )
