"""The admin pages of units and partners, map widget included."""

import json
import re

import pytest
from django.contrib.auth import get_user_model

from partners.models import Capability, Department, Partner, Unit
from partners.tests.factories import partner, unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, areas):
    client.force_login(get_user_model().objects.create_superuser("cityadmin", password="pw-for-tests-only"))
    return client


def test_the_admin_lists_search_and_filter_units(admin_client, areas):
    unit(areas["520103"], Department.CHENGGUAN)
    unit(areas["520102"], Department.SHUIWU)
    page = admin_client.get("/admin/partners/unit/", {"q": "云岩"})
    assert page.status_code == 200
    assert "云岩区城管" in page.text and "南明区水务" not in page.text
    page = admin_client.get("/admin/partners/unit/", {"department__exact": "shuiwu", "district": "520102"})
    assert "南明区水务" in page.text and "云岩区城管" not in page.text


def test_the_admin_refuses_a_unit_whose_territory_is_of_another_level(admin_client, areas):
    response = admin_client.post(
        "/admin/partners/unit/add/",
        {
            "code": "520103001-chengguan", "name": "错误的单位", "level": "district", "department": "chengguan",
            "area": areas["520103001"].pk, "is_active": "on",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "管辖区域" in response.text and not Unit.objects.filter(code="520103001-chengguan").exists()


def test_the_partner_page_edits_on_a_map_served_from_our_own_static_files(admin_client, areas):
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    page = admin_client.get(f"/admin/partners/partner/{p.pk}/change/")
    assert page.status_code == 200
    assert "vendor/maplibre-gl/maplibre-gl.js" in page.text and "partners/geometry_widget.js" in page.text
    # Nothing is loaded from another host (a CSRF token may well contain the letters "cdn").
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
    assert "openstreetmap" not in page.text.lower()
    assert "云岩区" in page.text  # the district outlines drawn for orientation


def test_the_admin_saves_a_partner_drawn_on_the_map(admin_client, areas):
    district = areas["520103"]
    x0, y0, x1, y1 = district.geom.extent
    ring = [[x0 + 0.01, y0 + 0.01], [x1 - 0.01, y0 + 0.01], [x1 - 0.01, y1 - 0.01], [x0 + 0.01, y0 + 0.01]]
    response = admin_client.post(
        "/admin/partners/partner/add/",
        {
            "code": "P9", "name": "云岩区新协会", "kind": "social_org", "capabilities": ["legal_aid", "elderly_care"],
            "district": district.pk, "capacity": "5", "is_active": "on",
            "location": json.dumps({"type": "Point", "coordinates": [x0 + 0.05, y0 + 0.05]}),
            "service_area": json.dumps({"type": "MultiPolygon", "coordinates": [[ring]]}),
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.text[:2000]
    saved = Partner.objects.get(code="P9")
    assert saved.capabilities == ["legal_aid", "elderly_care"]
    assert saved.service_area.covers(saved.location)


def test_the_admin_lists_partners_by_capability_and_memberships(admin_client, areas):
    partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    partner(areas["520103"], code="P2", capabilities=[Capability.CHILD_CARE])
    page = admin_client.get("/admin/partners/partner/", {"capability": "child_care"})
    assert page.status_code == 200 and "P2" in page.text and ">P1<" not in page.text
    assert admin_client.get("/admin/partners/membership/").status_code == 200
