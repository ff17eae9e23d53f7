"""Console: screening, decisions and scheduling of minister meetings (being built)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
