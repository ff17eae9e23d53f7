"""SLA policy matching: the most specific active policy wins, else the built-in defaults."""

from __future__ import annotations

import pytest

from tawasul.cases.models import Category, Kind, Priority
from tawasul.directory.models import CareCentre
from tawasul.sla.models import SlaPolicy
from tawasul.sla.policies import DEFAULT_TARGETS, sla_policy_for, sla_targets_of


def policy(name, **criteria):
    return SlaPolicy.objects.create(name_ar=name, name_en=name, **criteria)


@pytest.fixture
def grades(ministry):
    """A sub-category of exam results (depth 2)."""
    return Category.objects.add_child(
        ministry.exams, instance=Category(code="grades", name_ar="الدرجات", name_en="Grades")
    )


@pytest.fixture
def policies(ministry, grades):
    riyadh = CareCentre.objects.get(entity=ministry.riyadh)
    return {
        "everyone": policy("everyone"),
        "riyadh": policy("riyadh", centre=riyadh),
        "complaints": policy("complaints", kind=Kind.COMPLAINT),
        "exams": policy("exams", category=ministry.exams),
        "grades": policy("grades", category=grades),
        "riyadh complaints": policy("riyadh complaints", centre=riyadh, kind=Kind.COMPLAINT),
        "urgent exams": policy("urgent exams", category=ministry.exams, priority=Priority.URGENT),
        "switched off": policy(
            "switched off",
            centre=riyadh,
            kind=Kind.COMPLAINT,
            category=ministry.exams,
            priority=Priority.URGENT,
            is_active=False,
        ),
    }


# (centre, kind, category, priority) → the policy that must win
TABLE = [
    ("makkah", Kind.INQUIRY, "transfer", Priority.NORMAL, "everyone"),
    ("riyadh", Kind.INQUIRY, "transfer", Priority.NORMAL, "riyadh"),
    ("makkah", Kind.COMPLAINT, "transfer", Priority.NORMAL, "complaints"),
    ("makkah", Kind.INQUIRY, "exams", Priority.NORMAL, "exams"),
    # one criterion each: the deeper category breaks the tie
    ("makkah", Kind.INQUIRY, "grades", Priority.NORMAL, "grades"),
    ("riyadh", Kind.COMPLAINT, "transfer", Priority.NORMAL, "riyadh complaints"),
    # two criteria each (riyadh complaints, urgent exams): the category depth decides
    ("riyadh", Kind.COMPLAINT, "exams", Priority.URGENT, "urgent exams"),
    ("makkah", Kind.INQUIRY, "grades", Priority.URGENT, "urgent exams"),
    # an inactive policy never matches, however specific
    ("riyadh", Kind.COMPLAINT, "exams", Priority.NORMAL, "riyadh complaints"),
]


@pytest.mark.parametrize("case", TABLE, ids=lambda case: "-".join(map(str, case)))
def test_the_most_specific_policy_wins(ministry, grades, policies, case):
    centre, kind, category, priority, expected = case
    # Given the policies above and a request's criteria
    centres = {
        "riyadh": CareCentre.objects.get(entity=ministry.riyadh),
        "makkah": CareCentre.objects.get(entity=ministry.makkah),
    }
    categories = {"exams": ministry.exams, "grades": grades, "transfer": ministry.transfer}

    # When the policy is matched
    found = sla_policy_for(
        centre=centres[centre], kind=kind, category=categories[category], priority=priority
    )

    # Then the expected one wins
    assert found is not None
    assert found.name_en == expected


def test_equal_policies_fall_back_to_the_oldest(ministry):
    first = policy("first", kind=Kind.INQUIRY)
    policy("second", kind=Kind.INQUIRY)

    found = sla_policy_for(
        centre=None, kind=Kind.INQUIRY, category=ministry.exams, priority=Priority.NORMAL
    )

    assert found == first


def test_a_parent_category_policy_covers_its_sub_categories_but_not_the_reverse(ministry, grades):
    parent = policy("exams", category=ministry.exams)
    policy("grades", category=grades)

    found = sla_policy_for(
        centre=None, kind=Kind.INQUIRY, category=ministry.exams, priority=Priority.NORMAL
    )

    assert found == parent


def test_a_policy_of_another_centre_does_not_match(ministry):
    policy("makkah only", centre=CareCentre.objects.get(entity=ministry.makkah))

    found = sla_policy_for(
        centre=CareCentre.objects.get(entity=ministry.riyadh),
        kind=Kind.INQUIRY,
        category=ministry.exams,
        priority=Priority.NORMAL,
    )

    assert found is None


def test_with_no_policy_the_service_level_document_defaults_apply(ministry):
    found = sla_policy_for(
        centre=None, kind=Kind.COMPLAINT, category=ministry.exams, priority=Priority.HIGH
    )

    targets = sla_targets_of(found)
    assert found is None
    assert targets == DEFAULT_TARGETS
    assert (
        targets.first_response_minutes,
        targets.resolution_minutes,
        targets.objection_review_minutes,
        targets.warning_percent,
        targets.escalation_minutes,
    ) == (420, 5 * 420, 10 * 420, 75, 420)


def test_matching_costs_one_query(ministry, policies, grades, django_assert_num_queries):
    centre = CareCentre.objects.get(entity=ministry.riyadh)
    with django_assert_num_queries(1):
        sla_policy_for(centre=centre, kind=Kind.COMPLAINT, category=grades, priority="urgent")


def test_an_administrator_edits_policies_in_the_admin(admin_client, ministry):
    # Given a superuser in the admin, in English
    admin_client.cookies["tawasul_language"] = "en"

    # When they add a policy through the form
    response = admin_client.post(
        "/admin/sla/slapolicy/add/",
        {
            "name_ar": "الشكاوى العاجلة",
            "name_en": "Urgent complaints",
            "is_active": "on",
            "kind": Kind.COMPLAINT,
            "priority": Priority.URGENT,
            "first_response_minutes": 120,
            "resolution_minutes": 840,
            "objection_review_minutes": 2100,
            "warning_percent": 80,
            "escalation_minutes": 60,
        },
    )

    # Then it is saved and listed
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = SlaPolicy.objects.get()
    assert (saved.kind, saved.resolution_minutes, saved.warning_percent) == ("complaint", 840, 80)
    listing = admin_client.get("/admin/sla/slapolicy/", follow=True).content.decode()
    assert "Urgent complaints" in listing
