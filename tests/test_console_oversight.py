"""Supervisor views (team workload, unassigned ageing, bulk assignment) and the central
centre's view across entities — figures, isolation, drill-down links, query counts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from tawasul.cases.models import Request, SlaStage, Status
from tawasul.cases.services import (
    request_answer,
    request_assign,
    request_claim,
    request_start,
    request_submit,
)
from tawasul.directory.models import CareCentre, Entity, EntityKind
from tawasul.sla.sweep import sla_sweep

pytestmark = pytest.mark.django_db


def url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args)


def submit(ministry, beneficiary, entity, subject="Exam results date"):
    return request_submit(
        beneficiary=beneficiary,
        kind="inquiry",
        category=ministry.exams,
        subject=subject,
        description="When will the final exam results appear?",
        entity=entity,
    )


def answered(ministry, beneficiary, entity, agent):
    request = submit(ministry, beneficiary, entity)
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    return request_answer(request=request, by=agent, resolution="Results on the 15th, on Noor.")


def breach(request):
    """Let the SLA sweep run past the request's resolution due date."""
    request.refresh_from_db()
    sla_sweep(now=request.resolution_due + dt.timedelta(minutes=1))
    request.refresh_from_db()
    return request


def warn(request):
    """The state the sweep leaves at the warning step (set directly: a sweep run for it
    would move every other request of the test past its own steps too)."""
    Request.objects.filter(pk=request.pk).update(sla_stage=SlaStage.WARNED)
    request.refresh_from_db()
    return request


@pytest.fixture
def workload(ministry, staff, sara, khalid):
    """Riyadh: two requests held by riyadh_agent (one overdue), one answered today by
    riyadh_agent2, one unassigned; Makkah: one held by makkah_agent, one unassigned."""
    late = submit(ministry, sara, ministry.riyadh, subject="Late one")
    request_assign(request=late, assignee=staff.riyadh_agent, by=staff.riyadh_supervisor)
    late = breach(late)  # before the others exist: the sweep only reaches this one
    held = submit(ministry, sara, ministry.riyadh, subject="Held by agent one")
    request_assign(request=held, assignee=staff.riyadh_agent, by=staff.riyadh_supervisor)
    done = answered(ministry, khalid, ministry.riyadh, staff.riyadh_agent2)
    waiting = submit(ministry, khalid, ministry.riyadh, subject="Nobody has it")
    makkah_held = submit(ministry, sara, ministry.makkah, subject="Makkah held")
    request_claim(request=makkah_held, by=staff.makkah_agent)
    makkah_waiting = submit(ministry, sara, ministry.makkah, subject="Makkah waiting")
    return {
        "held": held,
        "late": late,
        "done": done,
        "waiting": waiting,
        "makkah_held": makkah_held,
        "makkah_waiting": makkah_waiting,
    }


# --- team ----------------------------------------------------------------------------------


def test_team_figures_cover_only_the_supervisors_entity(client, staff, workload):
    # given requests in Riyadh and Makkah (fixture); makkah_agent assigned their own
    # when the Riyadh supervisor opens the team page
    client.force_login(staff.riyadh_supervisor)
    response = client.get(url("console:team"))
    # then each Riyadh agent's figures, and nothing from Makkah
    assert response.status_code == 200
    rows = {row.name: row for row in response.context["workload"]}
    assert (rows["riyadh_agent"].open, rows["riyadh_agent"].overdue) == (2, 1)
    assert rows["riyadh_agent"].answered == 0
    assert (rows["riyadh_agent2"].open, rows["riyadh_agent2"].answered) == (0, 1)
    assert "makkah_agent" not in rows
    assert "central_agent" not in rows
    body = response.content.decode()
    assert workload["waiting"].tracking_display in body
    assert workload["makkah_waiting"].tracking_display not in body
    assert workload["makkah_held"].tracking_display not in body
    unassigned = response.context["unassigned"]
    assert unassigned.total == 1
    assert [r.pk for r in unassigned.oldest] == [workload["waiting"].pk]


def test_unassigned_ageing_buckets_in_calendar_days(client, ministry, staff, sara):
    now = timezone.now()
    for days in (0, 2, 2, 5, 10):
        request = submit(ministry, sara, ministry.riyadh)
        Request.objects.filter(pk=request.pk).update(created_at=now - dt.timedelta(days=days))
    client.force_login(staff.riyadh_supervisor)
    response = client.get(url("console:team"))
    buckets = {key.value: count for key, _label, count in response.context["buckets"]}
    assert buckets == {"lt1": 1, "1to3": 2, "3to7": 1, "gt7": 1}
    ages = [r.created_at for r in response.context["unassigned"].oldest]
    assert ages == sorted(ages)


@pytest.mark.parametrize("persona", ["riyadh_agent", "quality_officer", "executive"])
def test_team_page_needs_assign_permission(client, staff, persona):
    client.force_login(getattr(staff, persona))
    assert client.get(url("console:team")).status_code == 403
    assert client.post(url("console:team_assign"), {}).status_code == 403


def test_team_page_needs_sign_in(client, staff):
    response = client.get(url("console:team"))
    assert response.status_code == 302
    assert url("console:login") in response["Location"]


def test_team_page_query_count_does_not_grow_with_the_team(
    client, ministry, staff, sara, django_assert_max_num_queries
):
    def load():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("console:team")).status_code == 200
        return len(queries)

    client.force_login(staff.riyadh_supervisor)
    submit(ministry, sara, ministry.riyadh)
    before = load()
    from django.contrib.auth import get_user_model

    from tawasul.directory.models import Role, StaffGrant

    for index in range(5):
        agent = get_user_model().objects.create_user(username=f"extra{index}", password="x")
        StaffGrant.objects.create(user=agent, entity=ministry.riyadh, role=Role.AGENT)
        held = submit(ministry, sara, ministry.riyadh)
        request_assign(request=held, assignee=agent, by=staff.riyadh_supervisor)
    assert load() == before
    with django_assert_max_num_queries(15):
        client.get(url("console:team"))


def test_bulk_assign(client, staff, workload):
    # given the supervisor ticks the unassigned request and one of agent one's
    client.force_login(staff.riyadh_supervisor)
    response = client.post(
        url("console:team_assign"),
        {
            "requests": [workload["waiting"].pk, workload["held"].pk],
            "agent": staff.riyadh_agent2.pk,
        },
        follow=True,
    )
    # then both go to agent two, and the page says so
    assert response.status_code == 200
    for key in ("waiting", "held"):
        workload[key].refresh_from_db()
        assert workload[key].assignee == staff.riyadh_agent2
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["2 requests assigned."]


def test_bulk_assign_partial_failure(client, staff, workload):
    # given one assignable request, one in Makkah (out of reach), one already answered
    client.force_login(staff.riyadh_supervisor)
    response = client.post(
        url("console:team_assign"),
        {
            "requests": [
                workload["waiting"].pk,
                workload["makkah_waiting"].pk,
                workload["done"].pk,
            ],
            "agent": staff.riyadh_agent.pk,
        },
        follow=True,
    )
    # then the first is assigned; the others are reported with the domain's message
    workload["waiting"].refresh_from_db()
    workload["makkah_waiting"].refresh_from_db()
    workload["done"].refresh_from_db()
    assert workload["waiting"].assignee == staff.riyadh_agent
    assert workload["makkah_waiting"].assignee is None
    assert workload["done"].assignee == staff.riyadh_agent2
    assert workload["done"].status == Status.ANSWERED
    messages = [str(m) for m in response.context["messages"]]
    assert messages[0] == "1 request assigned."
    assert f"#{workload['makkah_waiting'].pk}: No such request." in messages
    done_message = next(m for m in messages if m.startswith(workload["done"].tracking_display))
    assert len(done_message) > len(workload["done"].tracking_display) + 2
    assert len(messages) == 3


def test_bulk_assign_refuses_someone_outside_the_team(client, staff, workload):
    client.force_login(staff.riyadh_supervisor)
    response = client.post(
        url("console:team_assign"),
        {"requests": [workload["waiting"].pk], "agent": staff.makkah_agent.pk},
    )
    assert response.status_code == 400
    workload["waiting"].refresh_from_db()
    assert workload["waiting"].assignee is None


def test_reassign_lists_the_chosen_agents_requests(client, staff, workload):
    client.force_login(staff.riyadh_supervisor)
    response = client.get(url("console:team"), {"agent": staff.riyadh_agent.pk})
    sections = {s["id"]: s for s in response.context["sections"]}
    assert {r.pk for r in sections["reassign"]["items"]} == {
        workload["held"].pk,
        workload["late"].pk,
    }
    other = client.get(url("console:team"), {"agent": staff.makkah_agent.pk})
    sections = {s["id"]: s for s in other.context["sections"]}
    assert sections["reassign"]["items"] == []


# --- oversight -------------------------------------------------------------------------------


def figures(response):
    return {row.entity_id: row for row, _links in response.context["rows"]}


def test_oversight_for_the_central_supervisor_covers_every_entity(
    client, ministry, staff, sara, request
):
    # given the Riyadh and Makkah workload and a warned university request
    request.getfixturevalue("workload")
    warn(submit(ministry, sara, ministry.university))
    client.force_login(staff.central_supervisor)
    response = client.get(url("console:oversight"), {"period": "7d"})
    rows = figures(response)
    assert set(rows) == {ministry.riyadh.pk, ministry.makkah.pk, ministry.university.pk, 0}
    riyadh = rows[ministry.riyadh.pk]
    assert (riyadh.volume, riyadh.backlog, riyadh.overdue) == (4, 3, 1)
    assert rows[ministry.makkah.pk].backlog == 2
    assert rows[ministry.university.pk].at_risk == 1
    total = rows[0]
    assert (total.volume, total.backlog, total.at_risk, total.overdue) == (7, 6, 1, 1)
    # sorted by backlog, totals last
    assert [row.entity_id for row, _ in response.context["rows"]][:1] == [ministry.riyadh.pk]
    assert response.context["rows"][-1][0].entity_id == 0


def test_oversight_for_the_riyadh_supervisor_covers_only_riyadh(client, ministry, staff, workload):
    client.force_login(staff.riyadh_supervisor)
    response = client.get(url("console:oversight"))
    rows = figures(response)
    assert set(rows) == {ministry.riyadh.pk, 0}
    assert rows[0].backlog == rows[ministry.riyadh.pk].backlog == 3
    assert "Makkah" not in response.content.decode()


def test_oversight_for_the_executive_sees_all(client, ministry, staff, workload):
    client.force_login(staff.executive)
    rows = figures(client.get(url("console:oversight")))
    assert {ministry.riyadh.pk, ministry.makkah.pk} <= set(rows)


def test_oversight_period(client, ministry, staff, sara):
    old = submit(ministry, sara, ministry.riyadh)
    Request.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    submit(ministry, sara, ministry.riyadh)
    client.force_login(staff.central_supervisor)
    for period, volume in (("today", 1), ("7d", 1), ("30d", 2)):
        response = client.get(url("console:oversight"), {"period": period})
        assert figures(response)[ministry.riyadh.pk].volume == volume
        assert figures(response)[ministry.riyadh.pk].backlog == 2


def test_oversight_links_carry_the_filters(client, ministry, staff, workload):
    client.force_login(staff.central_supervisor)
    response = client.get(url("console:oversight"), {"period": "today"})
    links = {row.entity_id: links for row, links in response.context["rows"]}[ministry.riyadh.pk]
    today = timezone.localdate().isoformat()
    expected = {
        "volume": ("subtree", {"entity": [str(ministry.riyadh.pk)], "from": [today]}),
        "backlog": ("subtree", {"entity": [str(ministry.riyadh.pk)], "status": ["open"]}),
        "at_risk": ("at_risk", {"entity": [str(ministry.riyadh.pk)]}),
        "overdue": ("overdue", {"entity": [str(ministry.riyadh.pk)]}),
    }
    for figure, (queue, params) in expected.items():
        parts = urlsplit(links[figure])
        assert parts.path == url("console:queue", queue)
        assert parse_qs(parts.query) == params
        assert links[figure].replace("&", "&amp;") in response.content.decode()


def test_oversight_drill_down_lists_what_the_figure_counts(client, ministry, staff, workload):
    client.force_login(staff.central_supervisor)
    response = client.get(url("console:oversight"))
    row, links = next(
        (row, links)
        for row, links in response.context["rows"]
        if row.entity_id == ministry.riyadh.pk
    )
    queue_page = client.get(links["overdue"])
    assert queue_page.status_code == 200
    body = queue_page.content.decode()
    assert workload["late"].tracking_display in body
    assert workload["held"].tracking_display not in body
    assert row.overdue == 1


def _entities_with_centres(ministry, count):
    entities = [ministry.riyadh, ministry.makkah, ministry.university]
    for index in range(len(entities), count):
        entity = Entity.objects.add_child(
            ministry.sector,
            instance=Entity(
                code=f"region-{index}",
                name_ar=f"منطقة {index}",
                name_en=f"Region {index}",
                kind=EntityKind.REGION,
            ),
        )
        CareCentre.objects.create(entity=entity, name_ar=f"مركز {index}", name_en=f"C {index}")
        entities.append(entity)
    return entities[:count]


def test_oversight_query_count_is_constant(client, ministry, staff, sara):
    def load():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("console:oversight"))
        assert response.status_code == 200
        return len(queries), len(response.context["rows"])

    client.force_login(staff.central_supervisor)
    for entity in _entities_with_centres(ministry, 2):
        submit(ministry, sara, entity)
    two, rows_two = load()
    for entity in _entities_with_centres(ministry, 6)[2:]:
        submit(ministry, sara, entity)
    six, rows_six = load()
    assert (rows_two, rows_six) == (3, 7)
    assert six == two


@pytest.mark.parametrize("name", ["console:team", "console:oversight", "console:intake"])
def test_pages_render_in_arabic_right_to_left(client, staff, workload, name):
    client.force_login(staff.riyadh_supervisor)
    with translation.override("ar"):
        address = reverse(name)
    response = client.get(address)
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()


def test_the_backlog_drill_down_lists_exactly_the_backlog(client, ministry, staff, workload):
    client.force_login(staff.central_supervisor)
    response = client.get(url("console:oversight"))
    row, links = next(
        (row, links)
        for row, links in response.context["rows"]
        if row.entity_id == ministry.riyadh.pk
    )
    listed = [request for request, _badge in client.get(links["backlog"]).context["rows"]]
    assert len(listed) == row.backlog
    assert all(request.status not in ("answered", "closed", "cancelled") for request in listed)
