"""Portal: the beneficiary's minister-meeting pages (being built)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
