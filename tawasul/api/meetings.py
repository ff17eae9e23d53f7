"""API v1: the beneficiary's minister-meeting requests (being built)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["meetings"])
