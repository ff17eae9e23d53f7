"""Requests that partner systems submit on a person's behalf (partner API and Open311).

One service for both: find or register the person, submit the request through the
same `request_submit` as the portal, and remember which client sent it, all in one
transaction, so a refused request leaves nothing behind (not even the person).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from tawasul.api.models import ApiClient, ClientSubmission
from tawasul.beneficiaries.services import beneficiary_for_contact
from tawasul.cases.models import Category, Request
from tawasul.cases.services import request_submit
from tawasul.directory.models import Entity


@dataclass(frozen=True)
class Person:
    """Who the request is for, as the partner knows them."""

    full_name: str = ""
    mobile: str = ""
    email: str = ""
    national_id: str = ""


def client_request_submit(
    *,
    client: ApiClient,
    person: Person,
    kind: str,
    category: Category | int | None,
    subject: str,
    description: str,
    channel: str,
    entity: Entity | int | None = None,
) -> Request:
    """Submit a request for `person`; without an entity, the client's own entity receives it."""
    with transaction.atomic():
        beneficiary = beneficiary_for_contact(
            full_name=person.full_name,
            mobile=person.mobile,
            email=person.email,
            national_id=person.national_id,
        )
        request = request_submit(
            beneficiary=beneficiary,
            kind=kind,
            category=category,
            subject=subject,
            description=description,
            channel=channel,
            entity=entity if entity is not None else client.entity,
        )
        ClientSubmission.objects.create(client=client, request=request)
    return request


def client_submissions(*, client: ApiClient) -> QuerySet[ClientSubmission]:
    """The client's submissions, newest first, with what a status listing shows."""
    return (
        ClientSubmission.objects.filter(client=client)
        .select_related("request__category", "request__entity")
        .order_by("-pk")
    )


def client_request(*, client: ApiClient, tracking_number: str) -> Request | None:
    """The request with this tracking number if this client submitted it."""
    return (
        Request.objects.select_related("category", "entity")
        .filter(tracking_number=tracking_number, client_submission__client=client)
        .first()
    )
