"""The console queues: membership per persona, isolation, filters, sorting, keyset pages,
constant query counts and saved views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import (
    Channel,
    Kind,
    Priority,
    Request,
    SlaStage,
    SlaState,
    Status,
)
from tawasul.cases.services import request_assign, request_claim, request_submit
from tawasul.console.models import SavedView
from tawasul.core.ids import tracking_number_display
from tests.conftest import Ministry, Staff

pytestmark = pytest.mark.django_db
QUEUES = ["mine", "unassigned", "subtree", "at_risk", "overdue", "waiting", "answered"]


def submit(
    ministry: Ministry, who: Beneficiary, entity, subject: str = "Exam results missing", **extra
):  # type: ignore[no-untyped-def]
    return request_submit(
        beneficiary=who,
        kind=extra.pop("kind", Kind.COMPLAINT),
        category=extra.pop("category", ministry.exams),
        subject=subject,
        description="My son's results do not show in the system.",
        entity=entity,
        **extra,
    )


def listed(client: Client, queue: str, **params: str) -> set[str]:
    response = client.get(reverse("console:queue", args=[queue]), params)
    assert response.status_code == 200
    return {row.tracking_number for row, _badge in response.context["rows"]}


@pytest.fixture
def world(
    ministry: Ministry, staff: Staff, sara: Beneficiary, khalid: Beneficiary
) -> dict[str, Request]:
    """Requests in Riyadh, its office, Makkah and the university, in several states."""
    now = timezone.now()
    riyadh_new = submit(ministry, sara, ministry.riyadh, "Riyadh new")
    riyadh_mine = submit(
        ministry, sara, ministry.riyadh, "Riyadh claimed", priority=Priority.URGENT
    )
    request_claim(request=riyadh_mine, by=staff.riyadh_agent)
    office = submit(
        ministry,
        khalid,
        ministry.riyadh_office,
        "Office transfer",
        kind=Kind.INQUIRY,
        category=ministry.transfer,
        channel=Channel.CALL_CENTRE,
    )
    makkah = submit(ministry, sara, ministry.makkah, "Makkah complaint")
    makkah_overdue = submit(ministry, sara, ministry.makkah, "Makkah overdue")
    university = submit(ministry, khalid, ministry.university, "University praise")
    riyadh_overdue = submit(ministry, sara, ministry.riyadh, "Riyadh overdue")
    riyadh_risk = submit(ministry, sara, ministry.riyadh, "Riyadh at risk")
    riyadh_waiting = submit(ministry, sara, ministry.riyadh, "Riyadh waiting")
    riyadh_answered = submit(ministry, sara, ministry.riyadh, "Riyadh answered")
    # Arranging states directly (the workflow's own tests cover how they are reached).
    Request.objects.filter(pk__in=[riyadh_overdue.pk, makkah_overdue.pk]).update(
        status=Status.IN_PROGRESS,
        sla_stage=SlaStage.BREACHED,
        sla_resolution_state=SlaState.BREACHED,
        resolution_due=now - timedelta(days=2),
    )
    Request.objects.filter(pk=riyadh_risk.pk).update(
        status=Status.IN_PROGRESS,
        sla_stage=SlaStage.WARNED,
        sla_resolution_state=SlaState.RUNNING,
        resolution_due=now + timedelta(hours=3),
    )
    Request.objects.filter(pk=riyadh_waiting.pk).update(
        status=Status.AWAITING_BENEFICIARY, sla_resolution_state=SlaState.PAUSED
    )
    Request.objects.filter(pk=riyadh_answered.pk).update(
        status=Status.ANSWERED, sla_resolution_state=SlaState.MET
    )
    return {
        "riyadh_new": riyadh_new,
        "riyadh_mine": riyadh_mine,
        "office": office,
        "makkah": makkah,
        "makkah_overdue": makkah_overdue,
        "university": university,
        "riyadh_overdue": riyadh_overdue,
        "riyadh_risk": riyadh_risk,
        "riyadh_waiting": riyadh_waiting,
        "riyadh_answered": riyadh_answered,
    }


def numbers(world: dict[str, Request], *names: str) -> set[str]:
    return {world[name].tracking_number for name in names}


RIYADH = (
    "riyadh_new",
    "riyadh_mine",
    "office",
    "riyadh_overdue",
    "riyadh_risk",
    "riyadh_waiting",
    "riyadh_answered",
)


def test_riyadh_agent_queue_membership(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.riyadh_agent)
    assert listed(client, "mine") == numbers(world, "riyadh_mine")
    assert listed(client, "unassigned") >= numbers(world, "riyadh_new", "office")
    assert world["riyadh_mine"].tracking_number not in listed(client, "unassigned")
    assert listed(client, "subtree") == numbers(world, *RIYADH)
    assert listed(client, "overdue") == numbers(world, "riyadh_overdue")
    assert listed(client, "at_risk") == numbers(world, "riyadh_risk")
    assert listed(client, "waiting") == numbers(world, "riyadh_waiting")
    assert listed(client, "answered") == numbers(world, "riyadh_answered")


@pytest.mark.parametrize("queue", QUEUES)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"entity": "makkah"},
        {"q": "Makkah"},
        {"status": "in_progress"},
        {"sla": "breached"},
        {"q": "tracking"},
        {"sort": "due"},
    ],
    ids=["plain", "entity", "text", "status", "sla", "number", "sort"],
)
def test_riyadh_agent_never_sees_makkah_in_any_queue_or_filter(  # noqa: PLR0917
    client: Client,
    staff: Staff,
    ministry: Ministry,
    world: dict[str, Request],
    queue: str,
    params: dict[str, str],
) -> None:
    client.force_login(staff.riyadh_agent)
    if params.get("entity") == "makkah":
        params = {"entity": str(ministry.makkah.pk)}
    if params.get("q") == "tracking":
        params = {"q": tracking_number_display(world["makkah"].tracking_number)}
    shown = listed(client, queue, **params)
    assert not shown & numbers(world, "makkah", "makkah_overdue", "university")


def test_makkah_agent_sees_only_makkah(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.makkah_agent)
    assert listed(client, "subtree") == numbers(world, "makkah", "makkah_overdue")
    assert listed(client, "overdue") == numbers(world, "makkah_overdue")


def test_central_supervisor_sees_everything(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.central_supervisor)
    assert listed(client, "subtree") == numbers(world, *world.keys())
    assert listed(client, "overdue") == numbers(world, "riyadh_overdue", "makkah_overdue")
    assert listed(client, "mine") == set()


def test_executive_reads_the_subtree_but_has_nothing_to_work(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.executive)
    assert listed(client, "subtree") == numbers(world, *world.keys())
    assert listed(client, "unassigned") == set()  # unassigned is for those who may work


def test_unknown_queue_and_others_saved_view_are_404(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    saved = SavedView.objects.create(user=staff.riyadh_agent2, name="theirs", queue="subtree")
    client.force_login(staff.riyadh_agent)
    assert client.get(reverse("console:queue", args=["everything"])).status_code == 404
    assert client.get(reverse("console:queue", args=[f"saved-{saved.pk}"])).status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "awaiting_beneficiary"}, ("riyadh_waiting",)),
        ({"kind": "inquiry"}, ("office",)),
        ({"channel": "call_centre"}, ("office",)),
        ({"priority": "urgent"}, ("riyadh_mine",)),
        ({"sla": "breached"}, ("riyadh_overdue", "makkah_overdue")),
        ({"sla": "warned"}, ("riyadh_risk",)),
        ({"sla": "paused"}, ("riyadh_waiting",)),
        ({"sla": "met"}, ("riyadh_answered",)),
        ({"q": "overdue"}, ("riyadh_overdue", "makkah_overdue")),
    ],
)
def test_each_filter(
    client: Client,
    staff: Staff,
    world: dict[str, Request],
    params: dict[str, str],
    expected: tuple[str, ...],
) -> None:
    client.force_login(staff.central_supervisor)
    assert listed(client, "subtree", **params) == numbers(world, *expected)


def test_category_and_entity_filters_include_the_subtree(
    client: Client, staff: Staff, ministry: Ministry, world: dict[str, Request]
) -> None:
    client.force_login(staff.central_supervisor)
    assert listed(client, "subtree", category=str(ministry.transfer.pk)) == numbers(world, "office")
    assert listed(client, "subtree", entity=str(ministry.riyadh.pk)) == numbers(world, *RIYADH)
    assert listed(client, "subtree", entity=str(ministry.sector.pk)) == numbers(
        world, *RIYADH, "makkah", "makkah_overdue"
    )


def test_tracking_number_search_finds_exactly_one(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.central_supervisor)
    typed = tracking_number_display(world["office"].tracking_number)
    assert listed(client, "subtree", q=typed) == numbers(world, "office")


def test_arabic_word_search_finds_the_subjects_containing_it(
    client: Client, staff: Staff, ministry: Ministry, sara: Beneficiary
) -> None:
    # Given two requests whose subjects contain a word, one that does not
    late = submit(ministry, sara, ministry.riyadh, "تأخر رصد درجات ابني في الرياضيات")
    later = submit(ministry, sara, ministry.riyadh, "سبب التأخر في صرف المكافأة")
    other = submit(ministry, sara, ministry.riyadh, "استفسار عن موعد الاختبارات")
    client.force_login(staff.central_supervisor)

    # When the supervisor searches for the word (inside a longer word, too)
    found = listed(client, "subtree", q="تأخر")

    # Then both requests that contain it are listed, and not the other one
    assert found == {late.tracking_number, later.tracking_number}
    assert other.tracking_number not in found


def test_text_search_can_use_the_trigram_index_on_postgresql(
    ministry: Ministry, sara: Beneficiary
) -> None:
    from django.db import connection, transaction

    from tawasul.cases.queues import QueueFilters, queue_filter

    if connection.vendor != "postgresql":
        pytest.skip("the trigram index exists on PostgreSQL only")
    submit(ministry, sara, ministry.riyadh, "تأخر رصد درجات")
    search = queue_filter(Request.objects.all(), QueueFilters(q="تأخر"))
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of rows: forbid the scans a small table prefers, to see the index match
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = search.order_by().values("pk").explain()
    assert "req_search_trgm" in plan, plan


def test_date_range_filter_uses_local_dates(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.central_supervisor)
    today = timezone.localdate()
    Request.objects.filter(pk=world["makkah"].pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    assert world["makkah"].tracking_number not in listed(
        client, "subtree", **{"from": today.isoformat()}
    )
    old = listed(client, "subtree", to=(today - timedelta(days=5)).isoformat())
    assert old == numbers(world, "makkah")


def test_invalid_filter_values_are_reported_not_fatal(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.riyadh_agent)
    response = client.get(
        reverse("console:queue", args=["subtree"]), {"status": "bogus", "from": "x"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_sort_orders(client: Client, staff: Staff, world: dict[str, Request]) -> None:
    client.force_login(staff.central_supervisor)
    url = reverse("console:queue", args=["subtree"])

    def order(sort: str) -> list[int]:
        return [row.pk for row, _b in client.get(url, {"sort": sort}).context["rows"]]

    newest = order("-created")
    assert newest == sorted(newest, reverse=True)  # created in pk order in this fixture
    assert order("created") == list(reversed(newest))
    assert order("priority")[0] == world["riyadh_mine"].pk  # the urgent one
    due = order("due")
    assert due[0] in {world["riyadh_overdue"].pk, world["makkah_overdue"].pk}
    assert order("-due")[0] not in {world["riyadh_overdue"].pk, world["makkah_overdue"].pk}


@pytest.mark.parametrize("sort", ["-created", "created", "due", "-due", "priority"])
def test_keyset_pages_cover_every_row_exactly_once(
    client: Client, staff: Staff, world: dict[str, Request], sort: str, settings: object
) -> None:
    from tawasul.cases import queues

    client.force_login(staff.central_supervisor)
    url = reverse("console:queue", args=["subtree"])
    original = queues.PAGE_SIZE
    queues.queue_page.__kwdefaults__["size"] = 3  # small pages over the ten requests
    try:
        seen: list[int] = []
        pages: list[list[int]] = []
        query = f"?sort={sort}"
        while True:
            response = client.get(url + query)
            rows = [row.pk for row, _b in response.context["rows"]]
            pages.append(rows)
            seen += rows
            if not response.context["next_query"]:
                break
            query = response.context["next_query"]
        # back again from the last page with `before`
        back = client.get(url + response.context["previous_query"]).context["rows"]
    finally:
        queues.queue_page.__kwdefaults__["size"] = original
    assert sorted(seen) == sorted(r.pk for r in world.values())
    assert len(seen) == len(set(seen))
    assert [row.pk for row, _b in back] == pages[-2]


def test_query_count_is_constant_whatever_the_number_of_requests(
    client: Client,
    staff: Staff,
    ministry: Ministry,
    sara: Beneficiary,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    def cost() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tawasul.cases.queues import queue_counts_forget

        queue_counts_forget(staff.central_supervisor.pk)  # count the tabs too (they are kept)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("console:queue", args=["subtree"])).status_code == 200
        return len(captured)

    client.force_login(staff.central_supervisor)
    for index in range(5):
        request_claim(
            request=submit(ministry, sara, ministry.riyadh, f"First {index}"), by=staff.riyadh_agent
        )
    small = cost()
    for index in range(55):
        created = submit(
            ministry, sara, [ministry.makkah, ministry.university][index % 2], f"More {index}"
        )
        if index % 3 == 0:
            request_assign(
                request=created, assignee=staff.central_agent, by=staff.central_supervisor
            )
    large = cost()
    assert small == large
    with django_assert_num_queries(large - len(QUEUES)):  # the tabs' counts are kept
        client.get(reverse("console:queue", args=["subtree"]))


def tab_counts(client: Client) -> dict[str, int]:
    import re

    body = client.get(reverse("console:queue", args=["subtree"])).content.decode()
    found = re.findall(r'queues/([a-z_]+)/"[^>]*>[^<]*<span class="count">(\d+)', body)
    return {name: int(count) for name, count in found}


def test_tab_counts_are_kept_for_a_while_and_the_users_own_work_refreshes_them(
    client: Client,
    staff: Staff,
    ministry: Ministry,
    sara: Beneficiary,
    settings,
    *,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    settings.TAWASUL_QUEUE_COUNTS_SECONDS = 30
    first = submit(ministry, sara, ministry.riyadh, "First")
    client.force_login(staff.riyadh_agent)
    before = tab_counts(client)
    assert (before["unassigned"], before["mine"]) == (1, 0)

    # Someone else's new request: the tabs keep their counts (the list itself is live)
    submit(ministry, sara, ministry.riyadh, "Second")
    page = client.get(reverse("console:queue", args=["unassigned"])).content.decode()
    assert tab_counts(client) == before
    assert "Second" in page

    # The user's own work shows at once (once it commits)
    with django_capture_on_commit_callbacks(execute=True):
        request_claim(request=first, by=staff.riyadh_agent)
    after = tab_counts(client)
    assert (after["unassigned"], after["mine"]) == (1, 1)


def test_tab_counts_are_live_when_keeping_is_off(
    client: Client, staff: Staff, ministry: Ministry, sara: Beneficiary, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.TAWASUL_QUEUE_COUNTS_SECONDS = 0
    submit(ministry, sara, ministry.riyadh, "First")
    client.force_login(staff.riyadh_agent)
    assert tab_counts(client)["unassigned"] == 1
    submit(ministry, sara, ministry.riyadh, "Second")
    assert tab_counts(client)["unassigned"] == 2


def test_counts_are_capped(
    client: Client, staff: Staff, world: dict[str, Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tawasul.console.queue_views as views

    monkeypatch.setattr(views, "COUNT_CAP", 3)
    monkeypatch.setattr(views.queue_count, "__defaults__", (3,))
    client.force_login(staff.central_supervisor)
    response = client.get(reverse("console:queue", args=["subtree"]))
    assert b"More than 3 requests" in response.content or "3+" in response.content.decode()


def test_htmx_request_gets_only_the_results(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.riyadh_agent)
    url = reverse("console:queue", args=["subtree"])
    partial = client.get(
        url, {"q": "waiting"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="queue-results"
    )
    full = client.get(url, {"q": "waiting"})
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert b'id="queue-results"' in partial.content
    assert b"Riyadh waiting" in partial.content
    assert b"<html" in full.content
    assert b'id="queue-results"' in full.content


def test_saved_views_are_per_user(client: Client, staff: Staff, world: dict[str, Request]) -> None:
    # given the agent saves the subtree filtered on "overdue"
    client.force_login(staff.riyadh_agent)
    response = client.post(
        reverse("console:queue_save", args=["subtree"]),
        {"name": "My overdue", "query": "q=overdue&after=zzz"},
    )
    saved = SavedView.objects.get(user=staff.riyadh_agent)
    assert saved.query == "q=overdue"
    assert response.url == reverse("console:queue", args=[f"saved-{saved.pk}"])
    # then opening it applies the filter
    assert listed(client, f"saved-{saved.pk}") == numbers(world, "riyadh_overdue")
    page = client.get(reverse("console:queue", args=["mine"]))
    assert b"My overdue" in page.content
    # and another agent neither lists it nor opens nor deletes it
    client.force_login(staff.riyadh_agent2)
    assert b"My overdue" not in client.get(reverse("console:queue", args=["mine"])).content
    assert client.get(reverse("console:queue", args=[f"saved-{saved.pk}"])).status_code == 404
    assert client.post(reverse("console:saved_view_delete", args=[saved.pk])).status_code == 404
    # while its owner deletes it
    client.force_login(staff.riyadh_agent)
    client.post(reverse("console:saved_view_delete", args=[saved.pk]))
    assert not SavedView.objects.filter(pk=saved.pk).exists()


def test_rows_show_the_sla_badge_and_link_columns(
    client: Client, staff: Staff, world: dict[str, Request]
) -> None:
    client.force_login(staff.riyadh_agent)
    response = client.get(reverse("console:queue", args=["subtree"]))
    badges = {row.tracking_number: badge.code for row, badge in response.context["rows"]}
    assert badges[world["riyadh_overdue"].tracking_number] == "breached"
    assert badges[world["riyadh_risk"].tracking_number] == "warned"
    assert badges[world["riyadh_waiting"].tracking_number] == "paused"
    assert tracking_number_display(world["riyadh_new"].tracking_number).encode() in response.content


@pytest.mark.parametrize(
    "values",
    [
        ["2026-02-30T10:00:00+03:00", 5],  # a date that does not exist
        ["2026-01-10T10:00:00", 5],  # no time zone
        ["2026-01-10T10:00:00+03:00", 2**70],  # beyond the database's integers
        ["9999-12-31T23:59:59-23:59", 5],  # overflows when moved to UTC
    ],
)
def test_an_unusable_cursor_shows_the_first_page_not_an_error(
    client: Client, staff: Staff, world: dict[str, Request], values: list[object]
) -> None:
    import base64
    import json

    token = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    client.force_login(staff.riyadh_agent)
    assert listed(client, "subtree", after=token) == listed(client, "subtree")
