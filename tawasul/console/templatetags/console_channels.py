"""The console's "Review queue" link: shown to staff who can see inbound messages, with how
many await review within their reach (counted live: the queue is short, one query)."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from tawasul.channels.review import review_count
from tawasul.directory import access
from tawasul.directory.access import Permission

register = template.Library()

COUNT_CAP = 999


@register.simple_tag(name="review_queue_count")
def review_queue_count(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The badge's text ("12", "999+"), or None when the user sees no inbound message."""
    if user is None or not access.staff_scope(user).prefixes(Permission.VIEW):
        return None
    count = review_count(user, cap=COUNT_CAP)
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)
