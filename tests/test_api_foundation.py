"""The API's foundations: credentials, the key commands, rate limits, errors, documents."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from tawasul.api import credentials
from tawasul.api.auth import rate_limit
from tawasul.api.idempotency import idempotency_purge
from tawasul.api.models import ApiClient, IdempotencyRecord, PersonalAccessToken, Scope
from tawasul.core.errors import InvalidInput, RateLimited

pytestmark = pytest.mark.django_db


def _command(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_apikey_create_prints_the_key_alone_on_the_last_line_and_stores_only_its_digest() -> None:
    lines = _command(
        "apikey",
        "create",
        "Unified call centre",
        "--scope",
        "requests:create",
        "--scope",
        "webhooks",
        "--rate",
        "120",
    )
    key = lines[-1]
    assert key.startswith("twk_")
    assert " " not in key
    assert len(key) > 40
    client = ApiClient.objects.get(name="Unified call centre")
    assert client.scopes == ["requests:create", "webhooks"]
    assert client.rate_limit_per_minute == 120
    assert key not in str(ApiClient.objects.values().get(pk=client.pk))
    assert client.digest == credentials.credential_digest(key)
    assert credentials.api_client_for_key(key) == client
    listing = "\n".join(_command("apikey", "list"))
    assert "Unified call centre" in listing
    assert key not in listing


def test_apikey_rotate_and_revoke() -> None:
    old = _command("apikey", "create", "Noor")[-1]
    new = _command("apikey", "rotate", "Noor")[-1]
    assert new != old
    assert credentials.api_client_for_key(old) is None
    assert credentials.api_client_for_key(new) is not None
    _command("apikey", "revoke", "Noor")
    assert credentials.api_client_for_key(new) is None


def test_apikey_refuses_unknown_scope_duplicate_name_and_unknown_entity() -> None:
    _command("apikey", "create", "Noor")
    with translation.override("en"), pytest.raises(CommandError, match="exists already"):
        _command("apikey", "create", "Noor")
    with pytest.raises(CommandError, match="No entity"):
        _command("apikey", "create", "Other", "--entity", "atlantis")
    with pytest.raises(InvalidInput) as error:
        credentials.api_client_create(name="X", scopes=["everything"])
    assert error.value.details["unknown"] == ["everything"]
    assert ApiClient.objects.count() == 1


def test_wrong_forged_and_foreign_credentials_are_refused() -> None:
    assert credentials.api_client_for_key("") is None
    assert credentials.api_client_for_key("twk_not-a-key") is None
    assert credentials.personal_token_for("twk_wrong-kind") is None
    assert credentials.beneficiary_token_for("twp_wrong-kind") is None


def test_apitoken_acts_for_the_user_with_its_scopes_until_expiry_or_deactivation(staff) -> None:  # type: ignore[no-untyped-def]
    raw = _command(
        "apitoken", "create", "riyadh_agent", "--name", "CTI", "--scope", "requests:read"
    )[-1]
    token = credentials.personal_token_for(raw)
    assert token is not None
    assert token.user == staff.riyadh_agent
    assert token.scopes == [Scope.REQUESTS_READ]
    assert token.expires_at is not None
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert credentials.personal_token_for(raw) is None
    other = credentials.personal_token_create(
        user=staff.riyadh_agent, name="x", scopes=[], days=None
    ).secret
    staff.riyadh_agent.is_active = False
    staff.riyadh_agent.save()
    assert credentials.personal_token_for(other) is None
    with pytest.raises(CommandError):
        _command("apitoken", "create", "nobody")


def test_staff_tokens_cannot_hold_partner_scopes(staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        credentials.personal_token_create(
            user=staff.riyadh_agent, name="x", scopes=[Scope.WEBHOOKS]
        )


def test_rate_limit_counts_per_caller_in_the_shared_cache() -> None:
    bucket = f"test-{timezone.now().timestamp()}"
    for _ in range(3):
        rate_limit(bucket=bucket, per_minute=3)
    with pytest.raises(RateLimited) as error:
        rate_limit(bucket=bucket, per_minute=3)
    assert error.value.status == 429
    assert 0 < error.value.details["retry_after"] <= 60
    rate_limit(bucket=f"{bucket}-other", per_minute=3)  # another caller is not affected


def test_unknown_api_path_answers_in_the_json_error_shape() -> None:
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["message"]["en"] == "Not found."
    assert body["message"]["ar"]
    assert body["message"]["ar"] != "Not found."
    assert body["details"] == {}
    portal = Client().get("/no-such-page")
    assert portal.status_code == 404
    assert portal["Content-Type"].startswith("text/html")


def test_openapi_document_and_offline_docs() -> None:
    document = Client().get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.json()
    assert spec["info"]["title"] == "Tawasul API"
    assert "/api/v1/public/entities" in spec["paths"]
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(asset), asset


def test_idempotency_records_are_forgotten_after_the_window(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TAWASUL_API_IDEMPOTENCY_HOURS = 24
    old = IdempotencyRecord.objects.create(owner="b1", key="a", fingerprint="f", status_code=201)
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    IdempotencyRecord.objects.create(owner="b1", key="b", fingerprint="f", status_code=201)
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["b"]


def test_an_administrator_creates_a_client_in_the_admin_and_sees_its_key_once(
    client, ministry
) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.sa", "pass-Word-1234")
    client.force_login(admin)
    response = client.post(
        "/en/admin/api/apiclient/add/",
        {
            "name": "Unified call centre",
            "scopes": ["requests:create", "webhooks"],
            "rate_limit_per_minute": "120",
            "entity": str(ministry.riyadh.pk),
            "contact": "it@example.sa",
        },
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = next(word for text in shown for word in text.split() if word.startswith("twk_"))
    created = ApiClient.objects.get(name="Unified call centre")
    assert credentials.api_client_for_key(key) == created
    assert created.scopes == ["requests:create", "webhooks"]
    assert created.entity == ministry.riyadh
    # The key is never shown again: not on the change page, not in the list.
    change = client.get(f"/en/admin/api/apiclient/{created.pk}/change/").content.decode()
    listing = client.get("/en/admin/api/apiclient/").content.decode()
    assert key not in change
    assert key not in listing
    assert created.prefix in listing
