"""Public reference lists: entities, categories, kinds and channels.

Anyone may read them (the app shows them before sign-in). They change rarely, so
each answer carries an ETag and `Cache-Control`; a client that sends the ETag back
in `If-None-Match` gets 304 and no body.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from tawasul.cases.models import Category, Channel, Kind
from tawasul.directory.models import Entity

router = Router(tags=["public"])
MAX_AGE = 300


class EntityOut(Schema):
    id: int
    code: str
    kind: str
    region: str
    name_ar: str
    name_en: str
    parent_id: int | None
    depth: int


class CategoryOut(Schema):
    id: int
    code: str
    name_ar: str
    name_en: str
    parent_id: int | None
    kinds: list[str]


class ChoiceOut(Schema):
    code: str
    name_ar: str
    name_en: str


def _cached(request: HttpRequest, payload: list[dict[str, Any]]) -> HttpResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    matches = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
    if etag in matches or "*" in matches:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def _parents(nodes: list[Any]) -> dict[str, int]:
    return {node.path: node.pk for node in nodes}


@router.get("/entities", response=list[EntityOut], summary="Entities that receive requests")
def entities(request: HttpRequest) -> HttpResponse:
    rows = list(Entity.objects.filter(is_active=True).order_by("path"))
    by_path = _parents(rows)
    step = Entity.steplen
    return _cached(
        request,
        [
            EntityOut(
                id=row.pk,
                code=row.code,
                kind=row.kind,
                region=row.region,
                name_ar=row.name_ar,
                name_en=row.name_en,
                parent_id=by_path.get(row.path[:-step]) if row.depth > 1 else None,
                depth=row.depth,
            ).model_dump()
            for row in rows
        ],
    )


@router.get("/categories", response=list[CategoryOut], summary="Request categories")
def categories(request: HttpRequest) -> HttpResponse:
    rows = list(Category.objects.filter(is_active=True).order_by("path"))
    by_path = _parents(rows)
    step = Category.steplen
    return _cached(
        request,
        [
            CategoryOut(
                id=row.pk,
                code=row.code,
                name_ar=row.name_ar,
                name_en=row.name_en,
                parent_id=by_path.get(row.path[:-step]) if row.depth > 1 else None,
                kinds=list(row.kinds or []),
            ).model_dump()
            for row in rows
        ],
    )


def _choices(request: HttpRequest, choices: Any) -> HttpResponse:
    from django.utils.translation import override

    rows = []
    for value, label in choices.choices:
        with override("ar"):
            name_ar = str(label)
        with override("en"):
            name_en = str(label)
        rows.append(ChoiceOut(code=value, name_ar=name_ar, name_en=name_en).model_dump())
    return _cached(request, rows)


@router.get("/kinds", response=list[ChoiceOut], summary="Kinds of request")
def kinds(request: HttpRequest) -> HttpResponse:
    return _choices(request, Kind)


@router.get("/channels", response=list[ChoiceOut], summary="Channels a request can come by")
def channels(request: HttpRequest) -> HttpResponse:
    return _choices(request, Channel)
