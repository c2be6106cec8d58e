"""Vector tiles and the boundaries bundle as served: caching, 204s, zoom limits."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings

from maps.tests.tiles import codes, decode, tile_of

pytestmark = pytest.mark.django_db

LON, LAT = 106.61, 26.56


def tile_url(layer: str, z: int, lon: float = LON, lat: float = LAT) -> str:
    x, y, _, _ = tile_of(lon, lat, z)
    return f"/maps/tiles/{layer}/{z}/{x}/{y}.mvt"


def test_a_tile_is_served_as_a_cacheable_vector_tile(client, geography):
    response = client.get(tile_url("grids", 14))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["ETag"]
    assert geography.grid_at(LON, LAT).code in codes(decode(response.content), "grids")


@override_settings(MAP_TILE_MAX_AGE=60)
def test_the_cache_age_follows_the_setting(client, geography):
    assert client.get(tile_url("districts", 8))["Cache-Control"] == "public, max-age=60"


def test_a_tile_the_browser_already_has_is_not_sent_again(client, geography):
    first = client.get(tile_url("boundaries", 13))
    again = client.get(tile_url("boundaries", 13), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_the_boundaries_bundle_holds_every_level_visible_at_the_zoom(client, geography):
    tile = decode(client.get(tile_url("boundaries", 12)).content)
    assert set(tile) == {"districts", "streets", "communities"}


def test_a_tile_with_nothing_to_draw_is_204_no_content(client, geography):
    response = client.get(tile_url("boundaries", 12, lon=0.0, lat=0.0))
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"].startswith("public")


def test_a_layer_asked_for_below_its_first_zoom_is_204(client, geography):
    assert client.get(tile_url("grids", 12)).status_code == 204
    assert client.get(tile_url("grids", 13)).status_code == 200


def test_an_unknown_layer_is_404_naming_the_layers_there_are(client, geography):
    response = client.get("/maps/tiles/roads/10/843/442.mvt")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "roads" in detail
    for layer in ("districts", "streets", "communities", "grids", "cases", "boundaries"):
        assert layer in detail


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/maps/tiles/grids/abc/1/1.mvt", {"z"}),
        ("/maps/tiles/grids/13/-1/1.mvt", {"x"}),
        ("/maps/tiles/grids/13/1/1.5.mvt", {"y"}),
        ("/maps/tiles/grids/23/0/0.mvt", {"z"}),
        ("/maps/tiles/grids/2/4/0.mvt", {"x"}),
        ("/maps/tiles/grids/2/0/4.mvt", {"y"}),
        ("/maps/tiles/grids/99999999999/0/0.mvt", {"z"}),
    ],
)
def test_bad_tile_coordinates_are_400_with_the_field_named(client, path, fields):
    response = client.get(path)
    assert response.status_code == 400
    assert set(response.json()) == fields


def test_a_malformed_tile_address_is_404_with_the_pattern(client):
    response = client.get("/maps/tiles/grids/13/1.png")
    assert response.status_code == 404
    assert "{z}/{x}/{y}.mvt" in response.json()["detail"]


def test_tiles_are_read_only(client, geography):
    assert client.post(tile_url("grids", 13)).status_code == 405


def test_the_cases_layer_needs_a_login(client, geography):
    response = client.get(tile_url("cases", 13))
    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_map_page_renders_in_chinese_with_vendored_scripts_only(admin_client, geography):
    response = admin_client.get("/maps/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "一张图" in html
    assert "/static/vendor/maplibre-gl/maplibre-gl.js" in html
    assert "/static/vendor/maplibre-gl/maplibre-gl.css" in html
    assert "/static/maps/js/main.js" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page loads something from another host"
    assert "https://" not in html and "http://" not in html


def test_the_map_page_tells_the_script_where_the_tiles_are(admin_client, geography):
    html = admin_client.get("/maps/").content.decode()
    assert "/maps/tiles/boundaries/{z}/{x}/{y}.mvt?v=" in html


def test_the_map_page_switches_to_english(admin_client, geography):
    response = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/maps/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/maps/"
    html = admin_client.get(response["Location"]).content.decode()
    assert '<html lang="en">' in html
    assert "City map" in html
    assert "Street/township" in html
    # Tiles are the same for every language: the English page asks for the same URLs.
    assert '"/maps/tiles/boundaries/{z}/{x}/{y}.mvt?v=' in html


def test_the_language_menu_goes_back_to_chinese(admin_client, geography):
    html = admin_client.get("/en/maps/").content.decode()
    # The menu names this page without its language prefix so set_language can translate it.
    assert 'name="next" value="/maps/"' in html
    response = admin_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/maps/"})
    assert response["Location"] == "/maps/"
    assert "一张图" in admin_client.get("/maps/").content.decode()


def test_tile_errors_speak_the_language_of_the_address(client):
    assert "必须" in client.get("/maps/tiles/grids/x/0/0.mvt").json()["z"][0]
    assert client.get("/en/maps/tiles/grids/x/0/0.mvt").json()["z"] == ["Must be a non-negative integer."]


@override_settings(MAP_BASE_TILE_URL="https://t0.example.cn/{z}/{x}/{y}.png")
def test_a_configured_base_layer_is_handed_to_the_map(admin_client, geography):
    assert "https://t0.example.cn/{z}/{x}/{y}.png" in admin_client.get("/maps/").content.decode()


def test_every_static_file_the_page_names_exists(admin_client, geography):
    html = admin_client.get("/maps/").content.decode()
    names = re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", html)
    assert len(names) >= 5
    for name in names:
        assert finders.find(name), f"/static/{name} is missing"
    # The map's own modules import each other; those must resolve too.
    modules = sorted(Path(finders.find("maps/js/main.js")).parent.glob("*.js"))
    assert len(modules) >= 7
    for module in modules:
        for imported in re.findall(r'from "\./([^"]+)"', module.read_text(encoding="utf-8")):
            assert finders.find(f"maps/js/{imported}"), f"{module.name} imports a missing {imported}"


def test_vendored_libraries_keep_their_licences_beside_them():
    for name in ("vendor/maplibre-gl/LICENSE.txt", "vendor/echarts/LICENSE", "vendor/echarts/NOTICE"):
        assert finders.find(name), name


def test_other_pages_get_the_boundary_map_configuration(client, geography):
    response = client.get("/maps/config.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    config = response.json()
    assert config["tiles"].startswith("/maps/tiles/boundaries/{z}/{x}/{y}.mvt?v=")
    assert [layer["name"] for layer in config["layers"]] == ["districts", "streets", "communities", "grids"]
    assert client.get("/en/maps/config.json").json()["layers"][1]["label"] == "Street/township"
