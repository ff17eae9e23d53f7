"""API v1: partners manage their webhook subscriptions (being built)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["webhooks"])
