"""Portal sign-in by one-time code: the code, the first-sign-in identity with consent, sign-out."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from tawasul.beneficiaries.models import Beneficiary, SignInCode
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import InvalidInput
from tawasul.core.validators import national_id_clean
from tawasul.portal.session import BENEFICIARY_KEY, PENDING_KEY
from tawasul.portal.signin_views import CHALLENGE_KEY

from .conftest import luhn_complete

NEW_MOBILE = "0561112223"
NEW_MOBILE_E164 = "+966561112223"
NEW_NATIONAL_ID = luhn_complete("104444444")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def sms_code() -> str:
    outbox_drain()
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)


def mail_code() -> str:
    outbox_drain()
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def main_text(response) -> str:
    """The page's <main>, without the CSRF token."""
    page = response.content.decode()
    main = re.search(r"<main.*</main>", page, re.DOTALL).group(0)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def field_error(response, field: str) -> str:
    match = re.search(
        rf'<p class="field__error" id="id_{field}_error">(.*?)</p>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match, f"no error shown on {field}"
    return match.group(1)


def ask_code(client, destination: str, *, prefix: str = "/en", next_url: str = ""):
    data = {"destination": destination}
    if next_url:
        data["next"] = next_url
    return client.post(f"{prefix}/signin/", data)


def enter_code(client, code: str, *, prefix: str = "/en", next_url: str = ""):
    data = {"code": code}
    if next_url:
        data["next"] = next_url
    return client.post(f"{prefix}/signin/code/", data)


def verified_new_address(client, destination: str = NEW_MOBILE) -> None:
    """A visitor whose address is confirmed but who is not a beneficiary yet."""
    ask_code(client, destination)
    response = enter_code(client, sms_code())
    assert response.status_code == 302
    assert response["Location"] == "/en/signin/profile/"


PROFILE = {
    "national_id": NEW_NATIONAL_ID,
    "full_name": "Nora Al-Harbi",
    "kind": "student",
    "language": "en",
    "consent": "on",
}


# --- asking for a code -----------------------------------------------------------------


def test_the_sign_in_page_asks_for_a_mobile_or_e_mail(client, db):
    response = client.get("/en/signin/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="destination"' in page
    assert (
        '<label class="field__label" for="id_destination">Mobile number or e-mail</label>' in page
    )
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_code_is_sent_to_the_mobile_and_the_code_page_follows(client, db, channels_in_memory):
    # When a visitor asks for a code for their mobile (typed in a local form)
    response = ask_code(client, "055 123 4567")

    # Then a sign_in_code message is queued to the normalised number and they go to the code page
    assert response.status_code == 302
    assert response["Location"] == "/en/signin/code/"
    message = OutboxMessage.objects.get(template="sign_in_code")
    assert message.recipient == "+966551234567"
    assert message.language == "en"
    assert client.session[CHALLENGE_KEY]["address"] == "+966551234567"
    page = client.get("/en/signin/code/")
    assert (
        "If this address can receive messages, a code has been sent to it." in page.content.decode()
    )
    assert '<bdi dir="ltr">+966551234567</bdi>' in page.content.decode()
    assert 'autocomplete="one-time-code"' in page.content.decode()
    assert 'inputmode="numeric"' in page.content.decode()


def test_known_and_unknown_addresses_get_the_same_answer(
    client_factory, db, sara, channels_in_memory
):
    # Given sara's mobile (known) and another one (unknown)
    known_client, unknown_client = client_factory(), client_factory()

    # When each asks for a code
    known = ask_code(known_client, "0551234567")
    unknown = ask_code(unknown_client, "0559876543")

    # Then both get the same redirect, a code, and the same page apart from the address
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert OutboxMessage.objects.filter(template="sign_in_code").count() == 2
    known_page = main_text(known_client.get(known["Location"])).replace("+966551234567", "X")
    unknown_page = main_text(unknown_client.get(unknown["Location"])).replace("+966559876543", "X")
    assert known_page == unknown_page


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


def test_too_many_codes_for_one_address_is_refused_with_429(
    client, db, settings, channels_in_memory
):
    # Given a limit of two codes per address in 15 minutes, both used
    settings.TAWASUL_CODES_PER_15_MINUTES = 2
    ask_code(client, NEW_MOBILE)
    ask_code(client, NEW_MOBILE)

    # When a third is asked for
    response = ask_code(client, NEW_MOBILE)

    # Then the form says so, with 429, and no third code is sent
    assert response.status_code == 429
    assert "Too many codes were asked for this address" in response.content.decode()
    assert OutboxMessage.objects.filter(template="sign_in_code").count() == 2


def test_a_malformed_address_is_a_field_error_not_a_crash(client, db):
    response = ask_code(client, "not a number")

    assert response.status_code == 400
    assert "Enter a valid Saudi mobile number" in field_error(response, "destination")
    assert (
        'aria-describedby="id_destination_helptext id_destination_error"'
        in response.content.decode()
    )
    assert SignInCode.objects.count() == 0


def test_a_malformed_e_mail_is_a_field_error(client, db):
    response = ask_code(client, "someone@")

    assert response.status_code == 400
    assert "Enter a valid e-mail address." in field_error(response, "destination")


def test_the_code_page_without_a_code_sends_back_to_sign_in(client, db):
    response = client.get("/en/signin/code/")

    assert response.status_code == 302
    assert response["Location"] == "/en/signin/"


# --- entering the code -----------------------------------------------------------------


def test_a_wrong_code_is_refused_with_400_and_a_link_for_a_new_one(
    client, db, sara, channels_in_memory
):
    # Given a code sent to sara
    ask_code(client, "0551234567")
    code = sms_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    # When she types a wrong one
    response = enter_code(client, wrong)

    # Then she stays signed out, is told why and can ask for a new code
    assert response.status_code == 400
    assert "The code is wrong or has expired." in field_error(response, "code")
    assert '<a href="/en/signin/">Ask for a new code</a>' in response.content.decode()
    assert BENEFICIARY_KEY not in client.session
    assert SignInCode.objects.get().attempts == 1


def test_a_code_of_the_wrong_shape_is_a_field_error(client, db, channels_in_memory):
    ask_code(client, NEW_MOBILE)

    response = enter_code(client, "12a")

    assert response.status_code == 400
    assert "Enter the 6 digits of the code." in field_error(response, "code")
    assert SignInCode.objects.get().attempts == 0


def test_an_expired_code_is_refused(client, db, sara, settings, channels_in_memory):
    # Given codes that expire at once
    settings.TAWASUL_CODE_TTL_SECONDS = 0
    ask_code(client, "0551234567")

    # When the right code is typed
    response = enter_code(client, sms_code())

    # Then it no longer opens anything
    assert response.status_code == 400
    assert "The code is wrong or has expired." in field_error(response, "code")
    assert BENEFICIARY_KEY not in client.session


def test_a_code_works_only_once(client, client_factory, db, sara, channels_in_memory):
    # Given sara signed in with a code
    ask_code(client, "0551234567")
    code = sms_code()
    challenge = dict(client.session[CHALLENGE_KEY])
    assert enter_code(client, code).status_code == 302

    # When the same challenge and code are replayed from another browser
    replay = client_factory()
    session = replay.session
    session[CHALLENGE_KEY] = challenge
    session.save()
    response = enter_code(replay, code)

    # Then they are refused
    assert response.status_code == 400
    assert "The code is wrong or has expired." in field_error(response, "code")
    assert BENEFICIARY_KEY not in replay.session


def test_a_returning_beneficiary_goes_straight_to_their_requests(
    client, db, sara, channels_in_memory
):
    # Given sara, who has signed in before
    ask_code(client, "0551234567")
    before = client.session.session_key

    # When she types her code
    response = enter_code(client, sms_code())

    # Then she is signed in with a fresh session key and lands on her requests
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request_list")
    assert response["Location"] == "/en/requests/"
    assert client.session[BENEFICIARY_KEY] == sara.pk
    assert client.session.session_key != before
    assert CHALLENGE_KEY not in client.session


def test_the_most_recent_beneficiary_sharing_an_address_is_the_one_signed_in(
    client, db, sara, channels_in_memory
):
    # Given a second beneficiary registered later with sara's mobile
    from tawasul.beneficiaries.services import beneficiary_register

    later = beneficiary_register(full_name="Sara's son", mobile="0551234567", consent=True)

    ask_code(client, "0551234567")
    enter_code(client, sms_code())

    assert client.session[BENEFICIARY_KEY] == later.pk


def test_a_returning_beneficiary_signs_in_by_e_mail(client, db, khalid, channels_in_memory):
    ask_code(client, "Khalid@Example.com")

    response = enter_code(client, mail_code())

    assert response.status_code == 302
    assert client.session[BENEFICIARY_KEY] == khalid.pk
    assert mail.outbox[-1].to == ["khalid@example.com"]


def test_next_is_kept_through_the_code_when_it_stays_on_the_site(
    client, db, sara, channels_in_memory
):
    response = ask_code(client, "0551234567", next_url="/en/requests/new/")
    assert response["Location"] == "/en/signin/code/?next=%2Fen%2Frequests%2Fnew%2F"
    assert (
        'name="next" value="/en/requests/new/"' in client.get(response["Location"]).content.decode()
    )

    response = enter_code(client, sms_code(), next_url="/en/requests/new/")

    assert response["Location"] == "/en/requests/new/"


def test_next_to_another_site_is_ignored(client, db, sara, channels_in_memory):
    response = ask_code(client, "0551234567", next_url="https://evil.example/")
    assert response["Location"] == "/en/signin/code/"

    response = enter_code(client, sms_code(), next_url="https://evil.example/")

    assert response["Location"] == "/en/requests/"


# --- first sign-in: who you are, with consent -------------------------------------------------


def test_a_new_address_goes_on_to_the_profile_page_with_the_privacy_notice_first(
    client, db, channels_in_memory
):
    # Given a visitor whose address is unknown
    ask_code(client, NEW_MOBILE)
    before = client.session.session_key

    # When they type their code
    response = enter_code(client, sms_code())

    # Then the address is remembered as verified (in a new session), and they are asked who they are
    assert response["Location"] == "/en/signin/profile/"
    assert client.session[PENDING_KEY] == {"channel": "sms", "address": NEW_MOBILE_E164}
    assert client.session.session_key != before
    assert BENEFICIARY_KEY not in client.session
    page = client.get("/en/signin/profile/").content.decode()
    notice = page.index("Privacy notice")
    assert notice < page.index('name="national_id"')
    for words in (
        "Personal Data Protection Law",
        "national ID or iqama number",
        "Why",
        "How long",
        "to get a copy of it, to correct it, and to have it destroyed",
        "Who to contact",
    ):
        assert words in page[notice : page.index('name="national_id"')]
    assert 'type="checkbox" name="consent"' in page
    assert "required" in re.search(r'<input type="checkbox" name="consent"[^>]*>', page).group(0)


def test_the_profile_page_needs_a_verified_address(client, db):
    response = client.get("/en/signin/profile/")

    assert response.status_code == 302
    assert response["Location"] == "/en/signin/"


def test_first_sign_in_records_the_beneficiary_and_signs_them_in(client, db, channels_in_memory):
    # Given a visitor with a verified new mobile
    verified_new_address(client)

    # When they give who they are and agree to the privacy notice
    response = client.post("/en/signin/profile/", PROFILE)

    # Then they are a beneficiary with that mobile and their consent time, signed in
    assert response.status_code == 302
    assert response["Location"] == "/en/requests/"
    beneficiary = Beneficiary.objects.get(national_id=NEW_NATIONAL_ID)
    assert beneficiary.mobile == NEW_MOBILE_E164
    assert (beneficiary.full_name, beneficiary.kind, beneficiary.language) == (
        "Nora Al-Harbi",
        "student",
        "en",
    )
    assert beneficiary.consent_at is not None
    assert client.session[BENEFICIARY_KEY] == beneficiary.pk
    assert PENDING_KEY not in client.session


def test_first_sign_in_by_e_mail_records_the_e_mail(client, db, channels_in_memory):
    ask_code(client, "nora@example.com")
    enter_code(client, mail_code())

    client.post("/en/signin/profile/", PROFILE)

    beneficiary = Beneficiary.objects.get(national_id=NEW_NATIONAL_ID)
    assert (beneficiary.email, beneficiary.mobile, beneficiary.preferred_contact) == (
        "nora@example.com",
        "",
        "email",
    )


def test_without_consent_nothing_is_written(client, db, channels_in_memory):
    verified_new_address(client)

    response = client.post("/en/signin/profile/", {**PROFILE, "consent": ""})

    assert response.status_code == 400
    assert "Please read the privacy notice and agree to it to continue." in field_error(
        response, "consent"
    )
    assert not Beneficiary.objects.exists()
    assert BENEFICIARY_KEY not in client.session


@pytest.mark.parametrize(("prefix", "language"), [("", "ar"), ("/en", "en")])
def test_an_invalid_national_id_is_shown_on_its_field_in_the_page_language(
    client, db, channels_in_memory, prefix, language
):
    # Given a visitor with a verified new mobile
    verified_new_address(client)
    with pytest.raises(InvalidInput) as expected:
        national_id_clean("1234567890")

    # When the national ID fails its check digit
    response = client.post(f"{prefix}/signin/profile/", {**PROFILE, "national_id": "1234567890"})

    # Then the message is on the national ID field, in the page's language, and nothing is written
    assert response.status_code == 400
    message = expected.value.messages()[language]
    assert message in field_error(response, "national_id").replace("&#x27;", "'")
    if language == "ar":
        assert re.search("[\u0621-\u064a]", message)
    assert not Beneficiary.objects.exists()


def test_a_name_that_is_too_long_is_shown_on_its_field(client, db, channels_in_memory):
    verified_new_address(client)

    response = client.post("/en/signin/profile/", {**PROFILE, "full_name": "   "})

    assert response.status_code == 400
    assert "This field is required." in field_error(response, "full_name")


def test_someone_else_s_national_id_does_not_take_over_their_record(
    client, db, sara, channels_in_memory
):
    # Given a visitor who verified their own mobile
    verified_new_address(client)

    # When they claim sara's national ID
    response = client.post("/en/signin/profile/", {**PROFILE, "national_id": sara.national_id})

    # Then they are refused on that field, and sara's record is untouched
    assert response.status_code == 400
    assert "registered with another mobile number" in field_error(response, "national_id")
    sara.refresh_from_db()
    assert sara.mobile == "+966551234567"
    assert sara.full_name == "سارة العتيبي"
    assert BENEFICIARY_KEY not in client.session


# --- signed in: the header, and signing out ---------------------------------------------------


def test_the_header_offers_sign_in_and_tracking_when_signed_out(client, db):
    page = client.get("/en/").content.decode()

    assert '<a href="/en/signin/">Sign in</a>' in page
    assert '<a href="/en/track/">Track a request</a>' in page
    assert "Sign out" not in page


def test_the_header_offers_requests_and_sign_out_when_signed_in(
    client, db, sara, channels_in_memory
):
    ask_code(client, "0551234567")
    enter_code(client, sms_code())

    page = client.get("/en/").content.decode()

    assert '<form class="site-nav__signout" action="/en/signout/" method="post">' in page
    assert '<a href="/en/requests/">My requests</a>' in page
    assert '<a href="/en/requests/new/">New request</a>' in page
    assert '<a href="/en/signin/">Sign in</a>' not in page


def test_sign_out_clears_the_session(client, db, sara, channels_in_memory):
    # Given sara signed in
    ask_code(client, "0551234567")
    enter_code(client, sms_code())
    signed_in_key = client.session.session_key

    # When she signs out
    response = client.post("/en/signout/")

    # Then she is sent home with an empty session
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    assert BENEFICIARY_KEY not in client.session
    assert client.session.session_key != signed_in_key
    assert "Sign out" not in client.get("/en/").content.decode()


def test_the_sign_in_page_sends_a_signed_in_beneficiary_on(client, sara, channels_in_memory):
    ask_code(client, "0551234567")
    enter_code(client, sms_code())

    response = client.get("/en/signin/?next=/en/requests/new/")

    assert response.status_code == 302
    assert response["Location"] == "/en/requests/new/"


def test_sign_out_is_post_only(client, db):
    assert client.get("/en/signout/").status_code == 405


def test_the_arabic_sign_in_page_is_right_to_left(client, db):
    with translation.override("ar"):
        response = client.get("/signin/")

    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()
