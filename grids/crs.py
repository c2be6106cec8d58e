"""Coordinate systems used by Chinese map SDKs, and conversion to and from WGS-84.

- ``wgs84``: raw GPS, OpenStreetMap, what we store (SRID 4326).
- ``gcj02``: the national "Mars" datum; AMap (高德), Tencent and Apple maps in China give it.
- ``bd09``: Baidu's datum, a further offset on top of GCJ-02.

GCJ-02 is only defined inside China: outside the usual bounding box every function returns its
input unchanged. WGS-84 → GCJ-02 is the published closed formula; GCJ-02 → WGS-84 has no closed
form, so it is solved by fixed-point iteration to well under a centimetre.

Every conversion exists twice: a scalar version on floats (for one point per request) and a numpy
version on arrays (for importing boundaries and bulk locating). Both share one formula.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from types import SimpleNamespace

import numpy as np

CRS = ("wgs84", "gcj02", "bd09")

# A coordinate typed into a form: optional sign, digits, optional decimal part. Not "1_0" (Python's
# float() reads it as 10), not "1e2", not "nan"/"inf", not full-width digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_coordinate(value: object) -> float:
    """A coordinate as a float: a JSON number (int or float, never a boolean) or a decimal string.

    Every door a point enters by uses this (serializers, Open311's form, the services' own checks), so
    `{"lon": true}` is refused everywhere instead of becoming 1. Raises ValueError otherwise.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a coordinate")
    if isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        raise ValueError(f"not a decimal number: {value!r}")
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


# Krasovsky 1940 ellipsoid, as in the GCJ-02 formula everyone reimplements.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The bounding box the common implementations (eviltransform, coordtransform) treat as "China".
_MIN_LON, _MAX_LON = 72.004, 137.8347
_MIN_LAT, _MAX_LAT = 0.8293, 55.8271

# Stops the inverse once a step moves less than ~1 mm; a handful of steps are enough in practice.
_INVERSE_TOLERANCE_DEG = 1e-8
_INVERSE_MAX_STEPS = 30

_SCALAR = SimpleNamespace(
    sin=math.sin, cos=math.cos, sqrt=math.sqrt, fabs=math.fabs, hypot=math.hypot, atan2=math.atan2
)
_ARRAY = SimpleNamespace(sin=np.sin, cos=np.cos, sqrt=np.sqrt, fabs=np.fabs, hypot=np.hypot, atan2=np.arctan2)

_ALIASES = {
    "wgs84": "wgs84",
    "epsg4326": "wgs84",
    "gps": "wgs84",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}


def normalize_crs(crs: str) -> str:
    """Return the canonical name ("wgs84", "gcj02" or "bd09") for a crs spelling, or raise ValueError.

    Spellings are forgiving about case and punctuation ("WGS-84", "GCJ_02", "EPSG:4326") because
    they come from API clients and command lines.
    """
    key = "".join(ch for ch in str(crs).lower() if ch.isalnum())
    try:
        return _ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS)}") from None


def out_of_china(lon: float, lat: float) -> bool:
    return not (_MIN_LON <= lon <= _MAX_LON and _MIN_LAT <= lat <= _MAX_LAT)


def _in_china_array(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    return (lons >= _MIN_LON) & (lons <= _MAX_LON) & (lats >= _MIN_LAT) & (lats <= _MAX_LAT)


def _gcj_offset(lon, lat, m):
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position; works on floats or arrays."""
    x = lon - 105.0
    y = lat - 35.0
    xy = x * y
    sqrt_abs_x = m.sqrt(m.fabs(x))
    x_pi = x * math.pi
    y_pi = y * math.pi
    common = 20.0 * m.sin(6.0 * x_pi) + 20.0 * m.sin(2.0 * x_pi)
    dlat = common + 20.0 * m.sin(y_pi) + 40.0 * m.sin(y_pi / 3.0)
    dlat += 160.0 * m.sin(y_pi / 12.0) + 320.0 * m.sin(y_pi / 30.0)
    dlat = dlat * 2.0 / 3.0 + (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * sqrt_abs_x)
    dlon = common + 20.0 * m.sin(x_pi) + 40.0 * m.sin(x_pi / 3.0)
    dlon += 150.0 * m.sin(x_pi / 12.0) + 300.0 * m.sin(x_pi / 30.0)
    dlon = dlon * 2.0 / 3.0 + (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * sqrt_abs_x)

    rad_lat = lat / 180.0 * math.pi
    magic = m.sin(rad_lat)
    magic = 1.0 - _EE * magic * magic
    sqrt_magic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * m.cos(rad_lat) * math.pi)
    return dlon, dlat


def _gcj_to_bd(lon, lat, m):
    z = m.hypot(lon, lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _bd_to_gcj(lon, lat, m):
    x = lon - 0.0065
    y = lat - 0.006
    z = m.hypot(x, y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta), z * m.sin(theta)


# --- scalar ---------------------------------------------------------------------------------------


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _gcj_offset(lon, lat, _SCALAR)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    # Solve wgs + offset(wgs) = gcj. The offset changes by ~1e-5 per degree, so each step
    # shrinks the error by about that factor: two or three steps already reach 1 mm.
    wlon, wlat = lon, lat
    for _ in range(_INVERSE_MAX_STEPS):
        dlon, dlat = _gcj_offset(wlon, wlat, _SCALAR)
        next_lon, next_lat = lon - dlon, lat - dlat
        done = abs(next_lon - wlon) < _INVERSE_TOLERANCE_DEG and abs(next_lat - wlat) < _INVERSE_TOLERANCE_DEG
        wlon, wlat = next_lon, next_lat
        if done:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _gcj_to_bd(lon, lat, _SCALAR)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    return _bd_to_gcj(lon, lat, _SCALAR)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert one point given in ``crs`` to WGS-84 (lon, lat)."""
    crs = normalize_crs(crs)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    return float(lon), float(lat)


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert one WGS-84 point to ``crs`` (lon, lat), e.g. to draw it on an AMap or Baidu base map."""
    crs = normalize_crs(crs)
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return wgs84_to_bd09(lon, lat)
    return float(lon), float(lat)


# --- arrays ---------------------------------------------------------------------------------------


def _as_arrays(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    lons = np.asarray(lons, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    if lons.shape != lats.shape:
        raise ValueError(f"lons and lats differ in shape: {lons.shape} vs {lats.shape}")
    return lons, lats


def wgs84_to_gcj02_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = _as_arrays(lons, lats)
    inside = _in_china_array(lons, lats)
    dlon, dlat = _gcj_offset(lons, lats, _ARRAY)
    return np.where(inside, lons + dlon, lons), np.where(inside, lats + dlat, lats)


def gcj02_to_wgs84_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = _as_arrays(lons, lats)
    inside = _in_china_array(lons, lats)
    wlons, wlats = lons.copy(), lats.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        dlon, dlat = _gcj_offset(wlons, wlats, _ARRAY)
        next_lons, next_lats = lons - dlon, lats - dlat
        step = np.maximum(np.abs(next_lons - wlons), np.abs(next_lats - wlats))
        wlons, wlats = next_lons, next_lats
        if not step.size or float(step.max()) < _INVERSE_TOLERANCE_DEG:
            break
    return np.where(inside, wlons, lons), np.where(inside, wlats, lats)


def gcj02_to_bd09_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = _as_arrays(lons, lats)
    inside = _in_china_array(lons, lats)
    blons, blats = _gcj_to_bd(lons, lats, _ARRAY)
    return np.where(inside, blons, lons), np.where(inside, blats, lats)


def bd09_to_gcj02_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = _as_arrays(lons, lats)
    inside = _in_china_array(lons, lats)
    glons, glats = _bd_to_gcj(lons, lats, _ARRAY)
    return np.where(inside, glons, lons), np.where(inside, glats, lats)


def wgs84_to_bd09_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09_array(*wgs84_to_gcj02_array(lons, lats))


def bd09_to_wgs84_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84_array(*bd09_to_gcj02_array(lons, lats))


def to_wgs84_array(lons, lats, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``to_wgs84``: arrays (or sequences) of lon and lat in ``crs`` → two float64 arrays."""
    crs = normalize_crs(crs)
    if crs == "gcj02":
        return gcj02_to_wgs84_array(lons, lats)
    if crs == "bd09":
        return bd09_to_wgs84_array(lons, lats)
    lons, lats = _as_arrays(lons, lats)
    return lons.copy(), lats.copy()


def from_wgs84_array(lons, lats, crs: str) -> tuple[np.ndarray, np.ndarray]:
    crs = normalize_crs(crs)
    if crs == "gcj02":
        return wgs84_to_gcj02_array(lons, lats)
    if crs == "bd09":
        return wgs84_to_bd09_array(lons, lats)
    lons, lats = _as_arrays(lons, lats)
    return lons.copy(), lats.copy()


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere); for checks, not surveying."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))
