"""Schemathesis over the API's own OpenAPI document, in process, on the test database.

Every operation is called with generated valid and invalid input, authenticated as
the caller its path is for (a beneficiary's app token, a staff member's personal
token, a partner key). Checks: no 5xx, every status and body as documented,
content types as documented, and invalid input rejected. The figures (operations,
calls, failures) are written to test-artifacts/schemathesis.json.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tawasul.api.credentials import (
    api_client_create,
    beneficiary_tokens_issue,
    personal_token_create,
)
from tawasul.api.models import Scope
from tawasul.cases.models import Channel, Kind
from tawasul.cases.services import request_submit

EXAMPLES = int(os.environ.get("TAWASUL_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
calls: Counter[str] = Counter()
failures: Counter[str] = Counter()
accepted: Counter[str] = Counter()  # calls answered 2xx: the credentials did work


# Loaded at collection (the document needs no database). schemathesis' lazy
# `from_fixture` loader does not work with pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def _connection_kept(db: None) -> Iterator[None]:
    """Like Django's test client: keep the test's connection open across requests."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)


@pytest.fixture
def callers(_connection_kept, ministry, staff, sara, channels_in_memory, settings):  # type: ignore[no-untyped-def]
    """Credentials for each kind of caller, and some data to find."""
    settings.TAWASUL_API_RATE = 1_000_000
    for kind in (Kind.COMPLAINT, Kind.INQUIRY):
        request_submit(
            beneficiary=sara,
            kind=kind,
            category=ministry.transfer,
            subject="تأخر صرف بدل النقل",
            description="لم يصرف بدل النقل منذ ثلاثة أشهر رغم اكتمال الإجراءات",
            channel=Channel.APP,
            entity=ministry.riyadh,
        )
    partner = api_client_create(
        name="call-centre",
        scopes=[str(scope) for scope in Scope],
        rate_limit_per_minute=1_000_000,
        entity=ministry.riyadh,
    ).secret
    staff_token = personal_token_create(
        user=staff.riyadh_supervisor,
        name="schemathesis",
        scopes=[Scope.REQUESTS_READ, Scope.REQUESTS_WRITE],
    ).secret
    return {"sara": sara, "partner": partner, "staff": staff_token}


def _headers(path: str, callers: dict) -> dict[str, str]:  # type: ignore[type-arg]
    if path.startswith("/api/v1/staff"):
        return {"Authorization": f"Bearer {callers['staff']}"}
    if path.startswith("/api/v1/partner"):
        return {"X-API-Key": callers["partner"]}
    # A fresh pair per call: signing out in one example must not sign out the next.
    return {
        "Authorization": f"Bearer {beneficiary_tokens_issue(beneficiary=callers['sara']).access}"
    }


def _credentials(case, callers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A valid credential in place of the generated one. A case that leaves the credential
    out on purpose (a negative case: "a required header is missing") keeps it out."""
    secured = bool(case.operation.definition.raw.get("security"))
    sent = {name.lower() for name in (case.headers or {})}
    return {
        name: value
        for name, value in _headers(case.path, callers).items()
        if not secured or name.lower() in sent
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, callers) -> None:  # type: ignore[no-untyped-def]
    label = f"{case.method} {case.path}"
    calls[label] += 1
    try:
        response = case.call_and_validate(headers=_credentials(case, callers), checks=CHECKS)
        if 200 <= response.status_code < 300:
            accepted[label] += 1
    except Exception:
        failures[label] += 1
        raise


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if not calls:
        return
    out = Path(os.environ.get("TAWASUL_ARTIFACTS", "test-artifacts"))
    out.mkdir(exist_ok=True)
    documented = {
        f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    (out / "schemathesis.json").write_text(
        json.dumps(
            {
                "examples_per_operation": EXAMPLES,
                "operations": len(documented),
                "operations_called": len(documented & set(calls)),
                "calls": sum(calls[label] for label in documented),
                "undocumented_method_probes": sum(
                    count for label, count in calls.items() if label not in documented
                ),
                "answered_2xx": sum(accepted[label] for label in documented),
                "operations_with_a_2xx": len(documented & set(accepted)),
                "failures": sum(failures.values()),
                "by_operation": {label: calls[label] for label in sorted(documented)},
                "failed": dict(failures),
            },
            indent=1,
        )
    )
