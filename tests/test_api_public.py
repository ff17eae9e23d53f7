"""The public reference lists the app shows before sign-in: entities, categories, kinds and
channels — their content, Arabic as text, and the ETag that saves sending them again."""

from __future__ import annotations

import pytest

from tawasul.cases.models import Channel, Kind
from tawasul.directory.models import Entity

LISTS = [
    "/api/v1/public/entities",
    "/api/v1/public/categories",
    "/api/v1/public/kinds",
    "/api/v1/public/channels",
]


def test_entities_are_the_active_tree_with_parents(client, ministry):
    Entity.objects.filter(pk=ministry.makkah.pk).update(is_active=False)

    response = client.get("/api/v1/public/entities")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert set(rows) == {"moe", "general-education", "riyadh", "riyadh-north", "ksu"}
    assert rows["moe"]["parent_id"] is None
    assert rows["moe"]["depth"] == 1
    assert rows["riyadh"]["parent_id"] == ministry.sector.pk
    assert rows["riyadh-north"]["parent_id"] == ministry.riyadh.pk
    assert rows["riyadh"]["region"] == "riyadh"
    assert rows["ksu"]["name_ar"] == "جامعة الملك سعود"
    assert rows["ksu"]["name_en"] == "King Saud University"


def test_categories_carry_the_kinds_they_take(client, ministry):
    response = client.get("/api/v1/public/categories")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert set(rows) == {"exams", "transfer", "thanks"}
    assert rows["thanks"]["kinds"] == ["praise"]
    assert rows["transfer"]["kinds"] == ["inquiry", "complaint"]
    assert rows["exams"]["parent_id"] is None
    assert rows["exams"]["name_ar"] == "نتائج الاختبارات"


@pytest.mark.parametrize(("path", "choices"), [("kinds", Kind), ("channels", Channel)])
def test_kinds_and_channels_are_named_in_both_languages(client, db, path, choices):
    response = client.get(f"/api/v1/public/{path}")

    assert response.status_code == 200
    rows = response.json()
    assert [row["code"] for row in rows] == list(choices.values)
    complaint_or_portal = rows[1] if path == "kinds" else rows[0]
    assert complaint_or_portal["name_en"] != complaint_or_portal["name_ar"]
    assert all(row["name_ar"] and row["name_en"] for row in rows)


def test_arabic_is_sent_as_text_not_escapes(client, ministry):
    response = client.get("/api/v1/public/entities")

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "وزارة التعليم".encode() in response.content
    assert b"\\u" not in response.content


@pytest.mark.parametrize("path", LISTS)
def test_the_etag_comes_back_as_304_without_a_body(client, ministry, path):
    first = client.get(path)
    etag = first["ETag"]
    assert etag.startswith('"')
    assert first["Cache-Control"] == "public, max-age=300"

    again = client.get(path, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_one_of_several_etags_or_a_star_matches(client, ministry):
    etag = client.get("/api/v1/public/entities")["ETag"]

    several = client.get("/api/v1/public/entities", headers={"If-None-Match": f'"old", {etag}'})
    star = client.get("/api/v1/public/entities", headers={"If-None-Match": "*"})

    assert several.status_code == star.status_code == 304


def test_a_stale_etag_gets_the_new_list(client, ministry):
    etag = client.get("/api/v1/public/entities")["ETag"]
    Entity.objects.filter(pk=ministry.university.pk).update(name_en="King Saud Univ.")

    response = client.get("/api/v1/public/entities", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "King Saud Univ." in {row["name_en"] for row in response.json()}


def test_the_lists_need_no_sign_in_and_take_no_writes(client, ministry):
    for path in LISTS:
        assert client.get(path).status_code == 200
        assert client.post(path, {}).status_code == 405
