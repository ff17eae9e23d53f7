"""The one place that decides which staff member may see and act on which request.

A staff member holds roles on entities (`StaffGrant`); a role on an entity covers
its whole subtree. A request is within reach of a grant when the request's
current entity lies in the grant's subtree, so a forwarded request leaves the
old centre's reach at once. Superusers hold an implicit administrator grant on
the whole tree. Views, the API, admin lists and exports all come through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import AccessDenied, NotFound
from tawasul.directory.models import Entity, Role, StaffGrant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from tawasul.cases.models import Request
    from tawasul.channels.models import Call, InboundMessage


class Permission(StrEnum):
    VIEW = "view"  # read the request, its thread, notes and timeline
    NOTE = "note"  # add an internal note
    WORK = "work"  # claim, reply, request information, answer, forward, return
    ASSIGN = "assign"  # assign to any agent of the centre
    SUPERVISE = "supervise"  # cancel, reopen, decide objections


P = Permission
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.AGENT: frozenset({P.VIEW, P.NOTE, P.WORK}),
    Role.SUPERVISOR: frozenset({P.VIEW, P.NOTE, P.WORK, P.ASSIGN, P.SUPERVISE}),
    Role.CENTRE_MANAGER: frozenset({P.VIEW, P.NOTE, P.WORK, P.ASSIGN, P.SUPERVISE}),
    Role.QUALITY_OFFICER: frozenset({P.VIEW, P.NOTE}),
    Role.EXECUTIVE_VIEWER: frozenset({P.VIEW}),
    Role.ADMINISTRATOR: frozenset({P.VIEW, P.NOTE, P.WORK, P.ASSIGN, P.SUPERVISE}),
}


@dataclass(frozen=True)
class StaffScope:
    """The entity subtrees (as path prefixes) on which a user holds each permission."""

    paths: dict[Permission, tuple[str, ...]]

    def prefixes(self, permission: Permission) -> tuple[str, ...]:
        return self.paths.get(permission, ())

    def covers(self, permission: Permission, entity_path: str) -> bool:
        return any(entity_path.startswith(prefix) for prefix in self.prefixes(permission))

    @property
    def is_staff(self) -> bool:
        return any(self.paths.values())


_EVERYTHING = StaffScope(paths=dict.fromkeys(Permission, ("",)))
_NOTHING = StaffScope(paths={})
_CACHE_ATTR = "_tawasul_staff_scope"


def staff_scope(user: AbstractBaseUser | AnonymousUser | None) -> StaffScope:
    """The user's scope, read once per user object (one query)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return _NOTHING
    if getattr(user, "is_superuser", False):
        return _EVERYTHING
    cached: StaffScope | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    paths: dict[Permission, set[str]] = {}
    grants = StaffGrant.objects.filter(user_id=user.pk, entity__is_active=True).values_list(
        "role", "entity__path"
    )
    for role, path in grants:
        for permission in ROLE_PERMISSIONS.get(role, ()):
            paths.setdefault(permission, set()).add(path)
    scope = StaffScope(
        paths={perm: _minimal_prefixes(prefixes) for perm, prefixes in paths.items()}
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def staff_scope_forget(user: object) -> None:
    """Drop the cached scope (after grants change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _minimal_prefixes(prefixes: set[str]) -> tuple[str, ...]:
    """Drop prefixes already covered by a shorter one."""
    kept: list[str] = []
    for prefix in sorted(prefixes, key=len):
        if not any(prefix.startswith(shorter) for shorter in kept):
            kept.append(prefix)
    return tuple(sorted(kept))


def _entity_filter(prefixes: tuple[str, ...], field: str = "entity__path") -> Q:
    if "" in prefixes:
        return Q()
    query = Q(pk__in=[])
    for prefix in prefixes:
        query |= Q(**{f"{field}__startswith": prefix})
    return query


def entities_for(
    user: AbstractBaseUser | AnonymousUser, permission: Permission = P.VIEW
) -> QuerySet[Entity]:
    """Entities on which the user holds `permission`."""
    prefixes = staff_scope(user).prefixes(permission)
    if not prefixes:
        return Entity.objects.none()
    return Entity.objects.filter(_entity_filter(prefixes, field="path"))


def requests_for(
    user: AbstractBaseUser | AnonymousUser, permission: Permission = P.VIEW
) -> QuerySet[Request]:
    """Every request the user may see (or act on, with another permission)."""
    from tawasul.cases.models import Request

    prefixes = staff_scope(user).prefixes(permission)
    if not prefixes:
        return Request.objects.none()
    if "" in prefixes:
        return Request.objects.all()
    return Request.objects.filter(entity__in=entities_for(user, permission).values("pk"))


def inbound_for(
    user: AbstractBaseUser | AnonymousUser, permission: Permission = P.VIEW
) -> QuerySet[InboundMessage]:
    """Inbound channel messages the user may see (or act on): those of the channel accounts
    whose receiving centre's entity lies in the user's subtrees (the review queue)."""
    from tawasul.channels.models import InboundMessage

    prefixes = staff_scope(user).prefixes(permission)
    if not prefixes:
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(_entity_filter(prefixes, "account__centre__entity__path"))


def calls_for(
    user: AbstractBaseUser | AnonymousUser, permission: Permission = P.VIEW
) -> QuerySet[Call]:
    """Calls the user may see: those of the telephony lines whose receiving centre's entity
    lies in the user's subtrees."""
    from tawasul.channels.models import Call

    prefixes = staff_scope(user).prefixes(permission)
    if not prefixes:
        return Call.objects.none()
    return Call.objects.filter(_entity_filter(prefixes, "account__centre__entity__path"))


def can(user: AbstractBaseUser | AnonymousUser, permission: Permission, request: Request) -> bool:
    """Whether the user holds `permission` over the request's current entity."""
    return staff_scope(user).covers(permission, request.entity.path)


def can_on_entity(
    user: AbstractBaseUser | AnonymousUser, permission: Permission, entity: Entity
) -> bool:
    return staff_scope(user).covers(permission, entity.path)


def ensure_can(
    user: AbstractBaseUser | AnonymousUser, permission: Permission, request: Request
) -> None:
    """Raise AccessDenied unless the user holds `permission` over the request."""
    if not can(user, permission, request):
        if can(user, P.VIEW, request):
            raise AccessDenied(_("You are not allowed to do this on this request."))
        raise NotFound(_("No such request."))


def request_for_staff(
    user: AbstractBaseUser | AnonymousUser,
    *,
    tracking_number: str | None = None,
    pk: int | None = None,
    permission: Permission = P.VIEW,
) -> Request:
    """Fetch a request and check the user's permission on it together.

    A request out of the user's reach is reported as not found, never as
    forbidden, so its existence is not revealed.
    """
    queryset = requests_for(user, P.VIEW).select_related("entity", "category", "assignee")
    lookup = {"pk": pk} if pk is not None else {"tracking_number": tracking_number}
    request = queryset.filter(**lookup).first()
    if request is None:
        raise NotFound(_("No such request."))
    ensure_can(user, permission, request)
    return request


def grant_holders(entity: Entity, permission: Permission) -> QuerySet[StaffGrant]:
    """Grants that give `permission` over `entity` (on it or on one of its ancestors)."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if permission in perms]
    ancestor_paths = [
        entity.path[:end] for end in range(Entity.steplen, len(entity.path) + 1, Entity.steplen)
    ]
    return StaffGrant.objects.filter(
        role__in=roles, entity__path__in=ancestor_paths, user__is_active=True
    )
