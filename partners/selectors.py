"""Reads of organisations and people that other apps and the API rely on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON, Distance
from django.contrib.gis.geos import Point
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.functions import JSONArray

from grids.models import Area, GridWorker
from partners.models import Capability, Department, Membership, Partner, Unit

GRID_WORKER = "grid_worker"


@dataclass(frozen=True)
class UserRoles:
    """What a user may act as. `roles` holds membership roles plus `grid_worker` for grid workers."""

    roles: frozenset[str] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    partner_ids: frozenset[int] = frozenset()
    grid_codes: frozenset[str] = frozenset()
    # Area codes of the command centres the user dispatches for (district codes, or the city code).
    dispatch_area_codes: frozenset[str] = frozenset()
    is_supervisor: bool = False
    # unit id -> the roles the user holds there, for checks like "may this person sign for this unit".
    unit_roles: dict[int, frozenset[str]] = field(default_factory=dict, compare=False)

    def has(self, role: str) -> bool:
        return role in self.roles


NO_ROLES = UserRoles()


def user_roles(user: AbstractBaseUser | AnonymousUser | None) -> UserRoles:
    """The roles, organisations and grids of `user`; nothing for anonymous or deactivated users.

    Memberships in deactivated units or partners count for nothing. Superusers are supervisors.
    A user authenticated by `partners.authentication` brings them read in the same statement as the
    token (for that request only); any other user object is read here, two queries.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ROLES
    read_with_token = getattr(user, ROLES_ATTRIBUTE, None)
    if read_with_token is not None:
        return read_with_token
    memberships = _memberships(Membership.objects.filter(user=user)).values_list(
        "role", "unit_id", "partner_id", "unit__area__code"
    )
    grid_codes = GridWorker.objects.filter(user=user).values_list("grid__code", flat=True)
    return roles_from_rows(user, memberships, grid_codes)


# Where partners.authentication leaves the roles it read with the token, on that request's user.
ROLES_ATTRIBUTE = "_roles_read_with_token"


def _memberships(qs: QuerySet[Membership]) -> QuerySet[Membership]:
    return qs.filter(Q(unit__is_active=True) | Q(partner__is_active=True))


def user_with_roles(user_id: int) -> AbstractBaseUser | None:
    """The user with their roles, in one statement; the roles stay on this object, so use it for one
    decision and read again for the next."""
    user = get_user_model().objects.annotate(**role_columns("pk")).filter(pk=user_id).first()
    if user is not None:
        setattr(user, ROLES_ATTRIBUTE, roles_from_rows(user, user.role_rows, user.role_grids))
    return user


def role_columns(user_ref: str) -> dict[str, Any]:
    """Annotations that read a user's memberships and grids in the statement that reads the user:
    `role_rows` ([role, unit id, partner id, unit area code] per membership) and `role_grids`
    (grid codes). `user_ref` names the user's id in the outer query ("pk", "user_id")."""
    rows = _memberships(Membership.objects.filter(user_id=OuterRef(user_ref))).values(
        row=JSONArray("role", "unit_id", "partner_id", "unit__area__code")
    )
    grids = GridWorker.objects.filter(user_id=OuterRef(user_ref)).values("grid__code")
    return {"role_rows": ArraySubquery(rows), "role_grids": ArraySubquery(grids)}


def roles_from_rows(
    user: AbstractBaseUser, memberships: Iterable[Sequence[Any]], grid_codes: Iterable[str]
) -> UserRoles:
    """UserRoles from (role, unit id, partner id, unit area code) rows and grid codes, already read."""
    roles: set[str] = set()
    unit_roles: dict[int, set[str]] = {}
    partner_ids: set[int] = set()
    dispatch_codes: set[str] = set()
    for role, unit_id, partner_id, area_code in memberships:
        roles.add(role)
        if unit_id is not None:
            unit_roles.setdefault(unit_id, set()).add(role)
            if role == Membership.Role.DISPATCHER and area_code:
                dispatch_codes.add(area_code)
        if partner_id is not None:
            partner_ids.add(partner_id)
    grids = frozenset(grid_codes)
    if grids:
        roles.add(GRID_WORKER)
    return UserRoles(
        roles=frozenset(roles),
        unit_ids=frozenset(unit_roles),
        partner_ids=frozenset(partner_ids),
        grid_codes=grids,
        dispatch_area_codes=frozenset(dispatch_codes),
        is_supervisor=bool(user.is_superuser) or Membership.Role.SUPERVISOR in roles,
        unit_roles={unit_id: frozenset(r) for unit_id, r in unit_roles.items()},
    )


def units_by_area_and_department() -> dict[tuple[str, str], int]:
    """{(area code, department): unit id} over active units, for routing in memory.

    Unique by construction: the database allows one active unit per territory and department.
    """
    return {
        (area_code, department): unit_id
        for unit_id, area_code, department in Unit.objects.filter(is_active=True).values_list(
            "id", "area__code", "department"
        )
    }


def district_outlines_geojson(tolerance: float = 0.002) -> str:
    """The districts' boundaries, simplified, as one GeoJSON FeatureCollection (admin map context)."""
    simplified = Func(
        F("geom"), Value(tolerance), function="ST_SimplifyPreserveTopology", output_field=GeometryField(srid=4326)
    )
    rows = Area.objects.filter(level=Area.Level.DISTRICT).annotate(outline=AsGeoJSON(simplified, precision=5))
    features = [
        {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": json.loads(outline)}
        for code, name, outline in rows.values_list("code", "name", "outline")
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def district_command_centre(district_code: str) -> Unit | None:
    """The district's 综治中心/网格化服务管理中心, whose triage queue takes unroutable cases."""
    return (
        Unit.objects.filter(
            is_active=True, department=Department.ZONGZHI, level=Unit.Level.DISTRICT, area__code=district_code
        )
        .select_related("area")
        .first()
    )


def partner_candidates(
    *,
    point: Point,
    capabilities: Iterable[str],
    load: dict[int, int] | None = None,
    limit: int | None = None,
) -> list[Partner]:
    """Active partners offering any of `capabilities` whose service area covers `point`, nearest first.

    `load` maps partner id to its open cases; partners at or over capacity are left out. Each partner
    carries `distance_m` (metres from its office to the point).
    """
    wanted = [c for c in capabilities if c in Capability.values]
    if not wanted:
        return []
    if point.srid is None:
        point = Point(point.x, point.y, srid=4326)
    rows = (
        Partner.objects.filter(is_active=True, capabilities__overlap=wanted, service_area__covers=point)
        .defer("service_area")
        .annotate(distance=Distance("location", point))
        .order_by("distance", "code")
    )
    load = load or {}
    found = []
    for partner in rows:
        if load.get(partner.pk, 0) >= partner.capacity:
            continue
        partner.distance_m = partner.distance.m
        found.append(partner)
        if limit is not None and len(found) >= limit:
            break
    return found


# --- the organisations directory (GET /api/v1/organizations/) -------------------------------------


class Chain(Sequence):
    """Two querysets read as one list, so one paginator can page across units then partners."""

    def __init__(self, *querysets: QuerySet):
        self.querysets = querysets
        self._counts: list[int] | None = None

    def counts(self) -> list[int]:
        if self._counts is None:
            self._counts = [qs.count() for qs in self.querysets]
        return self._counts

    def __len__(self) -> int:
        return sum(self.counts())

    def count(self, value: Any = None) -> int:  # what the paginator calls
        return len(self)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            items = self[index : index + 1]
            if not items:
                raise IndexError(index)
            return items[0]
        start, stop, _ = index.indices(len(self))
        out: list = []
        for qs, n in zip(self.querysets, self.counts(), strict=True):
            if start < n and stop > 0:
                out.extend(qs[max(start, 0) : min(stop, n)])
            start -= n
            stop -= n
        return out


def area_prefix(area: Area) -> str:
    """The code prefix every area inside `area` shares (the city code's first four digits for the city)."""
    return area.code[:4] if area.level == Area.Level.CITY else area.code


def unit_list(
    *, level: str | None = None, department: str | None = None, area: Area | None = None, q: str = ""
) -> QuerySet[Unit]:
    units = Unit.objects.select_related("area", "parent").order_by("code")
    if level:
        units = units.filter(level=level)
    if department:
        units = units.filter(department=department)
    if area is not None:
        units = units.filter(area__code__startswith=area_prefix(area))
    if q:
        units = units.filter(Q(name__icontains=q) | Q(code__startswith=q))
    return units


def partner_list(
    *, kind: str | None = None, capability: str | None = None, area: Area | None = None, q: str = ""
) -> QuerySet[Partner]:
    partners = Partner.objects.select_related("district").defer("service_area").order_by("code")
    if kind:
        partners = partners.filter(kind=kind)
    if capability:
        partners = partners.filter(capabilities__contains=[capability])
    if area is not None:
        # Interiors must meet: a service area that only touches the area's border does not serve it.
        # The plain intersects test is there for the spatial index; the relate pattern alone would not use it.
        partners = partners.filter(service_area__intersects=area.geom, service_area__relate=(area.geom, "T********"))
    if q:
        partners = partners.filter(Q(name__icontains=q) | Q(code__startswith=q))
    return partners


def organisation_list(
    *,
    kind: str | None = None,
    level: str | None = None,
    type: str | None = None,  # the API parameter name; shadows the builtin only here
    area: Area | None = None,
    active: bool | None = None,
    q: str = "",
) -> Sequence[Unit | Partner]:
    """Units then partners matching the filters; `type` is a department, a partner kind or a capability.

    Filters that only make sense for one kind (a level, a department) leave the other kind out.
    """
    department = type if type in Department.values else None
    partner_kind = type if type in Partner.Kind.values else None
    capability = type if type in Capability.values else None
    want_units = kind in (None, "unit") and not (partner_kind or capability)
    want_partners = kind in (None, "partner") and not (level or department)
    querysets = []
    if want_units:
        units = unit_list(level=level, department=department, area=area, q=q)
        querysets.append(units if active is None else units.filter(is_active=active))
    if want_partners:
        partners = partner_list(kind=partner_kind, capability=capability, area=area, q=q)
        querysets.append(partners if active is None else partners.filter(is_active=active))
    return Chain(*querysets)
