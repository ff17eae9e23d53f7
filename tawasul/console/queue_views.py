"""The queue pages: work lists with filters, keyset pages and saved views.

Without JavaScript every filter and page is an ordinary address; with htmx the
same addresses answer the results block alone (the `HX-Target` is
`queue-results`), which the page swaps in place.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tawasul.cases.queues import (
    COUNT_CAP,
    QUEUE_LABELS,
    Queue,
    queue_count,
    queue_counts,
    queue_filter,
    queue_page,
    queue_requests,
    sla_badge,
)
from tawasul.console.access import staff_required
from tawasul.console.models import SavedView
from tawasul.console.queue_forms import QueueFilterForm, SavedViewForm
from tawasul.console.services import (
    saved_view_create,
    saved_view_delete,
    saved_view_for,
)
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.insights.suggestions import suggestions_differing

RESULTS_TARGET = "queue-results"
_PAGING = ("after", "before")


def _queue_of(request: HttpRequest, name: str) -> tuple[Queue, SavedView | None]:
    """The queue named in the address: a built-in one or one of the user's saved views."""
    if name.startswith("saved-") and name[6:].isdigit():
        try:
            saved = saved_view_for(user=request.user, saved_view_id=int(name[6:]))  # type: ignore[arg-type]
        except NotFound as error:
            raise Http404(str(error)) from error
        if saved.queue in Queue.__members__.values():
            return Queue(saved.queue), saved
        return Queue.SUBTREE, saved
    if name in Queue.__members__.values():
        return Queue(name), None
    raise Http404(_("No such queue."))


def _parameters(request: HttpRequest, saved: SavedView | None) -> QueryDict:
    """The address's filters, over the saved view's own when there is one."""
    params = QueryDict(saved.query if saved else "", mutable=True)
    for key in request.GET:
        params.setlist(key, request.GET.getlist(key))
    return params


def _with(params: QueryDict, **changes: str) -> str:
    """The query string of `params` without paging tokens, plus `changes`."""
    pairs = [(k, v) for k in params for v in params.getlist(k) if k not in _PAGING and v]
    pairs += list(changes.items())
    return "?" + urlencode(pairs) if pairs else "?"


def _counts(request: HttpRequest) -> list[dict[str, Any]]:
    """Each queue with its (capped) count, kept a few seconds (`queue_counts`)."""
    counts = queue_counts(request.user)
    return [
        {"name": queue.value, "label": QUEUE_LABELS[queue], "count": counts[queue]}
        for queue in Queue
    ]


@require_GET
@staff_required
def queue_view(request: HttpRequest, name: str) -> HttpResponse:
    queue, saved = _queue_of(request, name)
    params = _parameters(request, saved)
    form = QueueFilterForm(params, user=request.user)
    form.is_valid()
    requests = queue_filter(queue_requests(user=request.user, queue=queue), form.filters())
    page = queue_page(
        requests,
        sort=form.chosen_sort(),
        after=params.get("after", ""),
        before=params.get("before", ""),
    )
    now = timezone.now()
    # triage: the routing suggestions that differ from a row's category or entity
    suggested = suggestions_differing(page.rows)
    for row in page.rows:
        setattr(row, "suggested", suggested.get(row.pk, {}))  # noqa: B010 (read by the template)
    context: dict[str, Any] = {
        "queue": queue,
        "queue_name": name,
        "queue_label": saved.name if saved else QUEUE_LABELS[queue],
        "saved": saved,
        "form": form,
        "rows": [(row, sla_badge(row, now=now)) for row in page.rows],
        "total": queue_count(requests),
        "count_cap": COUNT_CAP,
        "next_query": _with(params, after=page.next_cursor) if page.next_cursor else "",
        "previous_query": _with(params, before=page.previous_cursor)
        if page.previous_cursor
        else "",
        "filter_query": _with(params)[1:],
    }
    if request.headers.get("HX-Target") == RESULTS_TARGET:
        response = render(request, "console/queue_rows.html", context)
    else:
        context["queues"] = _counts(request)
        context["saved_views"] = SavedView.objects.filter(user=request.user)  # type: ignore[misc]
        context["save_form"] = SavedViewForm(initial={"query": context["filter_query"]})
        response = render(request, "console/queue.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_POST
@staff_required
def queue_save(request: HttpRequest, name: str) -> HttpResponse:
    queue, _saved = _queue_of(request, name)
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(reverse("console:queue", args=[name]))
    try:
        saved = saved_view_create(
            user=request.user,  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
            queue=queue.value,
            query=form.cleaned_data["query"],
        )
    except InvalidInput as error:
        messages.error(request, str(error))
        return redirect(reverse("console:queue", args=[name]))
    messages.success(request, _("View saved."))
    return redirect(reverse("console:queue", args=[f"saved-{saved.pk}"]))


@require_POST
@staff_required
def saved_view_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        saved_view_delete(user=request.user, saved_view_id=pk)  # type: ignore[arg-type]
    except NotFound as error:
        raise Http404(str(error)) from error
    messages.success(request, _("View deleted."))
    return redirect(reverse("console:queue", args=[Queue.MINE.value]))


urlpatterns: list[URLPattern] = [
    path("queues/<str:name>/", queue_view, name="queue"),
    path("queues/<str:name>/save/", queue_save, name="queue_save"),
    path("saved-views/<int:pk>/delete/", saved_view_remove, name="saved_view_delete"),
]
