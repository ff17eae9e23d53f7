"""Similar requests (issue 12): candidates through the access layer, text similarity over
normalised Arabic, the documented score, the workspace panel with its link and merge
actions, the intake check and the staff API endpoint.

Personas from conftest: Sara (parent) and Khalid (teacher) write to the Riyadh
department; the Riyadh agent works there; the Makkah agent and the university agent
see nothing of Riyadh.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer

from tawasul.api.credentials import personal_token_create
from tawasul.api.models import Scope
from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases import services as svc
from tawasul.cases.models import EventKind, Request, RequestLink, Status
from tawasul.console.intake_views import caller_token
from tawasul.core.ids import tracking_number_new
from tawasul.insights.similar import (
    NEAR_DUPLICATE,
    SimilarReason,
    similar_requests,
    similarity_score,
    text_normalised,
    text_similarities,
    text_vectors,
)
from tests.conftest import Ministry, Staff, luhn_complete

pytestmark = pytest.mark.django_db

RESULTS_LATE = (
    "تأخر نتيجة الاختبار",
    "لم تظهر نتيجة ابني في نظام نور حتى الآن رغم انتهاء الفصل الدراسي الأول بأسبوعين.",
)
# The same complaint typed differently: hamza on alef dropped, ta marbuta as ha,
# diacritics and a tatweel added.
RESULTS_LATE_VARIANT = (
    "تاخر نتيجه الاِختبَار",
    "لم تظهر نتيجه ابني في نظام نـور حتى الان رغم انتهاء الفصل الدراسي الاول باسبوعين.",
)
AIR_CONDITIONING = (
    "تعطل المكيفات في المبنى",
    "المكيفات في فصول المدرسة متعطلة منذ بداية الشهر والحرارة مرتفعة جداً على الطلاب.",
)


def submit(
    ministry: Ministry,
    beneficiary: Beneficiary,
    text: tuple[str, str] = RESULTS_LATE,
    *,
    days_ago: int = 0,
    **overrides: Any,
) -> Request:
    fields: dict[str, Any] = {
        "beneficiary": beneficiary,
        "kind": "complaint",
        "category": ministry.exams,
        "subject": text[0],
        "description": text[1],
        "entity": ministry.riyadh,
    }
    made = svc.request_submit(**{**fields, **overrides})
    if days_ago:
        Request.objects.filter(pk=made.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        made.refresh_from_db()
    return made


def found_numbers(user: Any, case: Request, **kw: Any) -> list[str]:
    return [row.request.tracking_number for row in similar_requests(user=user, request=case, **kw)]


@pytest.fixture
def noura(db: None) -> Beneficiary:
    """A student who writes to the Riyadh department too."""
    return beneficiary_register(
        full_name="نورة القحطاني",
        national_id=luhn_complete("100000003"),
        mobile="0557654321",
        kind="student",
        consent=True,
    )


@pytest.fixture
def case(ministry: Ministry, staff: Staff, sara: Beneficiary) -> Request:
    """Sara's complaint that her son's result is late, being worked in Riyadh."""
    return submit(ministry, sara, days_ago=1)


# --- text ---------------------------------------------------------------------------------


def test_text_vectors_are_those_of_the_char_wb_tfidf_vectoriser() -> None:
    texts = [*RESULTS_LATE, *RESULTS_LATE_VARIANT, *AIR_CONDITIONING, "Exam RESULTS  late", ""]
    reference = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), preprocessor=text_normalised, sublinear_tf=True
    ).fit_transform(texts)
    ours = text_vectors(texts)
    assert ours.shape == reference.shape
    assert abs((ours @ ours.T) - (reference @ reference.T)).max() < 1e-9


def test_spelling_variants_are_the_same_text_and_another_topic_is_not() -> None:
    variant, other = text_similarities(
        "\n".join(RESULTS_LATE), ["\n".join(RESULTS_LATE_VARIANT), "\n".join(AIR_CONDITIONING)]
    )
    assert variant > 0.95
    assert other < 0.2
    assert text_similarities("…", []) == []
    assert text_similarities("", ["", " "]) == [0.0, 0.0]


@pytest.mark.parametrize(
    ("text", "reasons", "expected"),
    [
        (
            1.0,
            [
                SimilarReason.SAME_BENEFICIARY,
                SimilarReason.SAME_ENTITY,
                SimilarReason.SAME_CATEGORY,
            ],
            1.0,
        ),
        (1.0, [SimilarReason.SAME_ENTITY, SimilarReason.SAME_CATEGORY], 0.85),
        (0.5, [SimilarReason.SAME_BENEFICIARY], 0.5),
        (0.1, [SimilarReason.SAME_ENTITY], 0.17),
        (0.0, [SimilarReason.SAME_CATEGORY], 0.05),
    ],
)
def test_the_score_is_the_documented_formula(
    text: float, reasons: list[SimilarReason], expected: float
) -> None:
    assert similarity_score(text=text, reasons=reasons) == pytest.approx(expected)


# --- candidates and ranking ---------------------------------------------------------------


def test_an_exact_duplicate_from_the_same_beneficiary_ranks_first_and_is_flagged(
    ministry: Ministry, staff: Staff, sara: Beneficiary, noura: Beneficiary, case: Request
) -> None:
    related = submit(ministry, noura, RESULTS_LATE_VARIANT)
    duplicate = submit(ministry, sara)
    found = similar_requests(user=staff.riyadh_agent, request=case)
    assert [row.request for row in found[:2]] == [duplicate, related]
    first = found[0]
    assert first.near_duplicate
    assert first.score == pytest.approx(1.0)
    assert set(first.reasons) == {
        SimilarReason.SAME_BENEFICIARY,
        SimilarReason.SAME_TEXT,
        SimilarReason.SAME_ENTITY,
        SimilarReason.SAME_CATEGORY,
    }
    assert first.percent == 100
    assert not first.linked
    assert not first.merged


def test_a_spelling_variant_duplicate_is_found(
    ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    variant = submit(ministry, sara, RESULTS_LATE_VARIANT)
    [row] = similar_requests(user=staff.riyadh_agent, request=case)
    assert row.request == variant
    assert SimilarReason.SAME_TEXT in row.reasons
    assert row.near_duplicate
    assert row.score >= NEAR_DUPLICATE


def test_an_unrelated_request_of_the_same_entity_scores_low(
    ministry: Ministry, staff: Staff, noura: Beneficiary, case: Request
) -> None:
    unrelated = submit(ministry, noura, AIR_CONDITIONING)
    [row] = similar_requests(user=staff.riyadh_agent, request=case, min_score=0)
    assert row.request == unrelated
    assert row.text_score < 0.2
    assert row.score < 0.3
    assert not row.near_duplicate
    assert SimilarReason.SAME_ENTITY in row.reasons
    assert SimilarReason.NEAR_TEXT not in row.reasons
    assert similar_requests(user=staff.riyadh_agent, request=case) == []  # not shown


def test_a_request_the_user_may_not_view_is_never_returned(
    ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    # The same beneficiary, the same text and category, at another entity.
    makkah = submit(ministry, sara, entity=ministry.makkah)
    assert makkah.tracking_number in found_numbers(staff.central_agent, case)
    assert makkah.tracking_number not in found_numbers(staff.riyadh_agent, case, min_score=0)
    assert found_numbers(staff.makkah_agent, makkah, min_score=0) == []  # Riyadh's is hidden
    assert found_numbers(staff.outsider, case, min_score=0) == []


def test_outside_the_period_only_the_same_beneficiary_counts(  # noqa: PLR0917
    ministry: Ministry,
    staff: Staff,
    sara: Beneficiary,
    noura: Beneficiary,
    case: Request,
    settings: Any,
) -> None:
    old_other = submit(ministry, noura, days_ago=settings.TAWASUL_SIMILAR_DAYS + 10)
    old_own = submit(ministry, sara, days_ago=settings.TAWASUL_SIMILAR_DAYS + 10)
    too_old_own = submit(ministry, sara, days_ago=400)
    recent_other = submit(ministry, noura, days_ago=settings.TAWASUL_SIMILAR_DAYS - 10)
    found = {
        row.request: row
        for row in similar_requests(user=staff.riyadh_agent, request=case, min_score=0)
    }
    assert set(found) == {old_own, recent_other}
    assert old_other not in found
    assert too_old_own not in found
    # Outside the period, the entity and category are no longer reasons of their own.
    assert set(found[old_own].reasons) == {SimilarReason.SAME_BENEFICIARY, SimilarReason.SAME_TEXT}
    assert SimilarReason.SAME_ENTITY in found[recent_other].reasons


def test_merged_duplicates_and_cancelled_requests_of_others_are_left_out(
    ministry: Ministry, staff: Staff, sara: Beneficiary, noura: Beneficiary, case: Request
) -> None:
    merged_away = submit(ministry, sara)
    svc.request_merge(request=merged_away, into=case, by=staff.riyadh_agent, reason="مكرر")
    cancelled_other = submit(ministry, noura)
    svc.request_cancel(request=cancelled_other, reason="بلاغ وهمي", by=staff.riyadh_supervisor)
    cancelled_own = submit(ministry, sara)
    svc.request_cancel(request=cancelled_own, reason="سحب الطلب", by=staff.riyadh_supervisor)
    found = found_numbers(staff.riyadh_agent, case, min_score=0)
    assert found == [cancelled_own.tracking_number]
    assert case.tracking_number not in found


def test_already_linked_and_merged_into_are_said(
    ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    linked = submit(ministry, sara)
    survivor = submit(ministry, sara)
    svc.request_link(request=case, other=linked, by=staff.riyadh_agent)
    svc.request_merge(request=case, into=survivor, by=staff.riyadh_agent, reason="مكرر")
    case.refresh_from_db()
    found = {row.request: row for row in similar_requests(user=staff.riyadh_agent, request=case)}
    assert found[linked].linked
    assert not found[linked].merged
    assert found[survivor].merged
    assert not found[survivor].linked


def test_queries_do_not_grow_with_the_candidates(
    ministry: Ministry, staff: Staff, sara: Beneficiary, noura: Beneficiary, case: Request
) -> None:
    submit(ministry, sara)
    similar_requests(user=staff.riyadh_agent, request=case)  # the user's scope, read once
    with CaptureQueriesContext(connection) as few:
        similar_requests(user=staff.riyadh_agent, request=case)
    for _ in range(6):
        submit(ministry, noura, RESULTS_LATE_VARIANT)
        submit(ministry, noura, AIR_CONDITIONING, entity=ministry.makkah)
    with CaptureQueriesContext(connection) as many:
        assert len(similar_requests(user=staff.riyadh_agent, request=case)) == 7
    assert len(many) == len(few) <= 8


# --- the workspace panel ------------------------------------------------------------------


def panel(client: Client, case: Request) -> Any:
    return client.get(
        reverse("console:request_similar", args=[case.pk]), headers={"HX-Request": "true"}
    )


def test_the_workspace_loads_the_panel_lazily(client: Client, staff: Staff, case: Request) -> None:
    client.force_login(staff.riyadh_agent)
    page = client.get(reverse("console:request", args=[case.pk])).content.decode()
    assert f'hx-get="{reverse("console:request_similar", args=[case.pk])}"' in page
    assert 'id="similar"' in page


def test_the_panel_offers_link_and_merge_and_linking_from_it_works(
    client: Client, ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    duplicate = submit(ministry, sara, RESULTS_LATE_VARIANT)
    client.force_login(staff.riyadh_agent)
    response = panel(client, case)
    assert response.status_code == 200
    html = response.content.decode()
    assert duplicate.tracking_display in html
    assert duplicate.subject in html
    assert ministry.riyadh.name in html
    assert str(SimilarReason.SAME_BENEFICIARY.label) in html
    assert re.search(r">\s*\d{2,3}\s*%", html)
    link_url = reverse("console:request_act", args=[case.pk, "link"])
    merge_url = reverse("console:request_act", args=[case.pk, "merge"])
    assert f'action="{link_url}"' in html
    assert f'action="{merge_url}"' in html
    prefilled = re.search(r'name="link-tracking_number" value="([^"]+)"', html)
    assert prefilled is not None
    assert 'name="merge-tracking_number"' in html
    assert 'name="merge-reason"' in html

    done = client.post(link_url, {"link-tracking_number": prefilled.group(1)})

    assert done.status_code == 302
    assert RequestLink.objects.filter(request=case, related=duplicate).exists()
    assert duplicate.events.filter(kind=EventKind.LINKED).exists()
    again = panel(client, case).content.decode()
    assert 'name="link-tracking_number"' not in again  # already linked: no second link
    assert 'name="merge-tracking_number"' in again


def test_merging_from_the_panel_goes_through_the_workspace_action(
    client: Client, ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    survivor = submit(ministry, sara, days_ago=2)
    client.force_login(staff.riyadh_agent)
    html = panel(client, case).content.decode()
    number = re.search(r'name="merge-tracking_number" value="([^"]+)"', html)
    assert number is not None
    done = client.post(
        reverse("console:request_act", args=[case.pk, "merge"]),
        {"merge-tracking_number": number.group(1), "merge-reason": "الطلب نفسه"},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.merged_into == survivor
    assert case.status == Status.CLOSED


def test_viewers_see_the_panel_without_actions(
    client: Client, ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    duplicate = submit(ministry, sara)
    client.force_login(staff.executive)
    html = panel(client, case).content.decode()
    assert duplicate.tracking_display in html
    assert "link-tracking_number" not in html
    assert "merge-tracking_number" not in html


def test_the_panel_of_a_request_out_of_reach_is_404(
    client: Client, staff: Staff, case: Request
) -> None:
    client.force_login(staff.makkah_agent)
    assert panel(client, case).status_code == 404


def test_without_javascript_the_panel_is_in_the_workspace(
    client: Client, ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    duplicate = submit(ministry, sara)
    client.force_login(staff.riyadh_agent)
    plain = client.get(reverse("console:request_similar", args=[case.pk]))
    assert plain.status_code == 302
    assert plain["Location"].endswith("?similar=1#similar")
    page = client.get(reverse("console:request", args=[case.pk]), {"similar": "1"})
    assert duplicate.tracking_display in page.content.decode()


# --- intake -------------------------------------------------------------------------------


def test_intake_shows_requests_like_what_the_caller_describes(
    client: Client, ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    token = caller_token(sara)
    client.force_login(staff.central_agent)
    page = client.get(reverse("console:intake_caller", args=[token])).content.decode()
    url = reverse("console:intake_similar", args=[token])
    assert f'hx-get="{url}"' in page
    for field in ("subject", "description", "category", "entity"):  # what htmx sends
        assert f'id="id_req-{field}"' in page
    described = client.get(
        url,
        {
            "req-subject": RESULTS_LATE_VARIANT[0],
            "req-description": "",
            "req-entity": "",
            "req-category": str(ministry.exams.pk),
        },
        headers={"HX-Request": "true"},
    )
    assert described.status_code == 200
    assert case.tracking_display in described.content.decode()
    empty = client.get(url, {"req-subject": " "}, headers={"HX-Request": "true"})
    assert case.tracking_display not in empty.content.decode()


# --- the staff API ------------------------------------------------------------------------


def api_get(user: Any, path: str, **params: Any) -> Any:
    secret = personal_token_create(user=user, name="tool", scopes=[Scope.REQUESTS_READ]).secret
    return Client().get(
        f"/api/v1/staff{path}", params, headers={"Authorization": f"Bearer {secret}"}
    )


def test_the_api_lists_similar_requests_without_personal_data(
    ministry: Ministry, staff: Staff, sara: Beneficiary, noura: Beneficiary, case: Request
) -> None:
    duplicate = submit(ministry, sara)
    related = submit(ministry, noura, RESULTS_LATE_VARIANT)
    response = api_get(staff.riyadh_agent, f"/requests/{case.tracking_number}/similar")
    assert response.status_code == 200
    body = response.json()
    assert [row["tracking_number"] for row in body] == [
        duplicate.tracking_number,
        related.tracking_number,
    ]
    first = body[0]
    assert first["near_duplicate"] is True
    assert first["score"] == pytest.approx(1.0)
    assert set(first["reasons"]) == {
        "same_beneficiary",
        "same_text",
        "same_entity",
        "same_category",
    }
    assert first["entity"]["code"] == "riyadh"
    text = json.dumps(body, ensure_ascii=False)
    for personal in (sara.full_name, sara.mobile, sara.national_id, noura.full_name):
        assert personal not in text
    limited = api_get(staff.riyadh_agent, f"/requests/{case.tracking_number}/similar", limit=1)
    assert len(limited.json()) == 1


def test_the_api_answers_404_for_a_request_out_of_reach(
    ministry: Ministry, staff: Staff, sara: Beneficiary, case: Request
) -> None:
    hidden = api_get(staff.makkah_agent, f"/requests/{case.tracking_number}/similar")
    unknown = api_get(staff.makkah_agent, f"/requests/{tracking_number_new()}/similar")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()
    assert hidden.json()["code"] == "not_found"
    unknown_parameter = api_get(
        staff.riyadh_agent, f"/requests/{case.tracking_number}/similar", top=3
    )
    assert unknown_parameter.status_code == 422


# --- in a browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_the_panel_loads_after_the_page_and_links_in_a_browser(  # noqa: PLR0917
    browser: Any,
    live_server: Any,
    ministry: Ministry,
    staff: Staff,
    sara: Beneficiary,
    case: Request,
) -> None:
    from pathlib import Path

    from django.conf import settings
    from playwright.sync_api import expect

    # Given Sara's complaint and the same complaint typed again
    duplicate = submit(ministry, sara, RESULTS_LATE_VARIANT)
    client = Client()
    client.force_login(staff.riyadh_agent)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    # When the agent opens the workspace, the panel arrives after the page
    page.goto(f"{live_server.url}{reverse('console:request', args=[case.pk])}")
    row = page.locator(f'#similar tr[data-tracking="{duplicate.tracking_number}"]')
    expect(row).to_contain_text("تاخر نتيجه")
    expect(page.locator("#similar")).not_to_have_attribute("aria-busy", "true")
    shots = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "similar-panel.png"), full_page=True)
    # And links it from the panel
    row.locator("form.action--link button").click()
    # Then the link is made, shown with the related requests, and the panel says so
    expect(page.locator(".links")).to_contain_text(duplicate.tracking_display)
    expect(
        page.locator(f'#similar tr[data-tracking="{duplicate.tracking_number}"] form.action--link')
    ).to_have_count(0)
    assert RequestLink.objects.filter(request=case, related=duplicate).exists()
    context.close()


@pytest.mark.browser
def test_intake_shows_similar_requests_once_the_subject_is_typed_in_a_browser(  # noqa: PLR0917
    browser: Any,
    live_server: Any,
    ministry: Ministry,
    staff: Staff,
    sara: Beneficiary,
    case: Request,
) -> None:
    from django.conf import settings
    from playwright.sync_api import expect

    client = Client()
    client.force_login(staff.central_agent)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('console:intake_caller', args=[caller_token(sara)])}")
    page.locator("#id_req-subject").fill(RESULTS_LATE_VARIANT[0])
    page.locator("#id_req-description").focus()  # leaving the subject: change
    expect(page.locator("#intake-similar")).to_contain_text(case.tracking_display)
    context.close()
