"""Beneficiary portal pages (delivery only)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tawasul.cases.models import Channel, Kind
from tawasul.sla.selectors import sla_promise


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/home.html",
        {"kinds": Kind, "channels": Channel.choices, "promise": sla_promise()},
    )
