"""The Django admin: requests seen only through the access layer, masked beneficiaries,
configuration trees, in Arabic (default, right-to-left) and English."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tawasul.cases.models import Category, Request
from tawasul.cases.services import request_note, request_submit
from tawasul.core.ids import tracking_number_display
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.directory.models import Entity

REQUESTS = "/en/admin/cases/request/"


def _login(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)


def _submit(ministry, beneficiary, entity, subject):
    return request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject=subject,
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=entity,
    )


@pytest.fixture
def riyadh_request(ministry, sara):
    return _submit(ministry, sara, ministry.riyadh, "تأخر نتيجة الرياض")


@pytest.fixture
def makkah_request(ministry, khalid):
    return _submit(ministry, khalid, ministry.makkah, "تأخر نتيجة مكة")


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pass-Word-1234")


# --- requests: who sees what -----------------------------------------------------------


@pytest.mark.parametrize("persona", ["riyadh_agent", "central_agent"])
def test_request_list_shows_requests_within_reach(
    client, staff, riyadh_request, makkah_request, persona
):
    # Given a Riyadh request, and a staff member whose subtree covers Riyadh
    _login(client, getattr(staff, persona))

    # When they open the request list
    response = client.get(REQUESTS)

    # Then the Riyadh request is listed under its 3-4-4 tracking number
    assert response.status_code == 200
    assert riyadh_request.tracking_display in response.content.decode()


def test_request_list_hides_requests_of_other_entities(
    client, staff, riyadh_request, makkah_request
):
    # Given a Makkah agent
    _login(client, staff.makkah_agent)

    # When they open the request list
    page = client.get(REQUESTS).content.decode()

    # Then they see the Makkah request and nothing of Riyadh's
    assert makkah_request.tracking_display in page
    assert riyadh_request.tracking_display not in page
    assert riyadh_request.subject not in page


def test_central_agent_sees_both_regions(client, staff, riyadh_request, makkah_request):
    _login(client, staff.central_agent)

    page = client.get(REQUESTS).content.decode()

    assert riyadh_request.tracking_display in page
    assert makkah_request.tracking_display in page


def test_request_out_of_reach_is_not_shown(client, staff, makkah_request):
    # Given a Riyadh agent and a Makkah request
    _login(client, staff.riyadh_agent)
    url = f"{REQUESTS}{makkah_request.pk}/change/"

    # When they open its page directly
    response = client.get(url)

    # Then it is as if it did not exist, and nothing of it is shown
    assert response.status_code in (302, 403, 404)
    followed = client.get(url, follow=True).content.decode()
    assert makkah_request.subject not in followed
    assert makkah_request.tracking_display not in followed


def test_search_for_a_request_out_of_reach_finds_nothing(
    client, staff, riyadh_request, makkah_request
):
    _login(client, staff.riyadh_agent)

    page = client.get(REQUESTS, {"q": makkah_request.tracking_number}).content.decode()

    assert makkah_request.subject not in page
    assert riyadh_request.tracking_display not in page  # only exact matches are listed


def test_staff_user_without_grants_cannot_open_requests(client, staff, riyadh_request):
    _login(client, staff.outsider)

    response = client.get(REQUESTS)

    assert response.status_code == 403


# --- requests: list and detail ------------------------------------------------------------


def test_search_accepts_the_number_as_people_type_it(client, staff, ministry, sara):
    # Given two Riyadh requests
    first = _submit(ministry, sara, ministry.riyadh, "الطلب الأول")
    second = _submit(ministry, sara, ministry.riyadh, "الطلب الثاني")
    _login(client, staff.riyadh_agent)
    typed = tracking_number_display(first.tracking_number).translate(
        str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    )

    # When the agent searches with Arabic-Indic digits and dashes
    page = client.get(REQUESTS, {"q": typed}).content.decode()

    # Then exactly the first request is listed
    assert first.tracking_display in page
    assert second.tracking_display not in page


def test_search_with_an_invalid_number_lists_nothing(client, staff, riyadh_request):
    _login(client, staff.riyadh_agent)
    wrong = riyadh_request.tracking_number[:-1] + str(
        (int(riyadh_request.tracking_number[-1]) + 1) % 10
    )

    page = client.get(REQUESTS, {"q": wrong}).content.decode()

    assert riyadh_request.tracking_display not in page


def test_list_shows_hijri_beside_gregorian(client, staff, riyadh_request):
    _login(client, staff.riyadh_agent)

    page = client.get(REQUESTS).content.decode()

    label = dual_datetime_label(riyadh_request.created_at, "en")
    assert "AH" in label
    assert label in page


def test_detail_shows_request_thread_and_timeline_read_only(client, staff, riyadh_request):
    # Given a Riyadh request with an internal note
    request_note(request=riyadh_request, by=staff.riyadh_agent, body="اتصلت بالمدرسة")
    _login(client, staff.riyadh_agent)

    # When the agent opens it
    response = client.get(f"{REQUESTS}{riyadh_request.pk}/change/")

    # Then its fields, thread and timeline are shown, with nothing to save
    page = response.content.decode()
    assert response.status_code == 200
    assert riyadh_request.subject in page
    assert "اتصلت بالمدرسة" in page
    assert "Submitted" in page
    assert "Internal note" in page
    assert 'name="_save"' not in page


def test_beneficiary_identity_is_masked_on_the_request_page(client, staff, riyadh_request, sara):
    _login(client, staff.riyadh_agent)

    page = client.get(f"{REQUESTS}{riyadh_request.pk}/change/").content.decode()

    assert sara.masked_mobile in page
    assert sara.mobile not in page
    assert sara.national_id not in page


def test_requests_cannot_be_added_changed_or_deleted(client, staff, riyadh_request):
    _login(client, staff.riyadh_supervisor)
    change = f"{REQUESTS}{riyadh_request.pk}/change/"

    assert client.get(f"{REQUESTS}add/").status_code == 403
    assert client.get(f"{REQUESTS}{riyadh_request.pk}/delete/").status_code == 403
    assert client.post(change, {"subject": "تغيير"}).status_code == 403
    listing = client.get(REQUESTS).content.decode()
    assert f"{REQUESTS}add/" not in listing
    assert 'name="action"' not in listing
    riyadh_request.refresh_from_db()
    assert riyadh_request.subject == "تأخر نتيجة الرياض"


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REQUESTS)
    assert response.status_code == 200
    return len(queries)


def test_request_list_does_a_constant_number_of_queries(client, staff, ministry, sara, khalid):
    # Given three requests assigned around, then thirty
    _login(client, staff.riyadh_agent)
    for number in range(3):
        _submit(ministry, sara, ministry.riyadh, f"طلب رقم {number}")
    few = _list_queries(client)
    for number in range(27):
        owner = sara if number % 2 else khalid
        _submit(ministry, owner, ministry.riyadh_office, f"طلب آخر رقم {number}")
    assert Request.objects.count() == 30

    # When the list is shown again
    many = _list_queries(client)

    # Then it took the same number of queries
    assert many == few


# --- language ---------------------------------------------------------------------------


def test_admin_is_arabic_and_right_to_left_by_default(client, staff):
    _login(client, staff.riyadh_agent)

    page = client.get("/admin/").content.decode()

    assert re.search(r'<html lang="ar"[^>]*dir="rtl"', page)


def test_admin_in_english_has_the_tawasul_title(client, staff):
    _login(client, staff.riyadh_agent)

    page = client.get("/en/admin/").content.decode()

    assert re.search(r'<html lang="en"[^>]*dir="ltr"', page)
    assert "Tawasul administration" in page


# --- beneficiaries -----------------------------------------------------------------------


BENEFICIARIES = "/en/admin/beneficiaries/beneficiary/"


def test_beneficiary_list_shows_only_masked_identifiers(client, superuser, sara, khalid):
    client.force_login(superuser)

    page = client.get(BENEFICIARIES).content.decode()

    assert sara.masked_national_id in page
    assert sara.masked_mobile in page
    assert khalid.masked_national_id in page
    for full in (sara.national_id, sara.mobile, khalid.national_id, khalid.email):
        assert full not in page


def test_beneficiary_page_shows_only_masked_identifiers(client, superuser, sara):
    client.force_login(superuser)

    response = client.get(f"{BENEFICIARIES}{sara.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert sara.masked_national_id in page
    assert sara.national_id not in page
    assert sara.mobile not in page


@pytest.mark.parametrize(
    "typed",
    [
        lambda b: b.national_id,
        lambda b: b.national_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        lambda b: "055 123 4567",
    ],
)
def test_beneficiary_search_by_exact_identifier(client, superuser, sara, khalid, typed):
    client.force_login(superuser)

    page = client.get(BENEFICIARIES, {"q": typed(sara)}).content.decode()

    assert sara.full_name in page
    assert khalid.full_name not in page


@pytest.mark.parametrize("typed", ["1000", "abc", "0551"])
def test_beneficiary_search_ignores_partial_or_invalid_input(client, superuser, sara, typed):
    client.force_login(superuser)

    page = client.get(BENEFICIARIES, {"q": typed}).content.decode()

    assert sara.full_name not in page


def test_beneficiaries_have_no_bulk_actions_and_cannot_be_added(client, superuser, sara):
    client.force_login(superuser)

    listing = client.get(BENEFICIARIES).content.decode()

    assert 'name="action"' not in listing
    assert client.get(f"{BENEFICIARIES}add/").status_code == 403
    assert client.get(f"{BENEFICIARIES}{sara.pk}/delete/").status_code == 403


def test_agent_cannot_browse_beneficiaries(client, staff, sara):
    _login(client, staff.riyadh_agent)

    assert client.get(BENEFICIARIES).status_code == 403


# --- configuration --------------------------------------------------------------------------


def test_entity_tree_lists_and_adds_a_child(client, superuser, ministry):
    client.force_login(superuser)
    assert client.get("/en/admin/directory/entity/").status_code == 200

    response = client.post(
        "/en/admin/directory/entity/add/",
        {
            "name_ar": "مكتب التعليم بجنوب الرياض",
            "name_en": "South Riyadh Office",
            "code": "riyadh-south",
            "kind": "office",
            "region": "riyadh",
            "is_active": "on",
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": ministry.riyadh.pk,
        },
    )

    assert response.status_code == 302
    office = Entity.objects.get(code="riyadh-south")
    assert Entity.objects.get_parent(office) == ministry.riyadh


def test_category_tree_lists_and_adds_a_root(client, superuser, ministry):
    client.force_login(superuser)
    assert client.get("/en/admin/cases/category/").status_code == 200

    response = client.post(
        "/en/admin/cases/category/add/",
        {
            "name_ar": "النقل المدرسي",
            "name_en": "School transport",
            "code": "transport",
            "kinds": "[]",
            "is_active": "on",
            "treebeard_position": "sorted-sibling",
            "treebeard_ref_node": "",
        },
    )

    assert response.status_code == 302
    assert Category.objects.get(code="transport").depth == 1


@pytest.mark.parametrize(
    "url",
    [
        "/en/admin/directory/carecentre/",
        "/en/admin/directory/businesscalendar/add/",
        "/en/admin/directory/staffgrant/?role__exact=agent",
    ],
)
def test_configuration_pages_open_for_a_superuser(client, superuser, staff, url):
    client.force_login(superuser)

    assert client.get(url).status_code == 200


def test_configuration_is_closed_to_agents(client, staff):
    _login(client, staff.riyadh_agent)

    assert client.get("/en/admin/directory/staffgrant/").status_code == 403
    assert client.get("/en/admin/directory/entity/").status_code == 403
