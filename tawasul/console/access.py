"""The console's door: signed-in staff with at least one grant."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from tawasul.directory import access

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Anonymous → the console sign-in; signed in without any grant → 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "console:login")
        if not access.staff_scope(request.user).is_staff:
            return render(request, "console/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
