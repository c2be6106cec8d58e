"""A point as it enters the system: parsed and range-checked once, with its CRS and its WGS-84 form.

Every door a reported point comes in by (the case API, the hotline, Open311) makes a `CheckedPoint`
with `CheckedPoint.make` and passes it on; what lies behind the door (opening a case, the locator)
takes the point as it is and converts nothing again. A door words the refusal its own way: the
`PointError` names the problem of each field, and `messages()` turns them into field errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _

from grids.crs import CRS, parse_coordinate, to_wgs84

LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)

# What can be wrong with a field of a point.
NOT_A_NUMBER = "not_a_number"
OUT_OF_RANGE = "out_of_range"
MISSING = "missing"  # the other coordinate was given
UNKNOWN_CRS = "unknown_crs"


def _default_texts() -> dict[str, str]:
    return {
        NOT_A_NUMBER: _("需要是数字。"),
        OUT_OF_RANGE: _("超出范围。"),
        MISSING: _("经度和纬度需要同时提供。"),
        UNKNOWN_CRS: _("坐标系只能是 wgs84、gcj02 或 bd09。"),
    }


class PointError(ValueError):
    """The point was refused; `problems` maps "lon", "lat" or "crs" to what is wrong with it."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(", ".join(f"{name}: {problem}" for name, problem in problems.items()))
        self.problems = problems

    def messages(
        self, texts: dict[str, str] | None = None, names: dict[str, str] | None = None
    ) -> dict[str, list[str]]:
        """Field errors: `texts` overrides the wording of a problem, `names` renames a field (lon → long)."""
        wording = {**_default_texts(), **(texts or {})}
        names = names or {}
        return {names.get(name, name): [wording[problem]] for name, problem in self.problems.items()}


@dataclass(frozen=True)
class CheckedPoint:
    """Coordinates as given (`lon`, `lat` in `crs`) and the same point in WGS-84, as stored and located."""

    lon: float
    lat: float
    crs: str
    wgs84_lon: float
    wgs84_lat: float

    @classmethod
    def make(cls, lon: object, lat: object, crs: str = "wgs84") -> CheckedPoint:
        """Check both coordinates (a JSON number or a decimal string, within range) and the crs, then convert.

        `None` stands for a coordinate not given. Raises PointError naming every field at fault; a
        missing coordinate is named only when the one given is itself in order.
        """
        problems: dict[str, str] = {}
        numbers: dict[str, float] = {}
        for name, value, (low, high) in (("lon", lon, LON_RANGE), ("lat", lat, LAT_RANGE)):
            if value is None:
                problems[name] = MISSING
                continue
            try:
                number = parse_coordinate(value)
            except ValueError:
                problems[name] = NOT_A_NUMBER
                continue
            if not low <= number <= high:
                problems[name] = OUT_OF_RANGE
                continue
            numbers[name] = number
        if any(problem != MISSING for problem in problems.values()):
            problems = {name: problem for name, problem in problems.items() if problem != MISSING}
        elif len(problems) == 2:
            raise ValueError("A point needs coordinates; pass None for no point at all.")
        if crs not in CRS:
            problems["crs"] = UNKNOWN_CRS
        if problems:
            raise PointError(problems)
        wgs84_lon, wgs84_lat = to_wgs84(numbers["lon"], numbers["lat"], crs)
        return cls(numbers["lon"], numbers["lat"], crs, float(wgs84_lon), float(wgs84_lat))

    @property
    def geometry(self) -> Point:
        """The WGS-84 point as GeoDjango stores it (SRID 4326)."""
        return Point(self.wgs84_lon, self.wgs84_lat, srid=4326)
