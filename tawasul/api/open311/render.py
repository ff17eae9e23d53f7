"""Open311 documents as JSON or XML, and Open311's own error shape.

A document is plain data (dicts, lists, strings, numbers, booleans, None). JSON
renders it as it is; XML (built with ElementTree, which escapes text) names each
list's items after the list (`services` → `service`) and writes booleans as
`true`/`false` and None as an empty element.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from django.http import HttpResponse
from django.utils.functional import Promise

XML = "xml"
JSON = "json"
CONTENT_TYPES = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}
ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "notes": "note",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def iso_z(moment: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC with `Z`, to the second."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(tag: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(tag, "item")
        for child in value:
            element.append(_element(item_tag, child))
    else:
        element.text = _text(value)
    return element


def xml_bytes(root: str, document: Any) -> bytes:
    body = ElementTree.tostring(_element(root, document), encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def _plain(value: Any) -> Any:
    """Lazy translations as text, for JSON."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_plain(child) for child in value]
    return value


def document_response(fmt: str, root: str, document: Any, *, status: int = 200) -> HttpResponse:
    """The document in the asked format; `root` names the XML root element."""
    if fmt == XML:
        body = xml_bytes(root, _plain(document))
    else:
        body = json.dumps(_plain(document), ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, description: str | Promise) -> HttpResponse:
    """`[{"code": 400, "description": "…"}]` or `<errors><error>…</error></errors>`."""
    errors = [{"code": status, "description": str(description)}]
    return document_response(fmt, "errors", errors, status=status)
