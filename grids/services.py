"""Writes to the geography: importing boundary files and upserting areas and grids in bulk.

An import runs in two stages. `read_boundaries` is pure (no database): it reads the file through
GeoPandas/pyogrio, checks codes and fields, converts every vertex to WGS-84, rounds to 1e-7° (about
1 cm, so a re-import of the same file is byte-identical) and repairs invalid geometry where it can.
`areas_import` then checks parents against the database and upserts everything in one transaction,
so a bad file changes nothing.

Upserts go through COPY into a temporary table and one ``INSERT … ON CONFLICT (code) DO UPDATE …
WHERE <something changed>``: 50,000 grid polygons take seconds, and a second run of the same data
touches no row (``updated_at`` stays, the locator is not invalidated).

One module, though long: the import is one pipeline (read, check, convert, repair, upsert) whose
stages share their field rules and error texts; split, each part would import the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyproj
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids import crs as crs_module
from grids import locator
from grids.models import Area, Grid

Progress = Callable[[str], None]

LEVELS = ("city", "district", "street", "community", "grid")
AREA_LEVELS = ("city", "district", "street", "community")
LEVEL_LABELS = {
    "city": gettext_lazy("市"),
    "district": gettext_lazy("区/县"),
    "street": gettext_lazy("街道/乡镇"),
    "community": gettext_lazy("社区/村"),
    "grid": gettext_lazy("网格"),
}
PARENT_LEVEL = {"district": "city", "street": "district", "community": "street", "grid": "community"}

# 1e-7° is about 1 cm on the ground: finer than any boundary survey, coarse enough that the same
# input always rounds to the same doubles.
DECIMALS = 7

_CODE_RULES: dict[str, tuple[re.Pattern, str]] = {
    "city": (re.compile(r"^\d{4}00$"), "6 位数字且以 00 结尾，如 520100"),
    "district": (re.compile(r"^\d{4}(?!00)\d{2}$"), "6 位数字且不以 00 结尾，如 520102"),
    "street": (re.compile(r"^\d{6}(?!000)[0-3]\d{2}$"), "9 位数字，末三位 001–399，如 520102001"),
    "community": (re.compile(r"^\d{9}(?!000)[0-3]\d{2}$"), "12 位数字，末三位 001–399，如 520102001001"),
    "grid": (re.compile(r"^\d{12}(?!000)\d{3}$"), "15 位数字，末三位 001–999，如 520102001001001"),
}

# Pieces smaller than this (about 0.01 m²) are artefacts of collapsed or spiky rings, not territory.
MIN_AREA = 1e-12

_UPSERT_BATCH = 5_000


class BoundaryFileError(Exception):
    """The file cannot be imported as a whole; the message is one line saying why.

    ``problems`` lists the features behind it when there are several (each to be shown on its own line).
    """

    def __init__(self, message: str, problems: Sequence[FeatureProblem] = ()):
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class AreaRecord:
    code: str
    name: str
    level: str
    parent_code: str | None
    geom: shapely.MultiPolygon


@dataclass(frozen=True)
class GridRecord:
    code: str
    name: str
    community_code: str
    geom: shapely.MultiPolygon


@dataclass(frozen=True)
class FeatureProblem:
    number: int  # 1-based position of the feature in the file
    code: str
    reason: str

    def __str__(self) -> str:
        return _("第 %(n)d 个要素（编码 %(code)s）：%(reason)s") % {
            "n": self.number,
            "code": self.code or "—",
            "reason": self.reason,
        }


@dataclass
class BoundarySet:
    """What `read_boundaries` found in a file: clean records plus what was repaired or rejected."""

    level: str
    records: list[AreaRecord | GridRecord]
    read: int
    repaired: list[FeatureProblem] = field(default_factory=list)
    rejected: list[FeatureProblem] = field(default_factory=list)


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.created + other.created, self.updated + other.updated, self.unchanged + other.unchanged
        )

    @property
    def changed(self) -> int:
        return self.created + self.updated


@dataclass
class ImportResult:
    boundaries: BoundarySet
    written: UpsertResult


# --- codes ------------------------------------------------------------------------------------------


def code_problem(code: str, level: str) -> str | None:
    """Why ``code`` is not a valid code for ``level``, or None if it is."""
    pattern, expected = _CODE_RULES[level]
    if pattern.match(code):
        return None
    return _("“%(code)s”不是%(level)s层级的编码（应为%(expected)s）") % {
        "code": code,
        "level": LEVEL_LABELS[level],
        "expected": expected,
    }


def parent_code_of(code: str, level: str) -> str | None:
    """The parent's code by the code-prefix rule: districts belong to their city, the rest to the prefix."""
    if level == "city":
        return None
    if level == "district":
        return code[:4] + "00"
    return code[: {"street": 6, "community": 9, "grid": 12}[level]]


def _as_code(value) -> str:
    """Codes come as text, or as numbers when a Shapefile/GeoPackage typed the column numerically."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


# --- geometry ---------------------------------------------------------------------------------------


def to_wgs84_geometries(geoms: np.ndarray, crs: str) -> np.ndarray:
    """Convert every vertex of every geometry from ``crs`` (wgs84/gcj02/bd09) to WGS-84, then round."""
    name = crs_module.normalize_crs(crs)

    def convert(coords: np.ndarray) -> np.ndarray:
        if name != "wgs84":
            lons, lats = crs_module.to_wgs84_array(coords[:, 0], coords[:, 1], name)
            coords = np.column_stack([lons, lats])
        return np.round(coords, DECIMALS)

    return shapely.transform(geoms, convert)


def clean_polygons(geoms: np.ndarray) -> tuple[np.ndarray, list[str | None], list[str | None]]:
    """Make each geometry a valid MultiPolygon.

    Returns (geometries, repairs, rejections): ``repairs[i]`` says what was fixed, ``rejections[i]``
    why geometry i cannot be used (its entry in the first list is then None).
    """
    out = np.empty(len(geoms), dtype=object)
    repairs: list[str | None] = [None] * len(geoms)
    rejections: list[str | None] = [None] * len(geoms)
    valid = shapely.is_valid(geoms)
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            rejections[i] = _("没有几何")
            continue
        if shapely.get_type_id(geom) not in (3, 6, 7):  # Polygon, MultiPolygon, GeometryCollection
            rejections[i] = _("几何类型是 %(type)s，不是面") % {"type": geom.geom_type}
            continue
        if not valid[i]:
            why = shapely.is_valid_reason(geom)
            geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
            repairs[i] = _("已修复无效几何（%(why)s）") % {"why": why}
        polygons = [p for p in _polygonal_parts(geom) if p.area > MIN_AREA]
        if not polygons:
            rejections[i] = _("几何面积为零，无法修复")
            repairs[i] = None
            continue
        if len(polygons) < len(shapely.get_parts(geom)) and repairs[i] is None:
            repairs[i] = _("去掉了非面部分")
        multi = shapely.MultiPolygon(polygons)
        if not multi.is_valid:
            # Parts that overlap each other (a MultiPolygon whose members intersect) need a union.
            multi = _as_multipolygon(shapely.union_all(polygons))
            if multi is None or not multi.is_valid:
                rejections[i] = _("几何无效且无法修复（%(why)s）") % {"why": shapely.is_valid_reason(multi)}
                repairs[i] = None
                continue
        out[i] = multi
    return out, repairs, rejections


def _polygonal_parts(geom) -> list[shapely.Polygon]:
    parts = []
    for part in shapely.get_parts(geom):
        kind = shapely.get_type_id(part)
        if kind == 3:
            parts.append(part)
        elif kind in (6, 7):
            parts.extend(_polygonal_parts(part))
    return parts


def _as_multipolygon(geom) -> shapely.MultiPolygon | None:
    polygons = [p for p in _polygonal_parts(geom) if p.area > MIN_AREA]
    return shapely.MultiPolygon(polygons) if polygons else None


def _coordinate_problem(geom) -> str | None:
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return _("坐标超出经纬度范围（%(b)s），坐标系可能不对，请检查 --crs") % {
            "b": ", ".join(f"{v:.1f}" for v in geom.bounds)
        }
    return None


# --- reading ----------------------------------------------------------------------------------------


def read_boundaries(
    *,
    path: str | Path,
    level: str,
    code_field: str,
    name_field: str,
    parent_field: str | None = None,
    crs: str | None = None,
    where: str | None = None,
    layer: str | None = None,
    progress: Progress | None = None,
) -> BoundarySet:
    """Read and check a boundary file without touching the database.

    ``crs``: "wgs84", "gcj02", "bd09" (coordinates in degrees in that datum) or "EPSG:n"; None means
    the file's own CRS, or WGS-84 when it has none. GCJ-02 and BD-09 files look exactly like WGS-84
    ones in their metadata, so they must be named.
    Raises BoundaryFileError for problems with the file as a whole; per-feature geometry problems
    are returned in ``rejected`` / ``repaired``.
    """
    import geopandas  # heavy (pandas, pyogrio); only reading a boundary file needs it

    say = progress or (lambda message: None)
    if level not in LEVELS:
        raise BoundaryFileError(
            _("未知层级 %(level)s，可选：%(levels)s") % {"level": level, "levels": ", ".join(LEVELS)}
        )
    target = _parse_crs(crs)

    path = Path(path)
    if not path.exists():
        raise BoundaryFileError(_("文件不存在：%(path)s") % {"path": path})
    try:
        frame = geopandas.read_file(path, engine="pyogrio", where=where, layer=layer)
    except Exception as exc:  # GDAL raises many kinds of error for files that are not what they claim
        raise BoundaryFileError(
            _("无法作为地理数据读取 %(path)s：%(error)s") % {"path": path.name, "error": _one_line(exc)}
        ) from None
    if not isinstance(frame, geopandas.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise BoundaryFileError(_("%(path)s 中没有几何列，不是地理数据文件") % {"path": path.name})
    if len(frame) == 0:
        raise BoundaryFileError(_("%(path)s 中没有要素") % {"path": path.name})
    say(_("已读取 %(n)d 个要素") % {"n": len(frame)})

    for option, name in (("--code-field", code_field), ("--name-field", name_field), ("--parent-field", parent_field)):
        if name is not None and name not in frame.columns:
            fields = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
            raise BoundaryFileError(
                _("没有名为 %(name)s 的字段（%(option)s）；文件中的字段：%(fields)s")
                % {"name": name, "option": option, "fields": fields}
            )

    codes = [_as_code(v) for v in frame[code_field].tolist()]
    names = ["" if v is None or v != v else str(v).strip() for v in frame[name_field].tolist()]
    _check_codes(codes, level)

    parents: list[str | None] = [parent_code_of(code, level) for code in codes]
    if parent_field is not None and level != "city":
        for number, (code, given) in enumerate(zip(codes, frame[parent_field].tolist(), strict=True), start=1):
            given = _as_code(given)
            if given and given != parents[number - 1]:
                raise BoundaryFileError(
                    _("第 %(n)d 个要素的上级编码 %(given)s 与编码 %(code)s 的前缀不符（应为 %(expected)s）")
                    % {"n": number, "given": given, "code": code, "expected": parents[number - 1]}
                )

    geoms = frame.geometry.values
    if target is None:
        source = frame.crs
        if source is not None and not source.equals(pyproj.CRS.from_epsg(4326)):
            geoms = frame.to_crs(4326).geometry.values
        geoms = to_wgs84_geometries(np.asarray(geoms, dtype=object), "wgs84")
    elif isinstance(target, str):
        if frame.crs is not None and not frame.crs.is_geographic:
            raise BoundaryFileError(
                _("文件坐标是投影坐标（%(crs)s），不能按 %(target)s 经纬度处理")
                % {"crs": frame.crs.name, "target": target}
            )
        geoms = to_wgs84_geometries(np.asarray(geoms, dtype=object), target)
    else:
        geoms = frame.set_crs(target, allow_override=True).to_crs(4326).geometry.values
        geoms = to_wgs84_geometries(np.asarray(geoms, dtype=object), "wgs84")
    say(_("坐标已转换为 WGS-84"))

    cleaned, repairs, rejections = clean_polygons(np.asarray(geoms, dtype=object))
    boundaries = BoundarySet(level=level, records=[], read=len(frame))
    for index, code in enumerate(codes):
        number = index + 1
        reason = rejections[index] or (None if cleaned[index] is None else _coordinate_problem(cleaned[index]))
        if reason is None and not names[index]:
            reason = _("名称为空")
        if reason is not None:
            boundaries.rejected.append(FeatureProblem(number, code, reason))
            continue
        if repairs[index]:
            boundaries.repaired.append(FeatureProblem(number, code, repairs[index]))
        if level == "grid":
            boundaries.records.append(GridRecord(code, names[index], parents[index], cleaned[index]))
        else:
            boundaries.records.append(AreaRecord(code, names[index], level, parents[index], cleaned[index]))
    say(
        _("检查完毕：可导入 %(ok)d，已修复 %(fixed)d，无法导入 %(bad)d")
        % {"ok": len(boundaries.records), "fixed": len(boundaries.repaired), "bad": len(boundaries.rejected)}
    )
    return boundaries


def _parse_crs(crs: str | None):
    """None, a datum name ("wgs84"/"gcj02"/"bd09"), or a pyproj CRS for "EPSG:n"."""
    if crs is None or crs == "":
        return None
    try:
        name = crs_module.normalize_crs(crs)
    except ValueError:
        name = None
    if name is not None:
        return name
    if not re.match(r"^epsg:\d+$", crs.strip(), re.IGNORECASE):
        raise BoundaryFileError(_("未知坐标系 %(crs)s，可选 wgs84、gcj02、bd09 或 EPSG:编号") % {"crs": crs})
    try:
        return pyproj.CRS.from_user_input(crs.strip().upper())
    except pyproj.exceptions.CRSError:
        raise BoundaryFileError(_("未知坐标系 %(crs)s") % {"crs": crs}) from None


def _check_codes(codes: list[str], level: str) -> None:
    wrong = [(n, c) for n, c in enumerate(codes, start=1) if code_problem(c, level)]
    if wrong:
        number, code = wrong[0]
        raise BoundaryFileError(
            _("有 %(count)d 个要素的编码不属于%(level)s层级（混合层级？），如第 %(n)d 个：%(problem)s")
            % {"count": len(wrong), "level": LEVEL_LABELS[level], "n": number, "problem": code_problem(code, level)}
        )
    seen: dict[str, int] = {}
    for number, code in enumerate(codes, start=1):
        if code in seen:
            raise BoundaryFileError(
                _("编码 %(code)s 重复：第 %(a)d 个和第 %(b)d 个要素") % {"code": code, "a": seen[code], "b": number}
            )
        seen[code] = number


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


# --- writing ----------------------------------------------------------------------------------------


def areas_import(
    *,
    path: str | Path,
    level: str,
    code_field: str,
    name_field: str,
    parent_field: str | None = None,
    crs: str | None = None,
    where: str | None = None,
    layer: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one level of boundaries from a GeoJSON, GeoPackage or Shapefile; upsert by code.

    Everything is checked before anything is written, and the write is one transaction: a
    BoundaryFileError leaves the database as it was. Features whose geometry cannot be repaired
    stop the import unless ``skip_invalid``; then the others are imported and the bad ones listed.
    """
    boundaries = read_boundaries(
        path=path,
        level=level,
        code_field=code_field,
        name_field=name_field,
        parent_field=parent_field,
        crs=crs,
        where=where,
        layer=layer,
        progress=progress,
    )
    if boundaries.rejected and not skip_invalid:
        raise BoundaryFileError(
            _("有 %(n)d 个要素的几何无法导入（如%(first)s），未写入任何数据；加 --skip-invalid 可跳过它们")
            % {"n": len(boundaries.rejected), "first": boundaries.rejected[0]},
            problems=boundaries.rejected,
        )
    _check_parents_exist(boundaries.records, level)
    if dry_run:
        return ImportResult(boundaries, UpsertResult(unchanged=0))
    if level == "grid":
        written = grids_upsert(grids=boundaries.records, progress=progress)
    else:
        written = areas_upsert(areas=boundaries.records, progress=progress)
    return ImportResult(boundaries, written)


def _check_parents_exist(records: Sequence[AreaRecord | GridRecord], level: str) -> None:
    if level == "city":
        return
    wanted = {r.parent_code if isinstance(r, AreaRecord) else r.community_code for r in records}
    found = set(Area.objects.filter(code__in=wanted, level=PARENT_LEVEL[level]).values_list("code", flat=True))
    missing = sorted(wanted - found)
    if missing:
        raise BoundaryFileError(
            _("有 %(n)d 个上级区域（%(level)s）不存在，如 %(code)s；请先导入上级层级")
            % {"n": len(missing), "level": LEVEL_LABELS[PARENT_LEVEL[level]], "code": missing[0]}
        )


def areas_upsert(*, areas: Sequence[AreaRecord], progress: Progress | None = None) -> UpsertResult:
    """Create or update areas by code, parents first; rows whose data is unchanged are not touched.

    Every parent must exist already or come earlier in the hierarchy in ``areas``.
    """
    result = UpsertResult()
    with transaction.atomic():
        for level in AREA_LEVELS:
            rows = [a for a in areas if a.level == level]
            if rows:
                result += _upsert(
                    table=Area._meta.db_table,
                    kind="area",
                    rows=[(a.code, a.name, a.level, a.parent_code) for a in rows],
                    geoms=[a.geom for a in rows],
                    progress=progress,
                    label=level,
                )
        if result.changed:
            transaction.on_commit(locator.invalidate)
    return result


def grids_upsert(*, grids: Sequence[GridRecord], progress: Progress | None = None) -> UpsertResult:
    """Create or update grids by code; each grid's community must exist."""
    with transaction.atomic():
        result = _upsert(
            table=Grid._meta.db_table,
            kind="grid",
            rows=[(g.code, g.name, None, g.community_code) for g in grids],
            geoms=[g.geom for g in grids],
            progress=progress,
            label="grid",
        )
        if result.changed:
            transaction.on_commit(locator.invalidate)
    return result


def _upsert(*, table: str, kind: str, rows, geoms, progress: Progress | None, label: str) -> UpsertResult:
    """COPY rows into a temporary table, then one INSERT … ON CONFLICT that skips unchanged rows.

    ``rows`` are (code, name, level, parent_code); for grids level is None and the parent is the community.
    """
    say = progress or (lambda message: None)
    area_table = Area._meta.db_table
    hexes = shapely.to_wkb(shapely.set_srid(np.asarray(geoms, dtype=object), 4326), hex=True, include_srid=True)
    total = len(rows)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS grids_upsert_rows")
        cursor.execute(
            "CREATE TEMP TABLE grids_upsert_rows (code text, name text, level text, parent_code text,"
            " geom geometry(MultiPolygon, 4326)) ON COMMIT DROP"
        )
        for start in range(0, total, _UPSERT_BATCH):
            with cursor.copy("COPY grids_upsert_rows (code, name, level, parent_code, geom) FROM STDIN") as copy:
                for (code, name, level, parent), hexwkb in zip(
                    rows[start : start + _UPSERT_BATCH], hexes[start : start + _UPSERT_BATCH], strict=True
                ):
                    copy.write_row((code, name, level, parent, hexwkb))
            done = min(start + _UPSERT_BATCH, total)
            say(
                _("写入 %(label)s：%(done)d/%(total)d（%(pct)d%%）")
                % {"label": LEVEL_LABELS.get(label, label), "done": done, "total": total, "pct": 100 * done // total}
            )
        parent_level = PARENT_LEVEL.get("grid" if kind == "grid" else rows[0][2])
        cursor.execute(
            f"SELECT r.code, r.parent_code FROM grids_upsert_rows r LEFT JOIN {area_table} p"
            " ON p.code = r.parent_code AND p.level = %s"
            " WHERE r.parent_code IS NOT NULL AND p.id IS NULL LIMIT 1",
            [parent_level],
        )
        orphan = cursor.fetchone()
        if orphan:
            raise BoundaryFileError(
                _("%(code)s 的上级区域 %(parent)s 不存在") % {"code": orphan[0], "parent": orphan[1]}
            )
        if kind == "grid":
            sql = f"""
                INSERT INTO {table} AS t (code, name, community_id, geom, updated_at)
                SELECT r.code, r.name, p.id, r.geom, now()
                FROM grids_upsert_rows r JOIN {area_table} p ON p.code = r.parent_code
                ON CONFLICT (code) DO UPDATE
                SET name = EXCLUDED.name, community_id = EXCLUDED.community_id, geom = EXCLUDED.geom,
                    updated_at = EXCLUDED.updated_at
                WHERE (t.name, t.community_id) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.community_id)
                   OR ST_AsBinary(t.geom) <> ST_AsBinary(EXCLUDED.geom)
                RETURNING (xmax = 0)
            """
        else:
            sql = f"""
                INSERT INTO {table} AS t (code, name, level, parent_id, geom, updated_at)
                SELECT r.code, r.name, r.level, p.id, r.geom, now()
                FROM grids_upsert_rows r LEFT JOIN {area_table} p ON p.code = r.parent_code
                ON CONFLICT (code) DO UPDATE
                SET name = EXCLUDED.name, level = EXCLUDED.level, parent_id = EXCLUDED.parent_id,
                    geom = EXCLUDED.geom, updated_at = EXCLUDED.updated_at
                WHERE (t.name, t.level, t.parent_id)
                      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_id)
                   OR ST_AsBinary(t.geom) <> ST_AsBinary(EXCLUDED.geom)
                RETURNING (xmax = 0)
            """
        cursor.execute(sql)
        flags = [row[0] for row in cursor.fetchall()]
        cursor.execute("DROP TABLE grids_upsert_rows")
    created = sum(flags)
    return UpsertResult(created=created, updated=len(flags) - created, unchanged=total - len(flags))


def geography_prune(*, district_codes: Iterable[str], keep_area_codes: set[str], keep_grid_codes: set[str]) -> int:
    """Delete streets, communities and grids under these districts whose codes are not kept.

    Used when the demo is regenerated with other settings, so an old partition cannot overlap the
    new one. Raises django.db.models.ProtectedError if something else (e.g. a unit) still points at
    an area to be deleted. Returns the number of areas and grids deleted.
    """
    districts = sorted(district_codes)
    with transaction.atomic(), connection.cursor() as cursor:
        # One array parameter each: a 50,000-code IN list would exceed the driver's parameter limit.
        cursor.execute(
            f"SELECT code FROM {Grid._meta.db_table} WHERE substr(code, 1, 6) = ANY(%s) AND NOT code = ANY(%s)",
            [districts, sorted(keep_grid_codes)],
        )
        stale_grids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT code FROM {Area._meta.db_table} WHERE level IN ('street', 'community')"
            " AND substr(code, 1, 6) = ANY(%s) AND NOT code = ANY(%s) ORDER BY length(code) DESC",
            [districts, sorted(keep_area_codes)],
        )
        stale_areas = [row[0] for row in cursor.fetchall()]
        deleted = 0
        for start in range(0, len(stale_grids), 5_000):
            deleted += (
                Grid.objects.filter(code__in=stale_grids[start : start + 5_000]).delete()[1].get(Grid._meta.label, 0)
            )
        # Communities before streets: an area is PROTECTed while it has children.
        for level in ("community", "street"):
            codes = [c for c in stale_areas if len(c) == (12 if level == "community" else 9)]
            for start in range(0, len(codes), 5_000):
                deleted += (
                    Area.objects.filter(code__in=codes[start : start + 5_000]).delete()[1].get(Area._meta.label, 0)
                )
        if deleted:
            transaction.on_commit(locator.invalidate)
    return deleted


# --- one at a time (the admin) ------------------------------------------------------------------------


def boundary_clean(geom):
    """One boundary as a form gives it (GEOSGeometry, WGS-84) → a valid, rounded GEOS MultiPolygon.

    Raises django.core.exceptions.ValidationError saying why it cannot be used.
    """
    if geom is None:
        raise ValidationError(_("请提供边界"))
    shape = to_wgs84_geometries(np.array([shapely.from_wkb(bytes(geom.wkb))], dtype=object), "wgs84")
    fixed, _repairs, rejections = clean_polygons(shape)
    reason = rejections[0] or _coordinate_problem(fixed[0])
    if reason:
        raise ValidationError(reason)
    return GEOSGeometry(memoryview(shapely.to_wkb(fixed[0])), srid=4326)


def code_check(*, code: str, level: str) -> tuple[str | None, Area | None]:
    """(why the code cannot be used or None, the parent area it implies)."""
    problem = code_problem(code or "", level)
    if problem:
        return problem, None
    parent_code = parent_code_of(code, level)
    if parent_code is None:
        return None, None
    parent = Area.objects.filter(code=parent_code, level=PARENT_LEVEL[level]).first()
    if parent is None:
        return _("上级区域 %(code)s（%(level)s）不存在") % {
            "code": parent_code,
            "level": LEVEL_LABELS[PARENT_LEVEL[level]],
        }, None
    return None, parent


def _check_one(code: str, level: str, geom):
    errors = {}
    problem, parent = code_check(code=code, level=level)
    if problem:
        errors["code"] = problem
    try:
        geom = boundary_clean(geom)
    except ValidationError as exc:
        errors["geom"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    return parent, geom


def area_save(*, area: Area) -> Area:
    """Create or update one area (admin edits): parent from the code prefix, geometry cleaned.

    Raises django.core.exceptions.ValidationError with field errors for a bad code or boundary.
    """
    area.parent, area.geom = _check_one(area.code, area.level, area.geom)
    with transaction.atomic():
        area.save()
        transaction.on_commit(locator.invalidate)
    return area


def grid_save(*, grid: Grid) -> Grid:
    """Create or update one grid (admin edits): community from the code prefix, geometry cleaned."""
    grid.community, grid.geom = _check_one(grid.code, "grid", grid.geom)
    with transaction.atomic():
        grid.save()
        transaction.on_commit(locator.invalidate)
    return grid
