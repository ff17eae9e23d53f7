"""API v1: partner endpoints (being built)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["partner"])
