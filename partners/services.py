"""Every write to units, partners and memberships goes through here.

Each function is one transaction. Whatever changes units or partners bumps `VERSION_KEY` in the cache
after commit, so processes that keep organisations in memory (the router's tables) know to reload.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from grids.models import Grid, GridWorker
from partners.models import Membership, Partner, SecurityEvent, Unit

logger = logging.getLogger(__name__)

# Bumped after every committed change to units or partners; readers compare it with their snapshot.
VERSION_KEY = "partners:organisations:version"


def _bump_version_now() -> None:
    try:
        cache.add(VERSION_KEY, 0, None)
        cache.incr(VERSION_KEY)
    except Exception:
        # A committed change must not be undone by Redis being away; readers catch up on its return.
        logger.exception("partners: could not bump the organisations version in the cache")


def bump_version_on_commit() -> None:
    transaction.on_commit(_bump_version_now)


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> int:
        return self.created + self.updated


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, GEOSGeometry) or isinstance(new, GEOSGeometry):
        if old is None or new is None:
            return old is new
        return old.srid == new.srid and old.equals_exact(new, 1e-9)
    return old == new


def _current(obj: Model, name: str, value: Any) -> Any:
    # Compare foreign keys by id so that checking an unchanged row does not fetch the related row.
    if isinstance(value, Model):
        related_id = getattr(obj, f"{name}_id")
        return value if related_id == value.pk else None
    return getattr(obj, name)


def _upsert(model, rows: list[dict[str, Any]], *, batch_size: int = 500) -> tuple[set[str], set[str]]:
    """Create rows whose `code` is new, update those whose fields differ, leave the rest untouched.

    Untouched rows keep their `updated_at`, which is what makes a repeated demo load a no-op.
    Returns the codes created and the codes updated.
    """
    existing = model.objects.in_bulk([row["code"] for row in rows], field_name="code")
    to_create, to_update, changed_fields = [], [], set()
    for row in rows:
        obj = existing.get(row["code"])
        if obj is None:
            obj = model(**row)
            obj.full_clean(validate_unique=False, validate_constraints=False)
            to_create.append(obj)
            continue
        diff = {name for name, value in row.items() if not _same(_current(obj, name, value), value)}
        if diff:
            for name in diff:
                setattr(obj, name, row[name])
            obj.full_clean(validate_unique=False, validate_constraints=False)
            changed_fields |= diff
            to_update.append(obj)
    model.objects.bulk_create(to_create, batch_size=batch_size)
    if to_update:
        # bulk_update skips auto_now; set it so the admin shows when the row last changed.
        now = timezone.now()
        for obj in to_update:
            obj.updated_at = now
        fields = sorted({model._meta.get_field(name).name for name in changed_fields} | {"updated_at"})
        model.objects.bulk_update(to_update, fields, batch_size=batch_size)
    return {obj.code for obj in to_create}, {obj.code for obj in to_update}


def _result(rows: list, created: set[str], updated: set[str]) -> UpsertResult:
    updated = updated - created
    return UpsertResult(created=len(created), updated=len(updated), unchanged=len(rows) - len(created) - len(updated))


@transaction.atomic
def units_upsert(*, rows: Iterable[Mapping[str, Any]]) -> UpsertResult:
    """Create or update units by `code`. Rows are field dicts naming their parent by `parent_code`.

    Parents are linked after every row exists, so a row may name a parent created in the same call.
    """
    rows = [dict(row) for row in rows]
    parent_codes = {row["code"]: row.pop("parent_code", None) for row in rows}
    created, updated = _upsert(Unit, rows)
    wanted_codes = set(parent_codes) | {code for code in parent_codes.values() if code}
    ids = dict(Unit.objects.filter(code__in=wanted_codes).values_list("code", "id"))
    current = dict(Unit.objects.filter(code__in=parent_codes).values_list("code", "parent_id"))
    relinked = []
    for code, parent_code in parent_codes.items():
        if parent_code and parent_code not in ids:
            raise ValueError(f"unit {code}: parent unit {parent_code} does not exist")
        wanted = ids[parent_code] if parent_code else None
        if current[code] != wanted:
            relinked.append(Unit(id=ids[code], parent_id=wanted, updated_at=timezone.now()))
            updated.add(code)
    Unit.objects.bulk_update(relinked, ["parent_id", "updated_at"], batch_size=500)
    if created or updated:
        bump_version_on_commit()
    return _result(rows, created, updated)


@transaction.atomic
def units_deactivate(*, codes: Iterable[str]) -> int:
    """Mark units inactive (never deleted: cases and rules keep pointing at them). Returns how many changed."""
    count = Unit.objects.filter(code__in=list(codes), is_active=True).update(is_active=False)
    if count:
        bump_version_on_commit()
    return count


@transaction.atomic
def unit_save(*, unit: Unit) -> Unit:
    """Validate and save one unit (admin and API doors)."""
    unit.full_clean()
    unit.save()
    bump_version_on_commit()
    return unit


@transaction.atomic
def partners_upsert(*, rows: Iterable[Mapping[str, Any]]) -> UpsertResult:
    """Create or update partners by `code`."""
    rows = [dict(row) for row in rows]
    created, updated = _upsert(Partner, rows)
    if created or updated:
        bump_version_on_commit()
    return _result(rows, created, updated)


@transaction.atomic
def partners_deactivate(*, codes: Iterable[str]) -> int:
    """Mark partners inactive (kept: past cases name them). Returns how many changed."""
    count = Partner.objects.filter(code__in=list(codes), is_active=True).update(is_active=False)
    if count:
        bump_version_on_commit()
    return count


@transaction.atomic
def partner_save(*, partner: Partner) -> Partner:
    """Validate and save one partner (admin and API doors)."""
    partner.full_clean()
    partner.save()
    bump_version_on_commit()
    return partner


@transaction.atomic
def membership_save(*, membership: Membership, actor: AbstractBaseUser | None = None) -> Membership:
    """Save a membership; a new one, or one whose role or organisation changed, is a security event."""
    before = Membership.objects.filter(pk=membership.pk).first() if membership.pk else None
    membership.full_clean()
    membership.save()
    if before is None or (before.role, before.unit_id, before.partner_id) != (
        membership.role,
        membership.unit_id,
        membership.partner_id,
    ):
        if before is not None:
            _role_event(SecurityEvent.Kind.ROLE_REVOKED, before, actor)
        _role_event(SecurityEvent.Kind.ROLE_GRANTED, membership, actor)
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor: AbstractBaseUser | None = None) -> None:
    _role_event(SecurityEvent.Kind.ROLE_REVOKED, membership, actor)
    membership.delete()


def _role_event(kind: str, membership: Membership, actor: AbstractBaseUser | None) -> None:
    organisation = membership.unit or membership.partner
    security_event_record(
        kind=kind,
        user=membership.user,
        actor=actor,
        detail={
            "role": membership.role,
            "unit": membership.unit.code if membership.unit_id else None,
            "partner": membership.partner.code if membership.partner_id else None,
            "organisation": str(organisation) if organisation else "",
        },
    )


def security_event_record(
    *,
    kind: str,
    user: AbstractBaseUser | None = None,
    username: str = "",
    actor: AbstractBaseUser | None = None,
    request=None,
    detail: Mapping[str, Any] | None = None,
) -> SecurityEvent:
    """Append one line to the security log (partners.SecurityEvent); `request` gives address and path."""
    if user is not None and getattr(user, "pk", None) is not None:
        username = user.get_username()
    ip = None
    path = ""
    if request is not None:
        ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR") or None
        path = (getattr(request, "path", "") or "")[:200]
    return SecurityEvent.objects.create(
        kind=kind,
        user_id=getattr(user, "pk", None),
        username=(username or "")[:150],
        actor_id=getattr(actor, "pk", None),
        actor_name=actor.get_username() if actor is not None and getattr(actor, "pk", None) else "",
        ip_address=ip,
        path=path,
        detail=dict(detail or {}),
    )


@transaction.atomic
def membership_ensure(
    *, user: AbstractBaseUser, role: str, unit: Unit | None = None, partner: Partner | None = None
) -> tuple[Membership, bool]:
    """The membership of `user` with `role` in `unit` or `partner`, created (validated) if missing."""
    found = Membership.objects.filter(user=user, role=role, unit=unit, partner=partner).first()
    if found is not None:
        return found, False
    membership = Membership(user=user, role=role, unit=unit, partner=partner)
    membership.full_clean()
    membership.save()
    return membership, True


@transaction.atomic
def person_ensure(
    *,
    username: str,
    password: str,
    full_name: str = "",
    email: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> tuple[AbstractBaseUser, bool]:
    """A user with exactly these attributes and password; writes only what differs. Returns (user, changed)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    changed = user is None
    if user is None:
        user = user_model(username=username)
    wanted = {"first_name": full_name, "email": email, "is_staff": is_staff, "is_superuser": is_superuser}
    wanted["is_active"] = True
    for name, value in wanted.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed = True
    # set_password salts afresh, so only when the stored one is not already this password.
    if not user.pk or not user.check_password(password):
        user.set_password(password)
        changed = True
    if changed:
        user.save()
    return user, changed


@transaction.atomic
def grid_workers_ensure(*, user: AbstractBaseUser, grids: Iterable[Grid]) -> int:
    """Make `user` a grid worker (网格员) of each grid; grids has no service layer for this yet."""
    grids = list(grids)
    have = set(GridWorker.objects.filter(user=user, grid__in=grids).values_list("grid_id", flat=True))
    new = [GridWorker(user=user, grid=grid) for grid in grids if grid.pk not in have]
    GridWorker.objects.bulk_create(new)
    return len(new)
