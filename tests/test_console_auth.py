"""Staff sign-in, sign-out, lockout after failed attempts, and password management."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import Staff

PASSWORD = "pass-Word-1234"
pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(reverse("console:login"), {"username": username, "password": password})


def test_staff_signs_in_through_the_form_and_lands_on_their_queue(
    client: Client, staff: Staff
) -> None:
    # given the console sign-in page
    page = client.get(reverse("console:login"))
    assert page.status_code == 200
    assert b'name="password"' in page.content
    # when an agent signs in with the right password
    response = sign_in(client, "riyadh_agent")
    # then they are sent to the console home, which opens their own queue
    assert response.status_code == 302
    assert response.url == reverse("console:home")
    home = client.get(response.url)
    assert home.url == reverse("console:queue", args=["mine"])
    assert client.get(home.url).status_code == 200


def test_wrong_password_is_refused_with_the_form_again(client: Client, staff: Staff) -> None:
    response = sign_in(client, "riyadh_agent", "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_in_honours_next(client: Client, staff: Staff) -> None:
    target = reverse("console:queue", args=["subtree"])
    response = client.post(
        reverse("console:login"),
        {"username": "riyadh_agent", "password": PASSWORD, "next": target},
    )
    assert response.url == target


def test_sign_out_is_a_post_and_ends_the_session(client: Client, staff: Staff) -> None:
    client.force_login(staff.riyadh_agent)
    assert client.get(reverse("console:logout")).status_code == 405
    response = client.post(reverse("console:logout"))
    assert response.status_code == 302
    assert response.url == reverse("console:login")
    assert client.get(reverse("console:queue", args=["mine"])).status_code == 302


def test_five_failures_lock_the_account_even_for_the_right_password(
    client: Client, staff: Staff
) -> None:
    # given four failed attempts, the account is still usable…
    for _attempt in range(4):
        assert sign_in(client, "riyadh_agent", "wrong").status_code == 200
    # when the fifth one fails
    locked = sign_in(client, "riyadh_agent", "wrong")
    # then the locked page answers with 403, in Arabic (the default language)
    assert locked.status_code == 403
    assert "أُوقف تسجيل الدخول مؤقتًا" in locked.content.decode()
    # and even the right password is refused
    again = sign_in(client, "riyadh_agent")
    assert again.status_code == 403
    assert "_auth_user_id" not in client.session
    # while another account from the same address is not locked
    assert sign_in(client, "riyadh_agent2").status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(client: Client, staff: Staff) -> None:
    for _attempt in range(4):
        sign_in(client, "riyadh_agent", "wrong")
    assert sign_in(client, "riyadh_agent").status_code == 302
    client.post(reverse("console:logout"))
    for _attempt in range(4):
        assert sign_in(client, "riyadh_agent", "wrong").status_code == 200
    assert sign_in(client, "riyadh_agent").status_code == 302


def test_admin_sign_in_still_works_with_axes(client: Client, db: None) -> None:
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    response = client.post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_password_change(client: Client, staff: Staff) -> None:
    client.force_login(staff.riyadh_agent)
    assert client.get(reverse("console:password_change")).status_code == 200
    response = client.post(
        reverse("console:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-Secret-987",
            "new_password2": "another-Secret-987",
        },
    )
    assert response.url == reverse("console:password_change_done")
    assert client.get(response.url).status_code == 200
    staff.riyadh_agent.refresh_from_db()
    assert staff.riyadh_agent.check_password("another-Secret-987")


def test_password_change_needs_sign_in(client: Client, staff: Staff) -> None:
    response = client.get(reverse("console:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("console:login"))


def test_password_reset_sends_a_working_link_by_email(
    client: Client, staff: Staff, settings: object
) -> None:
    # given an agent with an e-mail address
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    mail.outbox = []
    staff.riyadh_agent.email = "agent@riyadh.example"
    staff.riyadh_agent.save(update_fields=["email"])
    # when they ask for a reset
    response = client.post(reverse("console:password_reset"), {"email": "agent@riyadh.example"})
    # then a message with a link is sent
    assert response.url == reverse("console:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["agent@riyadh.example"]
    match = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body)
    assert match is not None
    # and the link lets them choose a new password
    confirm = client.get(match.group(1), follow=True)
    assert confirm.status_code == 200
    assert confirm.context["validlink"]
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": "fresh-Secret-555", "new_password2": "fresh-Secret-555"},
    )
    assert done.url == reverse("console:password_reset_complete")
    staff.riyadh_agent.refresh_from_db()
    assert staff.riyadh_agent.check_password("fresh-Secret-555")


def test_password_reset_for_an_unknown_address_sends_nothing(
    client: Client, staff: Staff, settings: object
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    mail.outbox = []
    response = client.post(reverse("console:password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("console:password_reset_done")
    assert mail.outbox == []


def test_signed_in_without_any_grant_gets_403(client: Client, staff: Staff) -> None:
    client.force_login(staff.outsider)
    response = client.get(reverse("console:queue", args=["mine"]))
    assert response.status_code == 403


def test_anonymous_is_sent_to_the_console_sign_in(client: Client, db: None) -> None:
    target = reverse("console:queue", args=["subtree"])
    response = client.get(target)
    assert response.status_code == 302
    assert response.url.startswith(reverse("console:login"))
    assert "next=" in response.url


def test_english_sign_in_page(client: Client, db: None) -> None:
    response = client.get("/en" + reverse("console:login"))
    assert response.status_code == 200
    assert b"Staff sign-in" in response.content
    assert b'dir="ltr"' in response.content
