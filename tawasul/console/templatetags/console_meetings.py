"""Whether the console shows the minister-meetings link: to staff who screen or decide."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from tawasul.meetings.permissions import meeting_roles
from tawasul.meetings.workflow import MeetingRole

register = template.Library()


@register.simple_tag(name="meeting_staff")
def meeting_staff(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(meeting_roles(user) & {MeetingRole.SCREEN, MeetingRole.DECIDE})
