"""Entity isolation, tested as a matrix of staff roles × entities × permissions."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model

from tawasul.cases.services import request_submit
from tawasul.core.errors import AccessDenied, NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import StaffGrant

V, N, W, A, S = (Permission.VIEW, Permission.NOTE, Permission.WORK, Permission.ASSIGN,
                 Permission.SUPERVISE)  # fmt: skip
ALL = frozenset({V, N, W, A, S})
AGENT = frozenset({V, N, W})
PLACES = ("ministry", "riyadh", "makkah", "university")

# persona -> {place: permissions}; a place not named means no access at all.
EXPECTED: dict[str, dict[str, frozenset[Permission]]] = {
    "riyadh_agent": {"riyadh": AGENT},
    "riyadh_agent2": {"riyadh": AGENT},
    "riyadh_supervisor": {"riyadh": ALL},
    "riyadh_admin": {"riyadh": ALL},
    "makkah_agent": {"makkah": AGENT},
    "university_agent": {"university": AGENT},
    "central_agent": dict.fromkeys(PLACES, AGENT),
    "central_supervisor": dict.fromkeys(PLACES, ALL),
    "quality_officer": dict.fromkeys(PLACES, frozenset({V, N})),
    "executive": dict.fromkeys(PLACES, frozenset({V})),
    "outsider": {},
}


@pytest.fixture
def requests_by_place(ministry, sara):
    return {
        place: request_submit(
            beneficiary=sara,
            kind="inquiry",
            category=ministry.exams,
            subject=f"طلب {place}",
            description="استفسار عن موعد ظهور نتائج الاختبارات النهائية.",
            entity=getattr(ministry, place),
        )
        for place in PLACES
    }


def test_the_matrix(staff, requests_by_place):
    for persona, place, permission in itertools.product(EXPECTED, PLACES, Permission):
        user = getattr(staff, persona)
        request = requests_by_place[place]
        expected = permission in EXPECTED[persona].get(place, frozenset())
        assert access.can(user, permission, request) is expected, (persona, place, permission)
        listed = access.requests_for(user, permission).filter(pk=request.pk).exists()
        assert listed is expected, (persona, place, permission, "list")


def test_fetch_out_of_reach_is_not_found_and_in_reach_but_not_allowed_is_forbidden(
    staff, requests_by_place
):
    makkah = requests_by_place["makkah"]
    with pytest.raises(NotFound):
        access.request_for_staff(staff.riyadh_agent, pk=makkah.pk)
    with pytest.raises(NotFound):
        access.request_for_staff(staff.outsider, tracking_number=makkah.tracking_number)
    assert access.request_for_staff(staff.executive, pk=makkah.pk) == makkah
    with pytest.raises(AccessDenied):
        access.request_for_staff(staff.executive, pk=makkah.pk, permission=Permission.WORK)


def test_office_requests_are_in_reach_of_the_department(ministry, staff, sara):
    # An office without a centre: its department works its requests.
    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="مكتب الشمال",
        description="شكوى عن تأخر الرد من المكتب.",
        entity=ministry.riyadh_office,
    )
    assert access.can(staff.riyadh_agent, Permission.WORK, request)
    assert not access.can(staff.makkah_agent, Permission.VIEW, request)


def test_superuser_sees_everything_inactive_user_nothing(staff, requests_by_place):
    boss = get_user_model().objects.create_superuser("boss", password="x-Y-z-12345")
    assert access.requests_for(boss).count() == len(PLACES)
    staff.central_supervisor.is_active = False
    assert access.requests_for(staff.central_supervisor).count() == 0


def test_a_grant_on_an_inactive_entity_gives_nothing(ministry, staff, requests_by_place):
    ministry.riyadh.is_active = False
    ministry.riyadh.save(update_fields=["is_active"])
    assert not access.requests_for(staff.riyadh_agent).exists()


def test_scope_is_read_in_one_query_and_cached(staff, requests_by_place, django_assert_num_queries):
    user = get_user_model().objects.get(pk=staff.riyadh_agent.pk)
    with django_assert_num_queries(1):
        for request in requests_by_place.values():
            access.can(user, Permission.VIEW, request)
    StaffGrant.objects.create(user=user, entity=requests_by_place["makkah"].entity, role="agent")
    assert not access.can(user, Permission.VIEW, requests_by_place["makkah"])
    access.staff_scope_forget(user)
    assert access.can(user, Permission.VIEW, requests_by_place["makkah"])


def test_listing_is_one_query_whatever_the_grants(
    staff, requests_by_place, django_assert_num_queries
):
    user = get_user_model().objects.get(pk=staff.central_agent.pk)
    access.staff_scope(user)
    with django_assert_num_queries(1):
        assert len(list(access.requests_for(user))) == len(PLACES)
