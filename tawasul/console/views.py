"""The console's landing page: straight to the agent's own queue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse


def console_home(request: HttpRequest) -> HttpResponse:
    try:
        return redirect(reverse("console:queue", args=["mine"]))
    except NoReverseMatch:  # before the queues exist
        return HttpResponse(status=204)
