"""The console's landing page: straight to the agent's own queue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def console_home(request: HttpRequest) -> HttpResponse:
    return redirect("console:queue", "mine")
