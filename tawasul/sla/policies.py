"""Which SLA policy governs a request: the most specific active one, else the defaults.

Specificity is the number of criteria (centre, kind, category, priority) a policy
sets and matches; a deeper category breaks a tie, then the older policy (lowest pk).
With no policy matching, the built-in defaults of the service-level document
apply: first response within 1 working day, resolution within 5, objection
review within 10, a warning at 75 % and escalation 1 working day after a breach.
"""

from __future__ import annotations

from dataclasses import dataclass

from tawasul.cases.models import Category, Request
from tawasul.core.memo import memoised
from tawasul.directory.models import CareCentre
from tawasul.sla.models import WORKING_DAY_MINUTES, SlaPolicy


@dataclass(frozen=True)
class SlaTargets:
    """The targets a clock runs against, in business minutes (policy_id None: defaults)."""

    policy_id: int | None
    first_response_minutes: int
    resolution_minutes: int
    objection_review_minutes: int
    warning_percent: int
    escalation_minutes: int


DEFAULT_TARGETS = SlaTargets(
    policy_id=None,
    first_response_minutes=WORKING_DAY_MINUTES,
    resolution_minutes=5 * WORKING_DAY_MINUTES,
    objection_review_minutes=10 * WORKING_DAY_MINUTES,
    warning_percent=75,
    escalation_minutes=WORKING_DAY_MINUTES,
)


def sla_targets_of(policy: SlaPolicy | None) -> SlaTargets:
    """The targets of a policy row, or the defaults for None."""
    if policy is None:
        return DEFAULT_TARGETS
    return SlaTargets(
        policy_id=policy.pk,
        first_response_minutes=policy.first_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        objection_review_minutes=policy.objection_review_minutes,
        warning_percent=policy.warning_percent,
        escalation_minutes=policy.escalation_minutes,
    )


def sla_policy_for(
    *,
    centre: CareCentre | None,
    kind: str,
    category: Category | None,
    priority: str,
) -> SlaPolicy | None:
    """The most specific active policy matching these criteria, or None (the active
    policies are read once into the reference memo, then matched here)."""
    category_paths = set(_path_and_ancestors(category.path)) if category is not None else set()
    centre_id = centre.pk if centre is not None else None
    candidates = [
        policy
        for policy in _active_policies()
        if policy.centre_id in (None, centre_id)
        and policy.kind in ("", kind)
        and policy.priority in ("", priority)
        and (policy.category is None or policy.category.path in category_paths)
    ]
    return min(candidates, key=_rank, default=None)


def _active_policies() -> list[SlaPolicy]:
    return memoised(
        "sla-policies",
        lambda: list(SlaPolicy.objects.filter(is_active=True).select_related("category")),
    )


def sla_policy_for_request(request: Request) -> SlaPolicy | None:
    """The policy for a request at its current entity's centre."""
    entity_id = request.entity_id
    centre = memoised(
        ("centre-of", entity_id), lambda: CareCentre.objects.filter(entity_id=entity_id).first()
    )
    return sla_policy_for(
        centre=centre, kind=request.kind, category=request.category, priority=request.priority
    )


def _rank(policy: SlaPolicy) -> tuple[int, int, int]:
    """Sort key: more matched criteria first, then the deeper category, then the lowest pk."""
    matched = sum(
        (
            policy.centre_id is not None,
            bool(policy.kind),
            policy.category_id is not None,
            bool(policy.priority),
        )
    )
    depth = policy.category.depth if policy.category is not None else 0
    return (-matched, -depth, policy.pk)


def _path_and_ancestors(path: str) -> list[str]:
    step = Category.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]
