"""The address of the current page in another language, for the language switch."""

from __future__ import annotations

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def page_in_language(context: template.Context, language: str) -> str:
    """The current page's address in `language` (the page itself if it has no translation).

    The language switch sends this as `next`: Django's `set_language` cannot
    translate a prefixed address (``/en/``) back to the unprefixed Arabic one
    on its own, because it resolves it while Arabic is active.
    """
    request = context.get("request")
    if request is None:
        return "/"
    return translate_url(request.get_full_path(), language)
