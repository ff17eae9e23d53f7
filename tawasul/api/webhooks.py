"""API v1: partners manage their webhook subscriptions and read their delivery log.

`X-API-Key` with the `webhooks` scope. A client sees only its own subscriptions
and deliveries (any other id is 404). The signing secret is in the answer to the
creation only; how to check a signature is described in `tawasul.channels.webhooks`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from tawasul.api.auth import PartnerAuth, client_of
from tawasul.api.models import Scope
from tawasul.api.paging import ensure_known_parameters
from tawasul.api.schemas import ERRORS
from tawasul.channels import webhooks
from tawasul.channels.models import WebhookDelivery, WebhookSubscription

router = Router(tags=["webhooks"])
auth = PartnerAuth(Scope.WEBHOOKS)

# Both spelled out for the OpenAPI document; tests check they match the models' choices.
EventTypeName = Literal[
    "request.created",
    "request.status_changed",
    "request.assigned",
    "request.answered",
    "request.objected",
    "request.closed",
    "request.reopened",
    "request.forwarded",
    "request.message",
]
DeliveryStatusName = Literal["pending", "sending", "delivered", "failed"]


class SubscriptionIn(Schema):
    url: str = Field(
        ..., max_length=500, description="https URL (http only for 127.0.0.1/localhost)"
    )
    event_types: list[EventTypeName] = Field(..., min_length=1, max_length=20)
    entity: str | None = Field(
        None, max_length=60, description="Entity code: only requests under it."
    )


class SubscriptionPatch(Schema):
    active: bool


class DeliveryFilters(Schema):
    status: DeliveryStatusName | None = None
    limit: int = Field(50, ge=1, le=100)


class SubscriptionOut(Schema):
    id: UUID
    url: str
    event_types: list[str]
    entity: str | None
    active: bool
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(..., description="Signing secret, shown this once only.")


class DeliveryOut(Schema):
    id: UUID
    subscription: UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_response_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


def _subscription_out(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.public_id,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "entity": subscription.entity.code if subscription.entity is not None else None,
        "active": subscription.is_active,
        "created_at": subscription.created_at,
    }


def _delivery_out(delivery: WebhookDelivery, subscription: WebhookSubscription) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.public_id,
        subscription=subscription.public_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_response_status=delivery.last_response_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        payload=delivery.payload,
    )


@router.get(
    "",
    auth=auth,
    response={200: list[SubscriptionOut], **ERRORS},
    summary="This client's webhook subscriptions, newest first",
)
def subscriptions_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_subscription_out(row) for row in webhooks.webhook_subscriptions_of(client_of(request))]


@router.post(
    "",
    auth=auth,
    response={201: SubscriptionCreatedOut, **ERRORS},
    summary="Subscribe a URL to request events (the signing secret is shown once)",
)
def subscriptions_create(request: HttpRequest, data: SubscriptionIn) -> Status[dict[str, Any]]:
    issued = webhooks.webhook_subscription_create(
        client=client_of(request),
        url=data.url,
        event_types=data.event_types,
        entity=webhooks.webhook_entity_by_code(data.entity),
    )
    return Status(201, {**_subscription_out(issued.subscription), "secret": issued.secret})


@router.get(
    "/{id}",
    auth=auth,
    response={200: SubscriptionOut, **ERRORS},
    summary="One webhook subscription",
)
def subscriptions_detail(request: HttpRequest, id: UUID) -> dict[str, Any]:
    return _subscription_out(webhooks.webhook_subscription_for_client(client_of(request), id))


@router.patch(
    "/{id}",
    auth=auth,
    response={200: SubscriptionOut, **ERRORS},
    summary="Switch a webhook subscription off or on",
)
def subscriptions_update(
    request: HttpRequest,
    id: UUID,
    data: SubscriptionPatch,
) -> dict[str, Any]:
    subscription = webhooks.webhook_subscription_for_client(client_of(request), id)
    return _subscription_out(
        webhooks.webhook_subscription_set_active(subscription=subscription, active=data.active)
    )


@router.delete(
    "/{id}",
    auth=auth,
    response={204: None, **ERRORS},
    summary="Delete a webhook subscription and its delivery log",
)
def subscriptions_delete(request: HttpRequest, id: UUID) -> Status[None]:
    subscription = webhooks.webhook_subscription_for_client(client_of(request), id)
    webhooks.webhook_subscription_delete(subscription=subscription)
    return Status(204, None)


@router.get(
    "/{id}/deliveries",
    auth=auth,
    response={200: list[DeliveryOut], **ERRORS},
    summary="The subscription's latest deliveries, newest first",
)
def deliveries_list(
    request: HttpRequest,
    id: UUID,
    filters: Query[DeliveryFilters],
) -> list[DeliveryOut]:
    ensure_known_parameters(request, DeliveryFilters.model_fields)
    subscription = webhooks.webhook_subscription_for_client(client_of(request), id)
    rows = webhooks.webhook_deliveries_of(subscription, status=filters.status, limit=filters.limit)
    return [_delivery_out(row, subscription) for row in rows]


@router.post(
    "/deliveries/{id}/redeliver",
    auth=auth,
    response={202: DeliveryOut, **ERRORS},
    summary="Send a delivery again now (same id and payload, fresh attempts)",
)
def deliveries_redeliver(request: HttpRequest, id: UUID) -> Status[DeliveryOut]:
    delivery = webhooks.webhook_delivery_for_client(client_of(request), id)
    delivery = webhooks.webhook_delivery_redeliver(delivery=delivery)
    return Status(202, _delivery_out(delivery, delivery.subscription))
