"""The app's sign-in through the API: a code by SMS or e-mail, tokens for the code (with the
first-sign-in profile), rotating refresh tokens with reuse detection, sign-out, and the
401 / 422 / 429 answers — each in the one error shape, in Arabic and English."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

from tawasul.api.models import BeneficiaryToken, TokenKind
from tawasul.beneficiaries.models import Beneficiary, SignInCode
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain

from .conftest import luhn_complete

NEW_MOBILE = "0561112223"
NEW_NATIONAL_ID = luhn_complete("104444444")
SARA_MOBILE = "0551234567"

pytestmark = pytest.mark.usefixtures("channels_in_memory")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def post(client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/v1{path}", body or {}, content_type="application/json", headers=headers
    )


def me(client, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/api/v1/me", headers=headers)


def sms_code() -> str:
    outbox_drain()
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)


def mail_code() -> str:
    outbox_drain()
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def ask_code(client, destination: str):
    response = post(client, "/auth/code", {"destination": destination})
    assert response.status_code == 202, response.content
    return response.json()["challenge"]


def signed_in(client, destination: str = SARA_MOBILE) -> dict:
    challenge = ask_code(client, destination)
    code = mail_code() if "@" in destination else sms_code()
    response = post(
        client, "/auth/token", {"destination": destination, "challenge": challenge, "code": code}
    )
    assert response.status_code == 200, response.content
    return response.json()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "details"}
    assert body["message"]["ar"]
    assert body["message"]["en"]
    return body


# --- the code -------------------------------------------------------------------------------


def test_a_code_goes_to_a_known_mobile(client, sara):
    response = post(client, "/auth/code", {"destination": SARA_MOBILE})

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"challenge", "expires_in"}
    assert body["expires_in"] == 600
    assert SignInCode.objects.filter(public_id=body["challenge"]).exists()
    assert len(sms_code()) == 6


def test_an_unknown_address_gets_the_same_answer(client, sara):
    known = post(client, "/auth/code", {"destination": SARA_MOBILE})
    unknown = post(client, "/auth/code", {"destination": NEW_MOBILE})

    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert known.json()["expires_in"] == unknown.json()["expires_in"]
    assert SignInCode.objects.count() == 2


def test_a_code_by_e_mail(client, khalid):
    tokens = signed_in(client, "Khalid@Example.com")

    assert me(client, tokens["access_token"]).json()["full_name"] == "Khalid Rahman"


def test_a_bad_address_is_refused_in_both_languages_and_nothing_is_written(client, db):
    body = assert_error(post(client, "/auth/code", {"destination": "12345"}), 422, "mobile_invalid")

    assert body["message"] == {
        "ar": "أدخل رقم جوال سعوديًا صحيحًا، مثل 05XXXXXXXX.",
        "en": "Enter a valid Saudi mobile number, for example 05XXXXXXXX.",
    }
    assert SignInCode.objects.count() == 0


@pytest.mark.parametrize("destination", ["05\x0051234567", "\ud800", "x" * 300])
def test_text_the_database_cannot_store_is_a_422_not_a_500(client, db, destination):
    response = post(client, "/auth/code", {"destination": destination})

    body = assert_error(response, 422, "invalid")
    assert "destination" in body["details"]["fields"]


def test_a_missing_field_names_the_field(client, db):
    body = assert_error(post(client, "/auth/code", {}), 422, "invalid")

    assert body["details"]["fields"] == {"destination": ["Field required"]}


def test_too_many_codes_for_one_address_is_429(client, sara, settings):
    settings.TAWASUL_CODES_PER_15_MINUTES = 2
    for _ in range(2):
        post(client, "/auth/code", {"destination": SARA_MOBILE})

    response = post(client, "/auth/code", {"destination": SARA_MOBILE})

    assert_error(response, 429, "rate_limited")
    assert response["Retry-After"]
    assert SignInCode.objects.count() == 2


# --- tokens for the code --------------------------------------------------------------------


def test_a_known_beneficiary_gets_a_token_pair(client, sara):
    tokens = signed_in(client)

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["refresh_expires_in"] == 30 * 86400
    assert tokens["access_token"].startswith("twa_")
    assert tokens["refresh_token"].startswith("twr_")
    assert BeneficiaryToken.objects.filter(beneficiary=sara).count() == 2
    assert me(client, tokens["access_token"]).status_code == 200


def test_a_wrong_code_is_refused_and_counted(client, sara):
    challenge = ask_code(client, SARA_MOBILE)
    good = sms_code()
    wrong = "000000" if good != "000000" else "111111"

    response = post(
        client, "/auth/token", {"destination": SARA_MOBILE, "challenge": challenge, "code": wrong}
    )

    assert_error(response, 422, "code_invalid")
    assert SignInCode.objects.get(public_id=challenge).attempts == 1
    assert BeneficiaryToken.objects.count() == 0


def test_a_code_works_once(client, sara):
    challenge = ask_code(client, SARA_MOBILE)
    body = {"destination": SARA_MOBILE, "challenge": challenge, "code": sms_code()}
    assert post(client, "/auth/token", body).status_code == 200

    assert_error(post(client, "/auth/token", body), 422, "code_invalid")
    assert BeneficiaryToken.objects.count() == 2


def test_a_code_sent_to_another_address_does_not_sign_in_this_one(client, sara, khalid):
    challenge = ask_code(client, "khalid@example.com")

    response = post(
        client,
        "/auth/token",
        {"destination": SARA_MOBILE, "challenge": challenge, "code": mail_code()},
    )

    assert_error(response, 422, "code_invalid")
    assert BeneficiaryToken.objects.count() == 0


def test_the_code_exchange_needs_the_address_the_challenge_and_the_code(client, db):
    body = assert_error(post(client, "/auth/token", {"challenge": "x"}), 422, "required")

    assert body["details"]["fields"] == ["destination", "code"]


# --- first sign-in --------------------------------------------------------------------------


def _new_person_code(client) -> dict:
    challenge = ask_code(client, NEW_MOBILE)
    return {"destination": NEW_MOBILE, "challenge": challenge, "code": sms_code()}


def test_a_new_person_is_asked_to_sign_up_then_signs_up_with_the_token(client, ministry):
    response = post(client, "/auth/token", _new_person_code(client))

    body = assert_error(response, 422, "signup_required")
    assert "consent" in body["details"]["fields"]
    assert Beneficiary.objects.count() == 0
    profile = {
        "signup_token": body["details"]["signup_token"],
        "national_id": NEW_NATIONAL_ID,
        "full_name": "نورة القحطاني",
        "kind": "student",
        "language": "ar",
        "consent": True,
    }

    signed_up = post(client, "/auth/token", profile)

    assert signed_up.status_code == 200, signed_up.content
    person = Beneficiary.objects.get()
    assert (person.mobile, person.national_id, person.kind) == (
        "+966561112223",
        NEW_NATIONAL_ID,
        "student",
    )
    assert person.consent_at is not None
    profile_body = me(client, signed_up.json()["access_token"]).json()
    assert profile_body["full_name"] == "نورة القحطاني"
    assert NEW_NATIONAL_ID not in str(profile_body)
    # The sign-up token is spent.
    assert_error(post(client, "/auth/token", profile), 422, "signup_expired")


def test_a_new_person_may_sign_up_with_the_code_in_one_call(client, ministry):
    body = {
        **_new_person_code(client),
        "national_id": NEW_NATIONAL_ID,
        "full_name": "Noura Alqahtani",
        "consent": True,
    }

    response = post(client, "/auth/token", body)

    assert response.status_code == 200, response.content
    assert Beneficiary.objects.get().kind == "other"


def test_sign_up_without_consent_is_refused_and_can_be_retried(client, ministry):
    first = {**_new_person_code(client), "national_id": NEW_NATIONAL_ID, "full_name": "Noura"}

    body = assert_error(post(client, "/auth/token", first), 422, "consent_required")

    assert body["details"]["field"] == "consent"
    assert Beneficiary.objects.count() == 0
    assert BeneficiaryToken.objects.count() == 0
    retry = {
        "signup_token": body["details"]["signup_token"],
        "national_id": NEW_NATIONAL_ID,
        "full_name": "Noura",
        "consent": True,
    }
    assert post(client, "/auth/token", retry).status_code == 200
    assert Beneficiary.objects.count() == 1


def test_sign_up_with_someone_elses_national_id_is_refused(client, sara):
    body = {
        **_new_person_code(client),
        "national_id": sara.national_id,
        "full_name": "Impostor",
        "consent": True,
    }

    assert_error(post(client, "/auth/token", body), 422, "national_id_taken")
    sara.refresh_from_db()
    assert sara.full_name == "سارة العتيبي"
    assert BeneficiaryToken.objects.count() == 0


def test_an_unknown_sign_up_token_is_refused(client, db):
    response = post(client, "/auth/token", {"signup_token": "nope", "consent": True})

    assert_error(response, 422, "signup_expired")


# --- refresh, reuse, sign-out ---------------------------------------------------------------


def test_refresh_rotates_the_pair(client, sara):
    first = signed_in(client)

    response = post(client, "/auth/refresh", {"refresh_token": first["refresh_token"]})

    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second["access_token"]).status_code == 200
    used = BeneficiaryToken.objects.get(prefix=first["refresh_token"][:10])
    assert used.used_at is not None


def test_a_reused_refresh_token_signs_out_the_whole_family(client, sara):
    first = signed_in(client)
    second = post(client, "/auth/refresh", {"refresh_token": first["refresh_token"]}).json()

    reuse = post(client, "/auth/refresh", {"refresh_token": first["refresh_token"]})

    assert_error(reuse, 422, "invalid_refresh_token")
    assert_error(me(client, second["access_token"]), 401, "unauthenticated")
    again = post(client, "/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert_error(again, 422, "invalid_refresh_token")
    assert not BeneficiaryToken.objects.filter(revoked_at__isnull=True).exists()


def test_another_sign_in_survives_a_reuse(client, sara):
    phone = signed_in(client)
    tablet = signed_in(client)
    post(client, "/auth/refresh", {"refresh_token": phone["refresh_token"]})

    post(client, "/auth/refresh", {"refresh_token": phone["refresh_token"]})

    assert me(client, tablet["access_token"]).status_code == 200


def test_an_unknown_refresh_token_is_refused(client, db):
    response = post(client, "/auth/refresh", {"refresh_token": "twr_forged"})

    assert_error(response, 422, "invalid_refresh_token")


def test_sign_out_revokes_access_and_refresh(client, sara):
    tokens = signed_in(client)

    response = post(client, "/auth/revoke", token=tokens["access_token"])

    assert response.status_code == 204
    assert response.content == b""
    assert_error(me(client, tokens["access_token"]), 401, "unauthenticated")
    refresh = post(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert_error(refresh, 422, "invalid_refresh_token")


def test_sign_out_needs_a_token(client, db):
    assert_error(post(client, "/auth/revoke"), 401, "unauthenticated")


# --- 401 and 429 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer twa_forged", "Basic c2FyYTpwYXNz", "Bearer twr_x"]
)
def test_no_or_a_wrong_token_is_401(client, db, header):
    headers = {"Authorization": header} if header is not None else {}

    response = client.get("/api/v1/me", headers=headers)

    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_refresh_token_is_not_an_access_token(client, sara):
    tokens = signed_in(client)

    assert_error(me(client, tokens["refresh_token"]), 401, "unauthenticated")


def test_an_expired_access_token_is_401(client, sara, settings):
    settings.TAWASUL_API_ACCESS_MINUTES = 0
    tokens = signed_in(client)

    assert_error(me(client, tokens["access_token"]), 401, "unauthenticated")
    token = BeneficiaryToken.objects.get(kind=TokenKind.ACCESS)
    assert token.expires_at is not None


def test_too_many_calls_in_a_minute_is_429(client, sara, khalid, settings):
    settings.TAWASUL_API_RATE = 2
    tokens = signed_in(client)
    assert me(client, tokens["access_token"]).status_code == 200
    assert me(client, tokens["access_token"]).status_code == 200

    response = me(client, tokens["access_token"])

    body = assert_error(response, 429, "rate_limited")
    assert body["details"]["limit_per_minute"] == 2
    assert 0 < int(response["Retry-After"]) <= 60
    # The limit is per beneficiary: another one is not affected.
    other = signed_in(client, "khalid@example.com")
    assert me(client, other["access_token"]).status_code == 200
