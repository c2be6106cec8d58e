"""Map pages and vector tiles.

Tiles are plain Django views, not DRF: the body is binary protobuf straight from PostGIS and there is
nothing to serialise. Errors are JSON in the shape DRF uses (`detail`, or field -> messages).
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from maps import selectors

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


def _coordinate(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 8 else None


def _tile_errors(z: int | None, x: int | None, y: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in (("z", z), ("x", x), ("y", y)):
        if value is None:
            errors[name] = [_("必须是非负整数。")]
    if "z" not in errors and z > selectors.MAX_ZOOM:
        errors["z"] = [_("缩放级别必须在 0 到 %(max)d 之间。") % {"max": selectors.MAX_ZOOM}]
    if not errors:
        for name, value in (("x", x), ("y", y)):
            if value >= 2**z:
                errors[name] = [_("在缩放级别 %(z)d 下必须小于 %(n)d。") % {"z": z, "n": 2**z}]
    return errors


def _tile_response(request: HttpRequest, body: bytes, *, public: bool) -> HttpResponse:
    if not body:
        response = HttpResponse(status=204)
    else:
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type=MVT_CONTENT_TYPE)
        response["ETag"] = etag
    if public:
        response["Cache-Control"] = f"public, max-age={settings.MAP_TILE_MAX_AGE}"
    else:
        # Someone else's view of the cases must never come out of a shared cache.
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Cookie, Authorization"
    return response


@require_safe
def tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    if layer not in selectors.TILE_NAMES:
        message = _("没有图层“%(layer)s”。可用图层：%(layers)s。")
        return JsonResponse(
            {"detail": message % {"layer": layer, "layers": ", ".join(selectors.TILE_NAMES)}}, status=404
        )
    zi, xi, yi = _coordinate(z), _coordinate(x), _coordinate(y)
    errors = _tile_errors(zi, xi, yi)
    if errors:
        return JsonResponse(errors, status=400)
    if layer == selectors.CASES.name:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": _("工单图层需要登录。")}, status=401)
        return _tile_response(request, selectors.case_tile(request.user, zi, xi, yi), public=False)
    return _tile_response(request, selectors.boundary_tile(layer, zi, xi, yi), public=True)


def tile_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    return JsonResponse({"detail": _("瓦片地址的格式是 /maps/tiles/{图层}/{z}/{x}/{y}.mvt。")}, status=404)


def tile_template(layer: str) -> str:
    """The tile URL of `layer` with {z}/{x}/{y} placeholders, as MapLibre wants it."""
    # Tiles carry data, not language: one URL (and one cached copy) whatever language the page is in.
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("maps:tile", kwargs={"layer": layer, "z": "{z}", "x": "{x}", "y": "{y}"})
    return unquote(path)


@require_safe
def supervisor_map(request: HttpRequest) -> HttpResponse:
    config = {
        "center": [106.63, 26.65],
        "zoom": 9,
        "maxZoom": 19,
        # The version changes with the boundaries, so cached tiles of old ones are never shown.
        "tiles": f"{tile_template(selectors.BUNDLE)}?v={selectors.boundary_version()}",
        "tileMaxZoom": 16,
        "layers": [
            {"name": layer.name, "label": str(layer.label), "minzoom": layer.minzoom}
            for layer in selectors.BOUNDARY_LAYERS.values()
        ],
        "baseTiles": settings.MAP_BASE_TILE_URL or None,
        "baseAttribution": settings.MAP_BASE_ATTRIBUTION,
        "text": {"code": _("代码"), "name": _("名称"), "level": _("级别")},
    }
    return render(request, "maps/supervisor.html", {"map_config": config})
