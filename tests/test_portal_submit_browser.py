"""Sending a request in a real (headless Chromium) browser: the wizard with JavaScript,
and the plain one-page form without it."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, Route, expect

from tawasul.cases.models import Attachment, Request
from tawasul.portal.session import BENEFICIARY_KEY

from .test_portal_submit import tiny_pdf

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
SUBMITTED = re.compile(r".*/requests/(\d{11})/submitted/$")

# A file dropped on the drop zone, built inside the page.
DROP_FILE = """(bytes) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(bytes)], "scan.pdf", {type: "application/pdf"}));
  return transfer;
}"""


def shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def sign_in_browser(context: BrowserContext, live_server, beneficiary) -> None:
    """Give the browser a portal session for `beneficiary` (as after a one-time code)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[BENEFICIARY_KEY] = beneficiary.pk
    session.save()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_wizard_sends_a_request_with_files_and_shows_its_number(
    page: Page, live_server, ministry, sara, media
):
    name = "submit-wizard"
    # Given Sara, signed in, on a phone-sized screen
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_browser(page.context, live_server, sara)

    # When she opens the new-request page
    page.goto(f"{live_server.url}/requests/new/")

    # Then she sees the first step only, with the step indicator
    step1, step2, step3 = (page.locator(f"#step-{n}") for n in (1, 2, 3))
    expect(step1).to_be_visible()
    expect(step2).to_be_hidden()
    expect(step3).to_be_hidden()
    expect(page.locator("[data-wizard-progress] [aria-current=step]")).to_have_attribute(
        "data-progress-step", "1"
    )
    shot(page, name, "1-start")

    # And Next does not move on before a kind is chosen
    step1.locator("[data-next]").click()
    expect(step1).to_be_visible()
    expect(step2).to_be_hidden()

    # When she chooses a complaint, the praise-only category disappears
    page.locator("#id_kind_1").check()
    praise = page.locator(f"#id_category option[value='{ministry.praise_only.pk}']")
    exams = page.locator(f"#id_category option[value='{ministry.exams.pk}']")
    expect(praise).to_have_js_property("hidden", True)
    expect(exams).to_have_js_property("hidden", False)

    # And filtering the entities by "مكة" leaves Makkah and hides Riyadh
    page.locator("#entity-filter").fill("مكة")
    riyadh = page.locator(f"#id_entity option[value='{ministry.riyadh.pk}']")
    makkah = page.locator(f"#id_entity option[value='{ministry.makkah.pk}']")
    expect(riyadh).to_have_js_property("hidden", True)
    expect(makkah).to_have_js_property("hidden", False)
    expect(page.locator("#entity-filter-status")).to_contain_text("1")
    page.locator("#id_entity").select_option(str(ministry.makkah.pk))
    page.locator("#id_category").select_option(str(ministry.exams.pk))
    shot(page, name, "2-kind-entity-category")
    step1.locator("[data-next]").click()

    # Then the second step shows; she writes, and the counter follows
    expect(step2).to_be_visible()
    expect(step1).to_be_hidden()
    page.locator("#id_subject").fill("نتيجة الاختبار لم تظهر")
    description = "لم تظهر نتيجة ابني في نظام نور حتى الآن."
    page.locator("#id_description").fill(description)
    expect(page.locator("[data-counter-for=id_description]")).to_contain_text(f"{len(description)}")
    expect(page.locator("[data-counter-for=id_description]")).to_contain_text("5000")

    # And she chooses one PDF and drops another on the drop zone
    page.locator("#id_attachments").set_input_files(
        files=[{"name": "result.pdf", "mimeType": "application/pdf", "buffer": tiny_pdf()}]
    )
    dropped = page.evaluate_handle(DROP_FILE, list(tiny_pdf()))
    page.locator("[data-dropzone]").dispatch_event("drop", {"dataTransfer": dropped})
    files = page.locator("[data-file-list] li")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("result.pdf")
    expect(files.nth(1)).to_contain_text("scan.pdf")
    shot(page, name, "3-details-files")

    # When she goes back, her choices are kept, and forward again
    step2.locator("[data-back]").click()
    expect(step1).to_be_visible()
    expect(page.locator("#id_kind_1")).to_be_checked()
    expect(page.locator("#id_entity")).to_have_value(str(ministry.makkah.pk))
    step1.locator("[data-next]").click()
    expect(page.locator("#id_subject")).to_have_value("نتيجة الاختبار لم تظهر")
    step2.locator("[data-next]").click()

    # Then the last step sums up her request before sending
    expect(step3).to_be_visible()
    summary = page.locator("[data-summary]")
    expect(summary.locator("[data-summary-of=subject]")).to_have_text("نتيجة الاختبار لم تظهر")
    expect(summary.locator("[data-summary-of=entity]")).to_have_text(ministry.makkah.name_ar)
    expect(summary.locator("[data-summary-of=attachments]")).to_contain_text("scan.pdf")
    expect(page.locator("#id_preferred_contact_0")).to_be_checked()
    shot(page, name, "4-contact-summary")

    # When she sends it (the server's answer held back a moment), the progress bar appears
    held: list[Route] = []

    def hold_post(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route("**/requests/new/", hold_post)
    page.locator("[data-send]").click()
    progress = page.locator("[data-upload-progress]")
    expect(progress).to_be_visible()
    expect(page.locator("progress#upload-progress")).to_be_visible()
    expect(page.locator("[data-send]")).to_be_disabled()
    shot(page, name, "5-sending")
    for _attempt in range(200):  # let the held request reach the handler
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()

    # Then she lands on the confirmation with a tracking number that exists
    expect(page).to_have_url(SUBMITTED)
    tracking = SUBMITTED.match(page.url).group(1)
    number = page.locator(".tracking__number")
    expect(number).to_have_attribute("dir", "ltr")
    expect(number).to_have_text(f"{tracking[:3]}-{tracking[3:7]}-{tracking[7:]}")
    submitted = Request.objects.get(tracking_number=tracking)
    assert submitted.beneficiary_id == sara.pk
    assert submitted.entity_id == ministry.makkah.pk
    assert submitted.subject == "نتيجة الاختبار لم تظهر"
    assert sorted(
        Attachment.objects.filter(request=submitted).values_list("original_name", flat=True)
    ) == [
        "result.pdf",
        "scan.pdf",
    ]
    shot(page, name, "6-confirmation")


def test_server_errors_come_back_into_the_wizard(page: Page, live_server, ministry, sara, media):
    name = "submit-wizard-error"
    # Given Sara on the last step with a text file pretending to be a PDF
    sign_in_browser(page.context, live_server, sara)
    page.goto(f"{live_server.url}/en/requests/new/")
    page.locator("#id_kind_0").check()
    page.locator("#id_category").select_option(str(ministry.exams.pk))
    page.locator("#step-1 [data-next]").click()
    page.locator("#id_subject").fill("Exam dates")
    page.locator("#id_description").fill("When are the final exams held this year?")
    page.locator("#id_attachments").set_input_files(
        files=[{"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"just text" * 20}]
    )
    page.locator("#step-2 [data-next]").click()

    # When she sends it
    page.locator("[data-send]").click()

    # Then the page comes back on the step with the error, the summary says what is wrong
    expect(page.locator("#error-summary")).to_contain_text("This type of file is not accepted")
    expect(page.locator("#step-2")).to_be_visible()
    expect(page.locator("#step-3")).to_be_hidden()
    expect(page.locator("#id_attachments_error")).to_contain_text("notes.pdf")
    expect(page.locator("#id_subject")).to_have_value("Exam dates")
    assert Request.objects.count() == 0
    shot(page, name, "1-error")

    # And the wizard still works: the next step can be reached again
    page.locator("#id_attachments").set_input_files(
        files=[{"name": "result.pdf", "mimeType": "application/pdf", "buffer": tiny_pdf()}]
    )
    page.locator("#step-2 [data-next]").click()
    expect(page.locator("#step-3")).to_be_visible()
    page.locator("[data-send]").click()
    expect(page).to_have_url(SUBMITTED)
    assert Request.objects.count() == 1


def test_without_javascript_the_plain_form_sends_the_request(
    browser, live_server, ministry, sara, media
):
    name = "submit-no-js"
    # Given a browser with JavaScript off, and Sara signed in
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        sign_in_browser(context, live_server, sara)
        page = context.new_page()

        # When she opens the form
        page.goto(f"{live_server.url}/en/requests/new/")

        # Then the three steps show on one page, with no Next/Back buttons and no filter
        for n in (1, 2, 3):
            expect(page.locator(f"#step-{n}")).to_be_visible()
        expect(page.locator("[data-next]").first).to_be_hidden()
        expect(page.locator("[data-entity-filter]")).to_be_hidden()
        expect(page.locator("[data-upload-progress]")).to_be_hidden()
        shot(page, name, "1-form")

        # When she fills it in and sends it
        page.locator("#id_kind_2").check()
        page.locator("#id_entity").select_option(str(ministry.university.pk))
        page.locator("#id_category").select_option(str(ministry.exams.pk))
        page.locator("#id_subject").fill("More study rooms")
        page.locator("#id_description").fill("The library could open its study rooms at night.")
        page.locator("#id_attachments").set_input_files(
            files=[{"name": "idea.pdf", "mimeType": "application/pdf", "buffer": tiny_pdf()}]
        )
        shot(page, name, "2-filled")
        page.locator("[data-send]").click()

        # Then the confirmation shows the number of the request just recorded
        expect(page).to_have_url(SUBMITTED)
        tracking = SUBMITTED.match(page.url).group(1)
        submitted = Request.objects.get(tracking_number=tracking)
        assert submitted.kind == "suggestion"
        assert submitted.entity_id == ministry.university.pk
        assert submitted.attachments.get().content_type == "application/pdf"
        expect(page.locator(".tracking__number")).to_have_text(submitted.tracking_display)
        shot(page, name, "3-confirmation")
    finally:
        context.close()
