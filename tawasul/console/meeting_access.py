"""What every console meeting page shares: the role guard (404 for those who see no meeting
request, 403 for those who see them without the role), the acting user, the office's time
zone and a host picked from the active ones."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from tawasul.console.access import staff_required
from tawasul.core.errors import AccessDenied, NotFound
from tawasul.meetings.models import MeetingHost
from tawasul.meetings.permissions import meeting_ensure
from tawasul.meetings.staff_selectors import meeting_hosts
from tawasul.meetings.workflow import MeetingRole


def staff_user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def office_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def meeting_role_required(role: MeetingRole) -> Callable[..., Callable[..., HttpResponseBase]]:
    """Signed-in staff holding `role` over meeting requests: 404 for those who see none,
    403 for those who see them without `role`."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @staff_required
        @wraps(view)
        def wrapper(http: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                meeting_ensure(http.user, role)
            except NotFound:
                raise Http404 from None
            except AccessDenied as error:
                context = {"message": error.message}
                return render(http, "console/meeting_denied.html", context, status=403)
            return view(http, *args, **kwargs)

        return wrapper

    return decorate


def host_by_pk(pk: int | None) -> MeetingHost | None:
    return next((host for host in meeting_hosts() if host.pk == pk), None) if pk else None
