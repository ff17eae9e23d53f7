"""Background jobs of the Arabic text understanding (issue 12); imported by `tasks` so the
queue finds them."""

from __future__ import annotations
