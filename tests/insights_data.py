"""Dated requests for the insights tests (dashboards, reports, open statistics): submitted
and answered through the services, then moved to the moment the test needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tawasul.cases.models import Request, SlaState
from tawasul.cases.services import request_answer, request_claim, request_start, request_submit


def submitted_on(
    who: Any,
    entity: Any,
    *,
    when: dt.datetime,
    category: Any,
    kind: str = "complaint",
    channel: str = "portal",
    subject: str = "Exam results are late",
    description: str = "My daughter's results do not show in the system.",
) -> Request:
    request = request_submit(
        beneficiary=who,
        kind=kind,
        category=category,
        subject=subject,
        description=description,
        entity=entity,
        channel=channel,
    )
    Request.objects.filter(pk=request.pk).update(created_at=when)
    request.refresh_from_db()
    return request


def answered_on(
    request: Request,
    agent: Any,
    *,
    when: dt.datetime | None,
    met: bool = True,
    resolution: str = "The results are now on Noor.",
) -> None:
    """Claim, start and answer; then date the answer (`when`) with its SLA outcome."""
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    request_answer(request=request, by=agent, resolution=resolution)
    if when is not None:
        Request.objects.filter(pk=request.pk).update(
            answered_at=when,
            sla_resolution_state=SlaState.MET if met else SlaState.BREACHED,
            sla_first_response_state=SlaState.MET,
        )
