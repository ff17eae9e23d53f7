"""The routing suggestion in the request workspace: shown to the staff of the request's
entity (not to another entity's), with its confidence and model version, "manual triage"
when the model abstains, and applied through the services — the category with one click,
the entity through the workspace's forward action."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tawasul.cases.models import Category, Event, EventKind, Request
from tawasul.cases.services import request_submit
from tawasul.console.suggestion_views import suggestion_panel_context
from tawasul.insights.classifier import text_model_train
from tawasul.insights.suggestions import suggest
from tawasul.insights.text_models import Suggestion, TextTarget
from tests.classifier_data import answered_requests, request_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _arabic():
    with translation.override("ar"):
        yield


@pytest.fixture
def buses(ministry) -> Category:
    return Category.objects.add_root(
        instance=Category(code="buses", name_ar="النقل المدرسي", name_en="School buses")
    )


@pytest.fixture
def trained(settings, tmp_path, ministry, buses, sara) -> None:
    """Both classifiers, trained on answered requests: exams answered by Riyadh, teacher
    transfers by Makkah, school buses by the university."""
    settings.TAWASUL_MODEL_DIR = tmp_path / "models"
    settings.TAWASUL_CLASSIFIER_MIN_SAMPLES = 30
    routes = {
        "exams": (ministry.exams, ministry.riyadh),
        "transfer": (ministry.transfer, ministry.makkah),
        "buses": (buses, ministry.university),
    }
    answered_requests(sara, routes, per_topic=14)
    for target in TextTarget.values:
        text_model_train(target=target)


def filed_under_exams(ministry, sara, topic: str, *, subject: str = "", text: str = "") -> Request:
    """A request about `topic`, filed by the beneficiary under exams, to Riyadh."""
    drawn_subject, drawn_text = request_of(topic, 300)
    return request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject=subject or drawn_subject,
        description=text or drawn_text,
        entity=ministry.riyadh,
    )


def page(client, user, case):
    client.force_login(user)
    return client.get(reverse("console:request", args=[case.pk]))


def panel(html: str) -> str:
    found = re.search(r'<section class="panel suggestions".*?</section>', html, re.S)
    return found.group(0) if found else ""


@pytest.mark.usefixtures("trained")
def test_an_agent_of_the_entity_sees_both_suggestions_with_their_confidence(
    client, ministry, sara, staff, buses
) -> None:
    # given a request about the buses filed under exams at Riyadh (no suggestion made yet)
    case = filed_under_exams(ministry, sara, "buses")
    assert not Suggestion.objects.filter(request=case).exists()
    # when a Riyadh agent opens it
    response = page(client, staff.riyadh_agent, case)
    # then the panel shows the suggested category and entity, made on the spot
    assert response.status_code == 200
    shown = panel(response.content.decode())
    assert "النقل المدرسي" in shown
    assert ministry.university.name_ar in shown
    suggestions = {s.target: s for s in Suggestion.objects.filter(request=case)}
    for suggestion in suggestions.values():
        assert f"{round(suggestion.confidence * 100)}٪" in shown  # the Arabic per cent sign
        assert suggestion.model is not None
    assert 'data-abstained="0"' in shown
    # both differ from the request: the category is offered, the forward form filled in
    assert reverse("console:suggestion_apply_category", args=[case.pk]) in shown
    assert reverse("console:request_act", args=[case.pk, "forward"]) in shown
    assert f'name="to_entity" value="{ministry.university.pk}"' in shown


@pytest.mark.usefixtures("trained")
def test_another_entitys_staff_see_no_panel(client, ministry, sara, staff, rf) -> None:
    case = filed_under_exams(ministry, sara, "buses")
    response = page(client, staff.makkah_agent, case)
    assert response.status_code == 404
    assert "suggestions" not in response.content.decode()
    seen = rf.get("/")
    seen.user = staff.makkah_agent
    assert suggestion_panel_context(seen, case) is None
    assert not Suggestion.objects.filter(request=case).exists()


@pytest.mark.usefixtures("trained")
def test_a_viewer_sees_the_suggestion_without_the_buttons(client, ministry, sara, staff) -> None:
    case = filed_under_exams(ministry, sara, "buses")
    shown = panel(page(client, staff.quality_officer, case).content.decode())
    assert "النقل المدرسي" in shown
    assert "<form" not in shown


@pytest.mark.usefixtures("trained")
def test_applying_the_category_changes_it_through_the_service(
    client, ministry, sara, staff, buses
) -> None:
    case = filed_under_exams(ministry, sara, "buses")
    page(client, staff.riyadh_agent, case)  # the suggestion is made when first shown
    response = client.post(reverse("console:suggestion_apply_category", args=[case.pk]))
    assert response.status_code == 302
    assert Request.objects.get(pk=case.pk).category == buses
    event = Event.objects.get(request=case, kind=EventKind.RECATEGORISED)
    assert event.actor_user == staff.riyadh_agent
    assert event.data == {"from": ministry.exams.pk, "to": buses.pk}
    # the request now agrees with the suggestion: nothing left to apply
    shown = panel(page(client, staff.riyadh_agent, case).content.decode())
    assert reverse("console:suggestion_apply_category", args=[case.pk]) not in shown


@pytest.mark.usefixtures("trained")
def test_a_viewer_cannot_apply_the_category(client, ministry, sara, staff) -> None:
    case = filed_under_exams(ministry, sara, "buses")
    page(client, staff.quality_officer, case)
    client.post(reverse("console:suggestion_apply_category", args=[case.pk]))
    assert Request.objects.get(pk=case.pk).category == ministry.exams
    client.force_login(staff.makkah_agent)
    response = client.post(reverse("console:suggestion_apply_category", args=[case.pk]))
    assert response.status_code == 404


@pytest.mark.usefixtures("trained")
def test_forwarding_from_the_panel_uses_the_forward_action(client, ministry, sara, staff) -> None:
    case = filed_under_exams(ministry, sara, "buses")
    page(client, staff.riyadh_agent, case)
    response = client.post(
        reverse("console:request_act", args=[case.pk, "forward"]),
        {"to_entity": ministry.university.pk, "reason": "من اختصاص الجامعة"},
    )
    assert response.status_code == 302
    assert Request.objects.get(pk=case.pk).entity == ministry.university
    assert Event.objects.filter(request=case, kind=EventKind.FORWARDED).exists()


@pytest.mark.usefixtures("trained")
def test_when_the_model_abstains_the_panel_says_manual_triage(
    client, ministry, sara, staff
) -> None:
    case = filed_under_exams(
        ministry, sara, "exams", subject="lorem ipsum", text="qwx zzv kkpt lorem ipsum dolor"
    )
    shown = panel(page(client, staff.riyadh_agent, case).content.decode())
    assert shown.count('data-abstained="1"') == 2
    assert "<form" not in shown
    assert all(s.abstained for s in Suggestion.objects.filter(request=case))


def test_without_a_model_there_is_no_panel(client, ministry, sara, staff) -> None:
    case = filed_under_exams(ministry, sara, "buses")
    response = page(client, staff.riyadh_agent, case)
    assert response.status_code == 200
    assert panel(response.content.decode()) == ""


# --- the admin: read-only, suggestions through the access layer ---------------------------------


def _admin_login(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)


@pytest.mark.usefixtures("trained")
def test_the_admin_lists_versions_and_only_the_suggestions_within_reach(
    client, ministry, sara, staff
) -> None:
    riyadh = filed_under_exams(ministry, sara, "buses")
    makkah = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.transfer,
        subject="طلب نقل معلمة",
        description="أطلب نقل معلمة من الرياض إلى جدة لظروف عائلية",
        entity=ministry.makkah,
    )
    for case in (riyadh, makkah):
        suggest(case)
    _admin_login(client, staff.riyadh_agent)
    listed = client.get("/en/admin/insights/suggestion/")
    assert listed.status_code == 200
    assert riyadh.tracking_display in listed.content.decode()
    assert makkah.tracking_display not in listed.content.decode()
    versions = client.get("/en/admin/insights/textmodel/")
    assert versions.status_code == 200
    assert "Add text classifier" not in versions.content.decode()
    one = Suggestion.objects.get(request=makkah, target=TextTarget.CATEGORY)
    assert client.get(f"/en/admin/insights/suggestion/{one.pk}/change/").status_code in {302, 404}


@pytest.mark.usefixtures("trained")
def test_triage_shows_a_differing_suggestion_beside_the_row(
    client, ministry, sara, staff, buses
) -> None:
    # given two new requests at Riyadh: one about buses filed under exams, one about exams
    wrong = filed_under_exams(ministry, sara, "buses")
    right = filed_under_exams(ministry, sara, "exams")
    made = {case.pk: suggest(case) for case in (wrong, right)}
    assert made[wrong.pk]
    assert made[right.pk]
    # when a Riyadh agent lists the entity's queue
    client.force_login(staff.riyadh_agent)
    html = client.get(reverse("console:queue", args=["subtree"])).content.decode()
    rows = dict(re.findall(r'<tr data-request="(\d+)">(.*?)</tr>', html, re.S))
    # then the misfiled one shows the suggested category and entity with their confidence
    shown = rows[str(wrong.pk)]
    assert 'data-suggested="category"' in shown
    assert "النقل المدرسي" in shown
    assert 'data-suggested="entity"' in shown
    assert ministry.university.name_ar in shown
    category = Suggestion.objects.get(request=wrong, target=TextTarget.CATEGORY)
    assert f"{round(category.confidence * 100)}%" in shown
    # and the one filed where it belongs shows no suggestion
    assert "data-suggested" not in rows[str(right.pk)]
