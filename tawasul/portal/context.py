"""Template context for every page: who is signed in to the portal."""

from __future__ import annotations

from django.http import HttpRequest

from tawasul.portal.session import current_beneficiary


def portal(request: HttpRequest) -> dict[str, object]:
    return {"portal_beneficiary": current_beneficiary(request)}
