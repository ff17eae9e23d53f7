"""Draining the outbox: claim due rows, send them, record the outcome."""

from __future__ import annotations


def outbox_drain(*, limit: int = 100) -> int:
    """Send due outbox messages; return how many were sent."""
    return 0
