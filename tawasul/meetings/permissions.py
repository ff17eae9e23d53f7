"""Who may do what with meeting requests: the one access place of the meetings app.

- The **central care centre** screens: a grant with a role of
  `TAWASUL_MEETING_SCREEN_ROLES` on the central centre's entity (or an ancestor).
- The **minister's office** decides, manages slots, schedules and records outcomes:
  a grant with a role of `TAWASUL_MEETING_DECIDE_ROLES` on the office's entity
  (`TAWASUL_MINISTER_OFFICE`, an entity code; empty: the root entity) or an ancestor.
- Both may view every meeting request; nobody else sees any (404, never 403).
  A superuser holds every role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import AccessDenied, NotFound
from tawasul.directory.models import CareCentre, Entity, StaffGrant
from tawasul.meetings.models import MeetingRequest
from tawasul.meetings.workflow import MeetingRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from tawasul.beneficiaries.models import Beneficiary

R = MeetingRole
_STAFF_ROLES = frozenset({R.VIEW, R.SCREEN, R.DECIDE})
_CACHE_ATTR = "_tawasul_meeting_roles"


def minister_office() -> Entity:
    """The minister's office: the entity named by TAWASUL_MINISTER_OFFICE, else the root."""
    code = str(getattr(settings, "TAWASUL_MINISTER_OFFICE", "") or "")
    if code:
        entity = Entity.objects.filter(code=code).first()
        if entity is not None:
            return entity
    return Entity.objects.get_first_root_node()


def central_centre_entity() -> Entity:
    """The entity of the central care centre (the root when there is none)."""
    centre = (
        CareCentre.objects.filter(is_central=True, is_active=True).select_related("entity").first()
    )
    return centre.entity if centre is not None else Entity.objects.get_first_root_node()


def meeting_roles(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[MeetingRole]:
    """The staff roles the user holds over meeting requests (read once per user object)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if getattr(user, "is_superuser", False):
        return _STAFF_ROLES
    cached: frozenset[MeetingRole] | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    roles = _roles_from_grants(int(user.pk))
    setattr(user, _CACHE_ATTR, roles)
    return roles


def meeting_roles_forget(user: object) -> None:
    """Drop the cached roles (after grants or settings change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _roles_from_grants(user_id: int) -> frozenset[MeetingRole]:
    grants = list(
        StaffGrant.objects.filter(user_id=user_id, entity__is_active=True).values_list(
            "role", "entity__path"
        )
    )
    if not grants:
        return frozenset()
    central, office = central_centre_entity().path, minister_office().path
    screen_roles = set(settings.TAWASUL_MEETING_SCREEN_ROLES)
    decide_roles = set(settings.TAWASUL_MEETING_DECIDE_ROLES)
    roles: set[MeetingRole] = set()
    for role, path in grants:
        if role in screen_roles and central.startswith(path):
            roles |= {R.SCREEN, R.VIEW}
        if role in decide_roles and office.startswith(path):
            roles |= {R.DECIDE, R.VIEW}
    return frozenset(roles)


def meeting_can(user: AbstractBaseUser | AnonymousUser | None, role: MeetingRole) -> bool:
    return role in meeting_roles(user)


def meeting_ensure(user: AbstractBaseUser | AnonymousUser | None, role: MeetingRole) -> None:
    """Raise NotFound for someone who sees no meeting request, AccessDenied for one who
    sees them but lacks `role`."""
    roles = meeting_roles(user)
    if role in roles:
        return
    if R.VIEW in roles:
        raise AccessDenied(_("You are not allowed to do this on a meeting request."))
    raise NotFound(_("No such meeting request."))


def meetings_for(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[MeetingRequest]:
    """Every meeting request the user may see (all of them, or none)."""
    if R.VIEW not in meeting_roles(user):
        return MeetingRequest.objects.none()
    return MeetingRequest.objects.all()


def meeting_for_staff(
    user: AbstractBaseUser | AnonymousUser | None,
    *,
    tracking_number: str | None = None,
    pk: int | None = None,
    role: MeetingRole = R.VIEW,
) -> MeetingRequest:
    """Fetch a meeting request and check the user's role together (404 before 403)."""
    lookup = {"pk": pk} if pk is not None else {"tracking_number": tracking_number or ""}
    meeting = meetings_for(user).select_related("beneficiary", "host").filter(**lookup).first()
    if meeting is None:
        raise NotFound(_("No such meeting request."))
    meeting_ensure(user, role)
    return meeting


def meeting_for_beneficiary(
    beneficiary: Beneficiary, *, tracking_number: str | None = None, pk: int | None = None
) -> MeetingRequest:
    """One of the beneficiary's own meeting requests; anyone else's is not found."""
    lookup = {"pk": pk} if pk is not None else {"tracking_number": tracking_number or ""}
    meeting = (
        MeetingRequest.objects.filter(beneficiary_id=beneficiary.pk, **lookup)
        .select_related("host")
        .first()
    )
    if meeting is None:
        raise NotFound(_("No such meeting request."))
    return meeting
