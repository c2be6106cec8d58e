"""Generated case histories for the analytics tests: cases written straight into the table with the
times a test wants, thousands in a few statements (opening each through the service would route,
schedule and log every one, which these tests do not look at)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from django.contrib.gis.geos import Point

from dispatch.models import Case
from maps.dashboard import local_zone
from routing.models import Category

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    grid: str

    @property
    def district(self) -> str:
        return self.grid[:6]

    @property
    def street(self) -> str:
        return self.grid[:9]


def plant(
    *,
    day: dt.date,
    place: Place,
    category: str,
    text: str,
    count: int,
    rng: random.Random,
    between: tuple[int, int] = (8, 15),
    before: dt.datetime | None = None,
    status: str = Case.Status.DISPATCHED,
    **fields,
) -> list[int]:
    """`count` cases of `category` at `place` opened on local `day` at random times within the hours
    `between` (or between midnight and `before`); returns their ids."""
    if count <= 0:
        return []
    zone = local_zone()
    category_obj = Category.objects.get(code=category)
    times = []
    cases = []
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    low, high = between[0] * 3600, between[1] * 3600
    if before is not None:
        low, high = 0, max(1, int((before - midnight).total_seconds()))
    for _ in range(count):
        times.append(midnight + dt.timedelta(seconds=rng.randrange(low, high)))
        cases.append(
            Case(
                number=f"T{day:%Y%m%d}{next(_numbers):06d}",
                status=status,
                category=category_obj,
                source=Case.Source.HOTLINE,
                description=text,
                point=Point(place.lon, place.lat, srid=4326),
                grid_code=place.grid,
                community_code=place.grid[:12],
                street_code=place.street,
                district_code=place.district,
                **fields,
            )
        )
    created = Case.objects.bulk_create(cases)
    # created_at is auto_now_add: the wanted times go in afterwards.
    for case, at in zip(created, times, strict=True):
        Case.objects.filter(pk=case.pk).update(created_at=at)
    return [case.pk for case in created]


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw (Knuth's method; the rates here are small)."""
    limit, k, product = pow(2.718281828459045, -rate), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
