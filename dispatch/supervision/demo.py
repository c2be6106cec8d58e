"""A generated case history with planted misconduct, so the supervision page has something real to show.

`plant_history(plan, now=...)` writes a few weeks of ordinary case lifecycles for every unit in the
plan and, for the units planted with a behaviour, bends their lifecycles the way that behaviour does
(returning half their cases, replying minutes after signing, sitting on cases until red, …). The
tests plant the same behaviours in their small world and check each rule finds exactly the planted
units; `manage.py load_demo` plants them in the Guiyang demo (`load`) and then runs the rules.

The history is written in bulk with past timestamps, in the shapes the case services write (same
event kinds, same `data` keys, same assignment fields): the services stamp every event with the
moment they run, so a history of the past cannot come from them. Inserts only — the event log still
refuses any UPDATE or DELETE. Demo case numbers start with `DM`; their presence makes `load`
idempotent.

One module, though long: each planted behaviour is a small variation on the same lifecycle writer,
and they are meant to be read against each other and against the rules they trip.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models.functions import PointOnSurface
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from dispatch.evidence import photos, storage
from dispatch.models import Assignment, Attachment, Case, CaseEvent
from dispatch.sla import clock
from dispatch.supervision import services
from grids.models import Grid
from partners import services as partner_services
from partners.models import Membership, Unit
from routing.models import Category

Kind = CaseEvent.Kind
CaseStatus = Case.Status
AssignmentStatus = Assignment.Status
PREFIX = "DM"
CASES_PER_UNIT = 12

# The behaviour each rule looks for, in the order the demo plants them.
BEHAVIOURS = (
    "return_rate",
    "case_bouncing",
    "reply_without_photo",
    "quick_reply",
    "last_hour_replies",
    "frequent_extensions",
    "signed_idle",
    "rapid_callbacks",
    "self_verification",
    # Ordinary lifecycles here; the hotline's planter gives their callbacks one caller number.
    "same_caller",
)


@dataclass
class Plan:
    """Who gets which history. `planted[rule]` lists the units that behave that way (two for bouncing)."""

    honest: list[Any]
    planted: dict[str, list[Any]]
    categories: list[Category]
    agent: Any = None  # makes ordinary callbacks
    gaming_agent: Any = None  # makes the implausibly fast, all-满意 ones
    verifier: Any = None  # the grid worker or dispatcher who checks work on site
    handlers: dict[int, Any] = field(default_factory=dict)  # unit id -> the person who acts for it
    self_verifier: Any = None  # a handler who also verifies (planted for self_verification)
    triage_unit: Any = None


@dataclass
class _Case:
    case: Case
    events: list[dict] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    photo: bool = False


class _Writer:
    def __init__(
        self, plan: Plan, *, now: dt.datetime, rng: random.Random, grids: dict[int, tuple[str, Any]], prefix: str
    ):
        self.plan, self.now, self.rng, self.grids, self.prefix = plan, now, rng, grids, prefix
        self.items: list[_Case] = []
        self.serial = 0

    # --- building blocks ---

    def _new_case(self, unit, start: dt.datetime) -> _Case:
        self.serial += 1
        category = self.plan.categories[self.serial % len(self.plan.categories)]
        grid, point = self.grids.get(unit.pk, ("", None))
        case = Case(
            number=f"{self.prefix}{timezone.localtime(start):%Y%m%d}{self.serial:05d}",
            status=CaseStatus.RECEIVED,
            category=category,
            urgency=Case.Urgency.NORMAL,
            source=Case.Source.HOTLINE,
            description=f"{category.name}：{self.rng.choice(DESCRIPTIONS)}",
            point=point,
            grid_code=grid,
            community_code=grid[:12],
            street_code=grid[:9],
            district_code=grid[:6],
            reporter=self.plan.agent,
            routing={"demo": True},
        )
        item = _Case(case=case)
        self.items.append(item)
        self._event(item, Kind.OPENED, start, actor=self.plan.agent, data={"source": "hotline", "crs": "wgs84"})
        return item

    def _event(self, item: _Case, kind: str, at: dt.datetime, *, to: str | None = None, **fields) -> bool:
        """Append an event if it is in the past; False (and nothing written) once the history reaches now."""
        if at >= self.now:
            return False
        from_status = item.case.status
        if to is not None:
            item.case.status = to
        item.events.append(
            {"kind": kind, "at": at, "from_status": from_status, "to_status": item.case.status, **fields}
        )
        return True

    def _dispatch(self, item: _Case, unit, at: dt.datetime, previous=None) -> Assignment | None:
        sign_due, reply_due = clock.deadlines_for(category=item.case.category, urgency="normal", start=at)
        data = {"lead_unit": _unit(unit), "collaborators": [], "partners": []}
        if previous is not None:
            data = {"lead_unit": _unit(unit), "previous_unit": _unit(previous), "collaborators": []}
        if not self._event(item, Kind.DISPATCHED, at, to=CaseStatus.DISPATCHED, data=data):
            return None
        assignment = Assignment(
            unit=unit, role=Assignment.Role.LEAD, dispatched_at=at, sign_due=sign_due, reply_due=reply_due
        )
        item.assignments.append(assignment)
        item.case.lead_unit = unit
        return assignment

    def _return(self, item: _Case, assignment: Assignment, at: dt.datetime) -> bool:
        unit = assignment.unit
        triage = self.plan.triage_unit
        data = {"unit": _unit(unit), "lead_unit": _unit(triage) if triage else None}
        note = self.rng.choice(RETURN_REASONS)
        actor = self.plan.handlers.get(unit.pk)
        if not self._event(item, Kind.RETURNED, at, to=CaseStatus.RETURNED, actor=actor, note=note, data=data):
            return False
        assignment.status = AssignmentStatus.RETURNED
        return True

    # --- one lifecycle ---

    def lifecycle(self, unit, start: dt.datetime, *, behaviour: str | None = None, bounce: list | None = None) -> None:
        r = self.rng
        item = self._new_case(bounce[0] if bounce else unit, start)
        at = start + dt.timedelta(minutes=1)
        previous = None
        chain = list(bounce or [])
        if behaviour == "return_rate":
            chain = [unit, self.plan.honest[0]]
        elif not chain:
            chain = [unit]
        assignment = None
        for index, lead in enumerate(chain):
            assignment = self._dispatch(item, lead, at, previous)
            if assignment is None:
                return
            if index < len(chain) - 1:
                at += dt.timedelta(minutes=r.randint(20, 90))
                if not self._return(item, assignment, at):
                    return
                previous = lead
                at += dt.timedelta(minutes=r.randint(15, 60))
        unit = chain[-1]
        handler = self.plan.handlers.get(unit.pk)
        # Sign.
        at += dt.timedelta(minutes=r.randint(10, 80))
        if not self._event(
            item, Kind.SIGNED, at, to=CaseStatus.SIGNED, actor=handler, data={"assignment": None, "unit": _unit(unit)}
        ):
            return
        assignment.status, assignment.signed_at = AssignmentStatus.SIGNED, at
        signed_at = at
        if behaviour == "frequent_extensions":
            until = assignment.reply_due + dt.timedelta(days=3)
            asked = at + dt.timedelta(hours=r.randint(2, 6))
            data = {"until": until.isoformat(), "reply_due": assignment.reply_due.isoformat()}
            note = "需协调相关部门，申请延期"
            if not self._event(item, Kind.EXTENSION_REQUESTED, asked, actor=handler, note=note, data=data):
                return
            decided = asked + dt.timedelta(hours=1)
            previous_due = assignment.reply_due
            approved = {"assignment": None, "previous_due": previous_due.isoformat(), "reply_due": until.isoformat()}
            if self._event(item, Kind.EXTENSION_APPROVED, decided, data=approved):
                assignment.extension_status = Assignment.Extension.APPROVED
                assignment.extension_until = assignment.reply_due = until
                assignment.extension_requested_at, assignment.extension_decided_at = asked, decided
        if behaviour == "signed_idle":
            due = assignment.reply_due
            stage = {"assignment": None, "role": "lead", "stage": "reply", "due": due.isoformat(), "unit": _unit(unit)}
            yellow = signed_at + (due - signed_at) * 0.8
            self._event(item, Kind.SLA_YELLOW, yellow, data={**stage, "partner": None})
            if self._event(item, Kind.SLA_RED, due, data={**stage, "partner": None}):
                self._event(item, Kind.URGED, due, data={**stage, "partner": None, "automatic": True, "times": 1})
                assignment.sla_level, assignment.red_notified_at = Assignment.SlaLevel.RED, due
                assignment.urged_at, assignment.urge_count = due, 1
            return  # still sitting on it
        # Reply.
        if behaviour == "quick_reply":
            at = signed_at + dt.timedelta(minutes=r.randint(2, 8))
        elif behaviour == "last_hour_replies":
            at = assignment.reply_due - dt.timedelta(minutes=r.randint(8, 50))
        else:
            latest = max(signed_at + dt.timedelta(hours=7), assignment.reply_due - dt.timedelta(hours=3))
            hours = (latest - signed_at).total_seconds() / 3600
            at = signed_at + dt.timedelta(hours=r.uniform(6, max(6.5, hours)))
        replier = self.plan.self_verifier if behaviour == "self_verification" else handler
        item.photo = behaviour != "reply_without_photo"
        if not self._event(
            item,
            Kind.REPLIED,
            at,
            to=CaseStatus.REPLIED,
            actor=replier,
            note=self.rng.choice(REPLIES),
            data={"assignment": None},
        ):
            return
        assignment.status, assignment.replied_at = AssignmentStatus.REPLIED, at
        self._event(item, Kind.VERIFYING, at, to=CaseStatus.VERIFYING, data={"grid": item.case.grid_code or None})
        # Verify and close.
        at += dt.timedelta(hours=r.uniform(1, 5))
        verifier = self.plan.self_verifier if behaviour == "self_verification" else self.plan.verifier
        if not self._event(item, Kind.VERIFIED, at, to=CaseStatus.CLOSED, actor=verifier, note="现场核查，已处置到位"):
            return
        item.case.closed_at = at
        # The callback; the gaming agent's come later, in bursts (see plant_history).
        if behaviour == "rapid_callbacks":
            return
        at += dt.timedelta(hours=r.uniform(12, 36))
        if self._event(item, Kind.REVISITED, at, to=CaseStatus.REVISITED, actor=self.plan.agent, note="满意"):
            item.case.satisfied, item.case.revisited_at = True, at

    def burst_callbacks(self, items: list[_Case], *, gap_seconds: tuple[int, int] = (35, 70)) -> None:
        """The gaming agent "calls back" every closed case in `items` one after another, all 满意."""
        closed = [i for i in items if i.case.status == CaseStatus.CLOSED]
        if not closed:
            return
        at = max(i.case.closed_at for i in closed) + dt.timedelta(hours=2)
        at = min(at, self.now - dt.timedelta(hours=2))
        for item in closed:
            if self._event(
                item, Kind.REVISITED, at, to=CaseStatus.REVISITED, actor=self.plan.gaming_agent, note="满意"
            ):
                item.case.satisfied, item.case.revisited_at = True, at
            at += dt.timedelta(seconds=self.rng.randint(*gap_seconds))

    # --- writing ---

    @transaction.atomic
    def write(self, photo_name: str | None, photo_meta: dict | None) -> dict[str, int]:
        cases = [i.case for i in self.items]
        for item in self.items:
            item.case.version = len(item.events)
        Case.objects.bulk_create(cases)
        # created_at is stamped on insert; a history's cases were opened when their first event says.
        for item in self.items:
            item.case.created_at = item.case.updated_at = item.events[-1]["at"]
            item.case.created_at = item.events[0]["at"]
        Case.objects.bulk_update(cases, ["created_at", "updated_at"], batch_size=1000)
        assignments = []
        for item in self.items:
            for a in item.assignments:
                a.case = item.case
                assignments.append(a)
        Assignment.objects.bulk_create(assignments)
        photos = []
        if photo_name:
            for item in self.items:
                if item.photo:
                    photos.append(Attachment(case=item.case, file=photo_name, uploaded_by=None, **photo_meta))
            Attachment.objects.bulk_create(photos)
        photo_of = {p.case_id: p.pk for p in photos}
        rows = []
        for item in self.items:
            lead = None
            for event in item.events:
                data = dict(event.get("data") or {})
                # Assignment ids exist only now: fill them in where the services write them.
                if "assignment" in data:
                    lead = _assignment_at(item.assignments, event["at"]) or lead
                    data["assignment"] = lead.pk if lead else None
                evidence = (
                    [photo_of[item.case.pk]] if event["kind"] == Kind.REPLIED and item.case.pk in photo_of else []
                )
                rows.append(
                    CaseEvent(
                        case=item.case,
                        kind=event["kind"],
                        actor=event.get("actor"),
                        at=event["at"],
                        from_status=event["from_status"],
                        to_status=event["to_status"],
                        note=event.get("note", ""),
                        evidence=evidence,
                        data=data,
                    )
                )
        rows.sort(key=lambda e: e.at)
        CaseEvent.objects.bulk_create(rows, batch_size=2000)
        return {"cases": len(cases), "events": len(rows), "assignments": len(assignments), "photos": len(photos)}


def _assignment_at(assignments: list[Assignment], at: dt.datetime) -> Assignment | None:
    current = [a for a in assignments if a.dispatched_at <= at]
    return current[-1] if current else None


def _unit(unit) -> dict | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


DESCRIPTIONS = (
    "群众反映已有多日无人处理",
    "影响周边居民出行",
    "夜间存在安全隐患",
    "小区门口，请尽快处理",
    "学校附近，家长担心",
)
RETURN_REASONS = ("不属于本单位职责", "地址不在本辖区", "应由其他部门处理")
REPLIES = ("已到现场处置完毕", "已安排人员修复", "已清理完毕并拍照留存", "已联系责任单位整改到位")


def _demo_photo() -> tuple[str, dict]:
    """One small photo, stored once, that every demo reply with evidence points at."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (60, 140, 90)).save(out, format="JPEG")
    photo = photos.prepare_photo(SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg"))
    name = storage.store(photo)
    meta = {"size": len(photo.content), "width": photo.width, "height": photo.height, "sha256": photo.sha256}
    return name, meta


def _grids_for(units) -> dict[int, tuple[str, Any]]:
    """A grid (code, a point inside it) in each unit's territory, for the cases' location."""
    found = {}
    for unit in units:
        code = unit.area.code if unit.area_id else ""
        grid = (
            Grid.objects.filter(code__startswith=code)
            .annotate(inside=PointOnSurface("geom"))
            .order_by("code")
            .values_list("code", "inside")
            .first()
        )
        if grid is not None:
            found[unit.pk] = grid
    return found


def plant_history(
    plan: Plan,
    *,
    now: dt.datetime | None = None,
    seed: int = 2026,
    photos: bool = True,
    per_unit: int = CASES_PER_UNIT,
    prefix: str = PREFIX,
) -> dict:
    """Write the plan's history: `per_unit` lifecycles per unit over the last 12-24 days.

    Case numbers are `prefix` + the day + a serial (the benchmark uses its own prefix)."""
    now = now or timezone.now()
    rng = random.Random(f"supervision-demo:{seed}")
    everyone = list(plan.honest) + [u for units in plan.planted.values() for u in units]
    grids = _grids_for({u.pk: u for u in everyone}.values())
    writer = _Writer(plan, now=now, rng=rng, grids=grids, prefix=prefix)

    def starts(n: int) -> list[dt.datetime]:
        # Calls come in during the day: 08:30–18:00 local, 12 to 24 days ago.
        found = []
        for _ in range(n):
            day = timezone.localtime(now - dt.timedelta(days=rng.randint(12, 24))).replace(hour=8, minute=30)
            found.append(day + dt.timedelta(minutes=rng.randint(0, 570)))
        return sorted(found)

    for unit in plan.honest:
        for start in starts(per_unit):
            writer.lifecycle(unit, start)
    for behaviour in BEHAVIOURS:
        units = plan.planted.get(behaviour, [])
        if behaviour == "case_bouncing":
            # Pairs of units pass cases back and forth: A → B → A, three returns, before someone takes it.
            for a, b in zip(units[::2], units[1::2], strict=False):
                for start in starts(2):
                    writer.lifecycle(a, start, bounce=[a, b, a, plan.honest[0]])
            for unit in units:
                for start in starts(per_unit):
                    writer.lifecycle(unit, start)
            continue
        for unit in units:
            before = len(writer.items)
            for index, start in enumerate(starts(per_unit)):
                # Two thirds of the unit's cases show the behaviour, the rest are ordinary; every case of a
                # unit whose callbacks are gamed goes into the gaming agent's bursts.
                bent = index % 3 != 2 or behaviour == "rapid_callbacks"
                writer.lifecycle(unit, start, behaviour=behaviour if bent else None)
            if behaviour == "rapid_callbacks":
                writer.burst_callbacks(writer.items[before:])
    photo_name, meta = _demo_photo() if photos else (None, None)
    return {**writer.write(photo_name, meta), "photo": photo_name}


# --- the Guiyang demo ------------------------------------------------------------------------------

# (district, department) of the units that get each behaviour; the honest ones; the bouncing pair.
DEMO_PLANTS: dict[str, list[tuple[str, str]]] = {
    "return_rate": [("520103", "chengguan")],  # the demo `handler` user's unit sees its own finding
    "case_bouncing": [("520102", "zhujian"), ("520102", "shuiwu")],
    "reply_without_photo": [("520111", "chengguan")],
    "quick_reply": [("520115", "chengguan")],
    "last_hour_replies": [("520112", "chengguan")],
    "frequent_extensions": [("520113", "chengguan")],
    "signed_idle": [("520103", "zhujian")],
    "rapid_callbacks": [("520115", "zhujian")],
    "self_verification": [("520111", "zhujian")],
    "same_caller": [("520112", "zhujian")],
}
DEMO_HONEST = [("520102", "chengguan"), ("520103", "shuiwu"), ("520111", "shuiwu"), ("520115", "shuiwu")]
DEMO_CATEGORIES = ["BJ0302", "BJ0206", "SJ0101", "SJ0102"]


def load(*, seed: int = 2026, stdout=None, now: dt.datetime | None = None, planters=()) -> dict:
    """Plant the demo's history once (skipped if demo cases exist) and run the rules.

    `planters`: callables(plan=, now=, seed=, stdout=) from higher apps that add their part of the
    history (the hotline's callers) after the cases are written and before the rules run.
    """
    out = stdout or _Quiet()
    if Case.objects.filter(number__startswith=PREFIX).exists():
        out.write("  history with planted behaviour: already there")
    else:
        plan = demo_plan(out)
        if plan is None:
            return {}
        now = now or timezone.now()
        started = time.monotonic()
        counts = plant_history(plan, now=now, seed=seed)
        out.write(
            f"  history with planted behaviour: {counts['cases']} cases, {counts['events']} events "
            f"({len(plan.honest)} honest units, {sum(len(u) for u in plan.planted.values())} planted) "
            f"in {time.monotonic() - started:.1f} s"
        )
        for planter in planters:
            planter(plan=plan, now=now, seed=seed, stdout=out)
    out.write("  running the supervision rules:")
    started = time.monotonic()
    result = services.supervision_run(now=now, stdout=out)
    out.write(f"  rules run in {time.monotonic() - started:.1f} s")
    return result.as_dict()


def demo_plan(out) -> Plan | None:
    def find(district: str, department: str):
        return (
            Unit.objects.filter(is_active=True, department=department, area__code=district, level="district")
            .select_related("area")
            .first()
        )

    planted = {rule: [u for u in (find(*key) for key in keys) if u is not None] for rule, keys in DEMO_PLANTS.items()}
    honest = [u for u in (find(*key) for key in DEMO_HONEST) if u is not None]
    categories = list(Category.objects.filter(code__in=DEMO_CATEGORIES, is_active=True))
    if not honest or not categories:
        out.write("  history with planted behaviour: no units or categories loaded; skipped")
        return None
    User = Membership._meta.get_field("user").related_model
    handlers: dict[int, Any] = {}
    for m in Membership.objects.filter(role__in=["handler", "unit_admin"], unit__isnull=False).select_related("user"):
        handlers.setdefault(m.unit_id, m.user)
    # Every unit in the history acts through someone; units without a demo login get a named handler
    # who cannot log in (no password), so the log reads like a real one.
    self_unit = (planted.get("self_verification") or [None])[0]
    for unit in {u.pk: u for u in [*honest, *(u for us in planted.values() for u in us)]}.values():
        if unit.pk not in handlers and unit is not self_unit:
            person, _changed = partner_services.person_ensure(
                username=f"demo-{unit.code}", password=None, full_name=f"{unit.name}处置人员"
            )
            partner_services.membership_ensure(user=person, role=Membership.Role.HANDLER, unit=unit)
            handlers[unit.pk] = person
    agent = User.objects.filter(username="agent").first()
    verifier = User.objects.filter(username="gridworker").first()
    gaming, _changed = partner_services.person_ensure(
        username="agent_fast", password=None, full_name="孙磊（演示：回访刷满意）"
    )
    hotline = Unit.objects.filter(department="hotline", level="city", is_active=True).first()
    if hotline is not None:
        partner_services.membership_ensure(user=gaming, role=Membership.Role.AGENT, unit=hotline)
    self_verifier = None
    if self_unit is not None:
        self_verifier, _changed = partner_services.person_ensure(
            username="handler_selfcheck", password=None, full_name="吴刚（演示：自办自核）"
        )
        partner_services.membership_ensure(user=self_verifier, role=Membership.Role.HANDLER, unit=self_unit)
        handlers[self_unit.pk] = self_verifier
    return Plan(
        honest=honest,
        planted=planted,
        categories=categories,
        agent=agent,
        gaming_agent=gaming,
        verifier=verifier,
        handlers=handlers,
        self_verifier=self_verifier,
        triage_unit=Unit.objects.filter(department="zongzhi", level="city").first(),
    )


class _Quiet:
    def write(self, text: str) -> None:
        pass
