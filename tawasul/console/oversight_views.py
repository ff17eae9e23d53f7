"""Supervisor views (team workload, unassigned ageing, bulk assignment) and the
central centre's view across entities, with drill-down to the queues."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tawasul.cases.oversight import (
    AGE_BUCKET_LABELS,
    EntityFigures,
    Unassigned,
    oversight_by_entity,
    requests_bulk_assign,
    requests_of_agent,
    team_members,
    team_workload,
    unassigned_ageing,
)
from tawasul.cases.queues import OPEN_FILTER, Queue
from tawasul.console.access import staff_required
from tawasul.console.oversight_forms import BulkAssignForm, PeriodForm
from tawasul.directory import access
from tawasul.directory.access import Permission


def _may_assign(request: HttpRequest) -> bool:
    return bool(access.staff_scope(request.user).prefixes(Permission.ASSIGN))


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "console/forbidden.html", status=403)


def _agent_filter(request: HttpRequest) -> int | None:
    value = request.GET.get("agent", "")
    return int(value) if value.isdigit() else None


def _team_page(
    request: HttpRequest, *, form: BulkAssignForm | None = None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    agents = team_members(request.user)
    agent_id = _agent_filter(request)
    unassigned = unassigned_ageing(user=request.user, now=now)
    context: dict[str, Any] = {
        "now": now,
        "workload": team_workload(user=request.user, now=now),
        "unassigned": unassigned,
        "buckets": [
            (bucket, AGE_BUCKET_LABELS[bucket], count)
            for bucket, count in unassigned.buckets.items()
        ],
        "sections": _sections(request, unassigned, agent_id),
        "form": form or BulkAssignForm(agents=agents),
    }
    return render(request, "console/team.html", context, status=status)


def _sections(
    request: HttpRequest, unassigned: Unassigned, agent_id: int | None
) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = [
        {
            "id": "unassigned",
            "title": format_lazy(_("Unassigned requests: {count}"), count=unassigned.total),
            "items": unassigned.oldest,
        }
    ]
    if agent_id is not None:
        sections.append(
            {
                "id": "reassign",
                "title": _("Open requests of the chosen agent"),
                "items": requests_of_agent(user=request.user, agent_id=agent_id),
            }
        )
    return sections


@staff_required
def team(request: HttpRequest) -> HttpResponse:
    """The supervisor's team: workload per agent, unassigned ageing, bulk assignment."""
    if not _may_assign(request):
        return _forbidden(request)
    return _team_page(request)


@staff_required
@require_POST
def team_assign(request: HttpRequest) -> HttpResponse:
    """Assign (or reassign) the ticked requests to one agent, each on its own."""
    if not _may_assign(request):
        return _forbidden(request)
    form = BulkAssignForm(request.POST, agents=team_members(request.user))
    if not form.is_valid():
        return _team_page(request, form=form, status=400)
    result = requests_bulk_assign(
        request_ids=form.cleaned_data["requests"],
        assignee=form.cleaned_data["agent"],
        by=request.user,  # type: ignore[arg-type]
    )
    if result.assigned:
        messages.success(
            request,
            ngettext(
                "%(count)d request assigned.", "%(count)d requests assigned.", len(result.assigned)
            )
            % {"count": len(result.assigned)},
        )
    for failure in result.failed:
        messages.error(
            request,
            format_lazy(_("{request}: {message}"), request=failure.label, message=failure.message),
        )
    return redirect("console:team")


# --- the central centre's view ---------------------------------------------------------


def _queue_url(queue: str, **params: str | int) -> str:
    base = reverse("console:queue", args=[queue])
    return f"{base}?{urlencode(params)}" if params else base


def drill_down_links(row: EntityFigures, since: str) -> dict[str, str]:
    """Where each figure of an entity's row leads: the queue listing those requests,
    narrowed to the entity's subtree (the totals row: the whole reach)."""
    entity: dict[str, str | int] = {"entity": row.entity_id} if row.entity_id else {}
    return {
        "volume": _queue_url(Queue.SUBTREE, **entity, **{"from": since}),
        "backlog": _queue_url(Queue.SUBTREE, **entity, status=OPEN_FILTER),
        "at_risk": _queue_url(Queue.AT_RISK, **entity),
        "overdue": _queue_url(Queue.OVERDUE, **entity),
    }


@staff_required
def oversight(request: HttpRequest) -> HttpResponse:
    """Volume, backlog, at-risk and overdue requests per entity the user may view."""
    form = PeriodForm(request.GET)
    period = form.chosen_period()
    figures = oversight_by_entity(user=request.user, period=period)
    since = timezone.localtime(figures.since).date().isoformat()
    rows = [(row, drill_down_links(row, since)) for row in [*figures.rows, figures.total]]
    context = {
        "form": form,
        "period": period,
        "since": figures.since,
        "rows": rows,
    }
    return render(request, "console/oversight.html", context)


urlpatterns: list[URLPattern] = [
    path("team/", team, name="team"),
    path("team/assign/", team_assign, name="team_assign"),
    path("oversight/", oversight, name="oversight"),
]
