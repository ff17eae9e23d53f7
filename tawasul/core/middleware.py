"""Language handling across the whole site."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import translate_url
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language_from_path


class RememberedLanguageMiddleware:
    """Send an address without a language prefix to the language the visitor chose.

    Arabic, the default, is served without a prefix, so Django's LocaleMiddleware
    never reads the language cookie there. A visitor who chose English (cookie
    set by `set_language`) is redirected to the English address; an explicit
    prefix (``/en/…``) always wins. Place after LocaleMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.known = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if (
            request.method in ("GET", "HEAD")
            and chosen in self.known
            and chosen != settings.LANGUAGE_CODE
            and get_language_from_path(request.path_info) is None
        ):
            path = request.get_full_path()
            target = translate_url(path, chosen)
            if target != path:
                redirect = HttpResponseRedirect(target)
                patch_vary_headers(redirect, ["Cookie"])
                return redirect
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        return response
