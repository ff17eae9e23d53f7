"""Portal pages (filled in by the portal issue)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
