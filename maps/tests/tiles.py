"""Helpers to ask for a tile where a point is and to read what a map would draw from it."""

from __future__ import annotations

import math

import mapbox_vector_tile
from shapely.geometry import Point, shape


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """Tile x, y holding the point, and the point's position inside it (0..1 from the top-left)."""
    n = 2**z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), fx - int(fx), fy - int(fy)


def decode(body: bytes) -> dict:
    # Tile coordinates with y down, as the tile stores them, so a point's offset maps straight in.
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True}) if body else {}


def codes(tile: dict, layer: str) -> set[str]:
    return {feature["properties"]["code"] for feature in tile.get(layer, {}).get("features", [])}


def feature_at(tile: dict, layer: str, fx: float, fy: float) -> dict | None:
    """The feature of `layer` drawn at fraction (fx, fy) of the tile."""
    data = tile.get(layer)
    if not data:
        return None
    where = Point(fx * data["extent"], fy * data["extent"])
    for feature in data["features"]:
        if shape(feature["geometry"]).buffer(0).contains(where):
            return feature
    return None
