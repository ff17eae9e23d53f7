"""The portal shell: Arabic first and right-to-left, English at /en/, the language
remembered, Hijri beside Gregorian on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.utils import timezone, translation

from tawasul.core.templatetags.tawasul_dates import dual_date_label


def _html_tag(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match, "no <html> tag"
    return match.group(0)


def _render(source: str, language: str, **context: object) -> str:
    with translation.override(language):
        return Template("{% load tawasul_dates %}" + source).render(Context(context))


# --- pages ------------------------------------------------------------------------------


def test_home_is_arabic_and_right_to_left_by_default(client, db):
    response = client.get("/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="ar"' in _html_tag(page)
    assert 'dir="rtl"' in _html_tag(page)


def test_home_in_english_is_left_to_right(client, db):
    response = client.get("/en/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="en"' in _html_tag(page)
    assert 'dir="ltr"' in _html_tag(page)


@pytest.mark.parametrize(("url", "language"), [("/", "ar"), ("/en/", "en")])
def test_every_page_shows_today_in_hijri_and_gregorian(client, db, url, language):
    page = client.get(url).content.decode()

    today = dual_date_label(timezone.localdate(), language)
    assert ("هـ" if language == "ar" else "AH") in today
    assert today in page


def test_home_explains_what_can_be_sent_and_the_promise(client, db):
    page = client.get("/en/").content.decode()

    for kind in ("Inquiry", "Complaint", "Suggestion", "Observation", "Praise"):
        assert f"<h3>{kind}</h3>" in page
    for channel in ("Web portal", "Call centre", "Walk-in"):
        assert channel in page
    assert "5 working days" in page
    assert 'href="/en/admin/"' in page


def test_pages_load_nothing_from_other_sites(client, db):
    page = client.get("/").content.decode()

    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page


# --- language choice --------------------------------------------------------------------------


def test_choosing_english_sets_the_cookie_and_goes_to_the_english_page(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/en/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) == settings.LANGUAGE_COOKIE_AGE


def test_the_chosen_language_is_remembered_on_the_next_visit(client, db):
    # Given a visitor who chose English
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    # When they come back to the home page without a language in the address
    response = client.get("/")

    # Then they are taken to the English page
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    assert "Cookie" in response["Vary"]


def _switch_form(page: str, language: str) -> dict[str, str]:
    """The fields the page's language switch posts for `language`."""
    form = re.search(
        rf'<form action="/i18n/setlang/" method="post">(?:(?!</form>).)*'
        rf'name="language" value="{language}"(?:(?!</form>).)*</form>',
        page,
        re.DOTALL,
    )
    assert form, f"no switch to {language}"
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def test_choosing_arabic_on_an_english_page_goes_back_to_the_plain_address(client, db):
    # Given a visitor reading the English page, having chosen English
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/en/").content.decode()

    # When they press the Arabic button of the page
    response = client.post("/i18n/setlang/", _switch_form(english, "ar"))

    # Then they land on the Arabic page, and stay there on the next visit
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    page = client.get("/").content.decode()
    assert 'dir="rtl"' in _html_tag(page)


def test_an_explicit_language_in_the_address_wins_over_the_cookie(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    page = client.get("/en/").content.decode()

    assert 'dir="ltr"' in _html_tag(page)


def test_the_language_form_posts_to_set_language(client, db):
    page = client.get("/").content.decode()

    assert _switch_form(page, "en") == {"next": "/en/", "language": "en"}
    assert 'name="csrfmiddlewaretoken"' in page


# --- the stylesheet ---------------------------------------------------------------------------


def test_stylesheet_is_served_and_uses_logical_properties_only(client, db):
    path = finders.find("portal/tawasul.css")
    assert path
    with open(path, encoding="utf-8") as handle:
        css = handle.read()

    assert not re.search(r"\b(left|right)\b", css)
    assert "margin-inline" in css
    assert "padding-inline" in css
    assert "inset-inline-start" in css
    assert '"Noto Naskh Arabic", "Amiri", "Segoe UI", Tahoma, sans-serif' in css
    assert ":focus-visible" in css
    assert "@import" not in css
    assert "url(" not in css
    assert client.get("/static/portal/tawasul.css").status_code == 200


# --- the dual date -----------------------------------------------------------------------------


def test_dual_date_in_arabic():
    text = _render("{{ day|dual_date }}", "ar", day=dt.date(2026, 11, 28))

    assert text == "28 نوفمبر 2026 — 18 جمادى الآخرة 1448 هـ"


def test_dual_date_in_english():
    text = _render("{{ day|dual_date }}", "en", day=dt.date(2026, 11, 28))

    assert text == "28 November 2026 — 18 Jumada al-Akhirah 1448 AH"


def test_dual_date_of_a_datetime_is_the_day_in_riyadh():
    # 22:30 UTC on 28 November is 01:30 on 29 November in Riyadh
    moment = dt.datetime(2026, 11, 28, 22, 30, tzinfo=dt.UTC)

    text = _render("{{ moment|dual_date }}", "en", moment=moment)

    assert text == "29 November 2026 — 19 Jumada al-Akhirah 1448 AH"


def test_dual_datetime_adds_the_riyadh_time():
    moment = dt.datetime(2026, 11, 28, 22, 30, tzinfo=dt.UTC)

    text = _render("{{ moment|dual_datetime }}", "en", moment=moment)

    assert text == "29 November 2026 01:30 — 19 Jumada al-Akhirah 1448 AH"


def test_dual_date_outside_the_umm_al_qura_range_keeps_the_gregorian_date():
    text = _render("{{ day|dual_date }}", "en", day=dt.date(2090, 1, 1))

    assert text == "1 January 2090"


def test_dual_date_of_nothing_is_empty():
    assert _render("{{ day|dual_date }}|{{ day|dual_datetime }}", "ar", day=None) == "|"


def test_the_chosen_language_is_remembered_across_the_site(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/admin/login/")
    assert client.get("/healthz").status_code == 200  # not a translated address: no redirect
