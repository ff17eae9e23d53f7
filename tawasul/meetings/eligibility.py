"""Who may ask to meet the minister. Each rule is a small function that returns a
`Refusal` (a code and a reason the person can read in Arabic and English) or None.

Rules in force are named in `TAWASUL_MEETING_RULES`:
- `settled_request`: at least one of the requests the meeting follows up was answered
  or closed, or had an objection rejected — the ordinary channel was tried first;
- `one_open`: at most `TAWASUL_MEETING_MAX_OPEN` open meeting requests per person;
- `cooling_off`: `TAWASUL_MEETING_COOLING_OFF_DAYS` days after the person's last held
  meeting before they may ask again.
`meeting_eligibility` returns every failed rule, so the portal can explain them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Request, Status
from tawasul.core.templatetags.tawasul_dates import dual_date_label
from tawasul.feedback.models import ObjectionOutcome
from tawasul.meetings.models import OPEN_MEETING_STATUSES, MeetingRequest, MeetingStatus

SETTLED_STATUSES = (Status.ANSWERED, Status.CLOSED)


@dataclass(frozen=True)
class Refusal:
    """Why a rule refuses: a stable code and a readable reason."""

    code: str
    message: str | Promise
    details: dict[str, Any] = field(default_factory=dict)

    def messages(self) -> dict[str, str]:
        """The reason in Arabic and in English."""
        result = {}
        for language in ("ar", "en"):
            with translation.override(language):
                result[language] = str(self.message)
        return result

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.messages(), "details": self.details}


@dataclass(frozen=True)
class Applicant:
    """What the rules look at: the person, the requests followed up, and now."""

    beneficiary: Beneficiary
    follow_ups: Sequence[Request]
    now: dt.datetime


Rule = Callable[[Applicant], Refusal | None]


def settled_requests(beneficiary: Beneficiary) -> QuerySet[Request]:
    """The person's requests that count for `settled_request`: answered, closed (not as
    merged), or with a rejected objection."""
    return Request.objects.filter(beneficiary_id=beneficiary.pk).filter(
        Q(status__in=SETTLED_STATUSES, merged_into__isnull=True)
        | Q(objections__outcome=ObjectionOutcome.REJECTED)
    )


def rule_settled_request(applicant: Applicant) -> Refusal | None:
    ids = [request.pk for request in applicant.follow_ups]
    if ids and settled_requests(applicant.beneficiary).filter(pk__in=ids).exists():
        return None
    return Refusal(
        code="no_settled_request",
        message=_(
            "A meeting follows up an earlier request of yours that was answered or closed, "
            "or whose objection was decided. Choose at least one such request."
        ),
    )


def rule_one_open(applicant: Applicant) -> Refusal | None:
    limit = int(settings.TAWASUL_MEETING_MAX_OPEN)
    open_meetings = MeetingRequest.objects.filter(
        beneficiary_id=applicant.beneficiary.pk, status__in=OPEN_MEETING_STATUSES
    )
    if open_meetings.count() < limit:
        return None
    return Refusal(
        code="meeting_already_open",
        message=_(
            "You already have a meeting request in progress. You may ask again once it is "
            "finished or withdrawn."
        ),
        details={"limit": limit},
    )


def rule_cooling_off(applicant: Applicant) -> Refusal | None:
    days = int(settings.TAWASUL_MEETING_COOLING_OFF_DAYS)
    last = (
        MeetingRequest.objects.filter(
            beneficiary_id=applicant.beneficiary.pk,
            status=MeetingStatus.HELD,
            held_at__isnull=False,
        )
        .order_by("-held_at")
        .values_list("held_at", flat=True)
        .first()
    )
    if last is None:
        return None
    allowed_from = last + dt.timedelta(days=days)
    if applicant.now >= allowed_from:
        return None
    return Refusal(
        code="cooling_off",
        message=format_lazy(
            _("You met the ministry recently. You may ask for a new meeting from {date}."),
            date=dual_date_label(allowed_from),
        ),
        details={"days": days, "allowed_from": allowed_from.isoformat()},
    )


RULES: dict[str, Rule] = {
    "settled_request": rule_settled_request,
    "one_open": rule_one_open,
    "cooling_off": rule_cooling_off,
}


def meeting_rules_in_force() -> list[Rule]:
    """The rules named in TAWASUL_MEETING_RULES (an unknown name is a settings error)."""
    names = list(settings.TAWASUL_MEETING_RULES)
    unknown = [name for name in names if name not in RULES]
    if unknown:
        raise ValueError(f"Unknown TAWASUL_MEETING_RULES: {unknown}; known: {sorted(RULES)}")
    return [RULES[name] for name in names]


@dataclass(frozen=True)
class RuleCheck:
    """One rule in force as the person sees it: passed, with what it asks, or refused, with why."""

    code: str
    passed: bool
    message: str | Promise
    refusal: Refusal | None = None


RULE_SUMMARIES: dict[str, Promise] = {
    "settled_request": _(
        "The meeting follows up an earlier request of yours that was answered or closed, "
        "or whose objection was decided."
    ),
    "one_open": _("You have no other meeting request in progress."),
    "cooling_off": _("Some time has passed since your last meeting with the ministry."),
}


def meeting_rules_check(
    *,
    beneficiary: Beneficiary,
    follow_ups: Sequence[Request] | None = None,
    now: dt.datetime | None = None,
) -> list[RuleCheck]:
    """Every rule in force, passed or not: what the portal and the app show before a
    person asks. Without `follow_ups`, the person's settled requests stand in (could any
    request of theirs be followed up?)."""
    rules = meeting_rules_in_force()
    if follow_ups is None:
        follow_ups = list(settled_requests(beneficiary).order_by("-created_at")[:1])
    applicant = Applicant(beneficiary=beneficiary, follow_ups=follow_ups, now=now or timezone.now())
    checks = []
    for name, rule in zip(settings.TAWASUL_MEETING_RULES, rules, strict=True):
        refusal = rule(applicant)
        message = refusal.message if refusal is not None else RULE_SUMMARIES[name]
        checks.append(
            RuleCheck(code=name, passed=refusal is None, message=message, refusal=refusal)
        )
    return checks


def meeting_eligibility(
    *,
    beneficiary: Beneficiary,
    follow_ups: Sequence[Request] = (),
    now: dt.datetime | None = None,
) -> list[Refusal]:
    """Every rule in force that refuses this person now (empty: eligible)."""
    applicant = Applicant(beneficiary=beneficiary, follow_ups=follow_ups, now=now or timezone.now())
    refusals = (rule(applicant) for rule in meeting_rules_in_force())
    return [refusal for refusal in refusals if refusal is not None]
