"""Models of the periodic reports (to be written)."""

from __future__ import annotations
