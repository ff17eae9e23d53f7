"""API v1: staff endpoints (being built)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["staff"])
