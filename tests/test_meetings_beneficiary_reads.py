"""The beneficiary's reads of the meetings app: every rule in force as the person sees it
(`meeting_rules_check`), a keyset page of their meeting requests, and one request's
public detail (timeline, follow-ups, periods, offered slots, booking)."""

from __future__ import annotations

import pytest

from tawasul.meetings.eligibility import meeting_rules_check
from tawasul.meetings.scheduling import meeting_offer, meeting_pick
from tawasul.meetings.selectors import meeting_public_detail, meetings_of_beneficiary_page
from tawasul.meetings.services import meeting_note
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    approved,
    minister_fixture,
    settled_fixture,
    slot,
    submit,
)

pytestmark = pytest.mark.django_db


def _summary(checks):
    return [(check.code, check.passed) for check in checks]


def test_rules_check_shows_every_rule_met_with_what_it_asks(sara, settled):
    checks = meeting_rules_check(beneficiary=sara)
    assert _summary(checks) == [
        ("settled_request", True),
        ("one_open", True),
        ("cooling_off", True),
    ]
    assert all(check.refusal is None for check in checks)
    assert str(checks[1].message) != ""


def test_rules_check_shows_the_refusals_among_the_rules(sara, settled):
    submit(sara, [settled])
    checks = meeting_rules_check(beneficiary=sara, follow_ups=[])
    assert _summary(checks) == [
        ("settled_request", False),
        ("one_open", False),
        ("cooling_off", True),
    ]
    assert checks[1].refusal is not None
    assert checks[1].refusal.code == "meeting_already_open"
    assert checks[1].message == checks[1].refusal.message


def test_rules_check_without_a_settled_request(sara, ministry):
    assert _summary(meeting_rules_check(beneficiary=sara))[0] == ("settled_request", False)


def test_rules_check_follows_the_settings(settings, sara):
    settings.TAWASUL_MEETING_RULES = ["one_open"]
    assert _summary(meeting_rules_check(beneficiary=sara)) == [("one_open", True)]
    settings.TAWASUL_MEETING_RULES = ["nonsense"]
    with pytest.raises(ValueError, match="nonsense"):
        meeting_rules_check(beneficiary=sara)


def test_the_keyset_page_is_newest_first_and_stable(settings, sara, khalid, settled):
    settings.TAWASUL_MEETING_MAX_OPEN = 10
    meetings = [submit(sara, [settled], subject=f"موضوع {n}") for n in range(3)]
    first = meetings_of_beneficiary_page(sara, limit=2)
    assert first == [meetings[2], meetings[1]]
    after = (first[-1].created_at, first[-1].pk)
    assert meetings_of_beneficiary_page(sara, after=after, limit=2) == [meetings[0]]
    assert meetings_of_beneficiary_page(khalid) == []


def test_public_detail_through_the_lifecycle(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    meeting_note(meeting=meeting, by=staff.executive, body="ملاحظة داخلية")
    detail = meeting_public_detail(meeting)
    assert [entry.kind for entry in detail.timeline] == ["submitted", "forwarded", "approved"]
    assert detail.follow_ups == [settled]
    assert len(detail.preferences) == 1
    assert (detail.offered, detail.booking, detail.can_pick) == ([], None, False)
    assert detail.can_withdraw
    one, two = slot(staff, minister, days=3), slot(staff, minister, days=4)
    meeting_offer(meeting=meeting, slots=[two, one], by=staff.executive)
    meeting.refresh_from_db()
    detail = meeting_public_detail(meeting)
    assert detail.offered == [one, two]
    assert detail.can_pick
    meeting_pick(meeting=meeting, beneficiary=sara, slot=one)
    meeting.refresh_from_db()
    detail = meeting_public_detail(meeting)
    assert detail.booking is not None
    assert detail.booking.slot == one
    assert (detail.offered, detail.can_pick) == ([], False)
