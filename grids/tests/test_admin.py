"""The admin pages for areas and grids: usable offline, and edits go through the grids services."""

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from grids.models import Area, Grid

pytestmark = pytest.mark.django_db

CITY = MultiPolygon(Polygon.from_bbox((106.0, 26.0, 107.5, 27.5)), srid=4326)
DISTRICT = MultiPolygon(Polygon.from_bbox((106.6, 26.5, 106.8, 26.6)), srid=4326)
SQUARE = Polygon.from_bbox((106.6, 26.5, 106.7, 26.6)).json
TRIANGLE = Polygon(((106.6, 26.5), (106.7, 26.5), (106.7, 26.6), (106.6, 26.5))).json


def errors(response) -> str:
    form = response.context["adminform"].form if response.context else None
    return str(form.errors) if form is not None else response.content.decode()[:500]


@pytest.fixture
def areas():
    city = Area.objects.create(code="520100", name="贵阳市", level="city", geom=CITY)
    district = Area.objects.create(code="520102", name="南明区", level="district", parent=city, geom=DISTRICT)
    street = Area.objects.create(code="520102001", name="A街道", level="street", parent=district, geom=DISTRICT)
    community = Area.objects.create(code="520102001001", name="A社区", level="community", parent=street, geom=DISTRICT)
    grid = Grid.objects.create(code="520102001001001", name="A社区第1网格", community=community, geom=DISTRICT)
    return {"city": city, "district": district, "street": street, "community": community, "grid": grid}


def test_the_area_pages_work_without_a_cdn(admin_client, areas):
    listing = admin_client.get("/admin/grids/area/", {"q": "南明"})
    assert listing.status_code == 200
    assert "520102" in listing.content.decode()
    page = admin_client.get(f"/admin/grids/area/{areas['district'].pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "grids-boundary" in html
    assert "vendor/maplibre-gl/maplibre-gl.js" in html
    assert "cdn." not in html and "openstreetmap" not in html


def test_the_grid_pages_filter_by_district_and_show_the_map(admin_client, areas):
    listing = admin_client.get("/admin/grids/grid/", {"district": "520102"})
    assert listing.status_code == 200
    assert "520102001001001" in listing.content.decode()
    page = admin_client.get(f"/admin/grids/grid/{areas['grid'].pk}/change/")
    assert page.status_code == 200
    assert "grids-boundary" in page.content.decode()


def test_renaming_a_grid_in_the_admin_keeps_its_community_and_cleans_its_boundary(admin_client, areas):
    grid = areas["grid"]
    response = admin_client.post(
        f"/admin/grids/grid/{grid.pk}/change/",
        {
            "name": "新名字网格",
            "geom": SQUARE,
            "workers-TOTAL_FORMS": "0",
            "workers-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, errors(response)
    grid.refresh_from_db()
    assert grid.name == "新名字网格"
    assert grid.community.code == "520102001001"
    assert grid.geom.geom_type == "MultiPolygon"


def test_an_area_with_a_code_of_the_wrong_level_gets_a_field_error(admin_client, areas):
    response = admin_client.post(
        "/admin/grids/area/add/",
        {
            "code": "5201020010",
            "name": "坏编码街道",
            "level": "street",
            "geom": TRIANGLE,
        },
    )
    assert response.status_code == 200
    assert "不是街道/乡镇层级的编码" in response.content.decode()
    assert not Area.objects.filter(code="5201020010").exists()


def test_a_new_street_in_the_admin_gets_its_district_as_parent(admin_client, areas):
    response = admin_client.post(
        "/admin/grids/area/add/",
        {
            "code": "520102002",
            "name": "B街道",
            "level": "street",
            "geom": TRIANGLE,
        },
    )
    assert response.status_code == 302, errors(response)
    assert Area.objects.get(code="520102002").parent.code == "520102"
