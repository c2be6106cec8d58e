"""A small, exactly known piece of Guiyang for the map tests.

Two districts side by side north-south, each cut into 2 streets (west/east), each street into 2
communities (south/north), each community into 2 x 2 grids: 4 streets, 8 communities, 32 grids, all
plain rectangles so a test knows which area covers which point without asking the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from grids.models import Area, Grid
from tests.personas import box

WEST, EAST = 106.60, 106.70
DISTRICTS = (("520102", "南明区", 26.55, 26.65), ("520103", "云岩区", 26.65, 26.75))


@dataclass
class Geography:
    districts: dict[str, Area]
    streets: dict[str, Area]
    communities: dict[str, Area]
    grids: dict[str, Grid]

    def grid_at(self, lon: float, lat: float) -> Grid:
        for grid in self.grids.values():
            west, south, east, north = grid.geom.extent
            if west <= lon < east and south <= lat < north:
                return grid
        raise LookupError(f"no grid at {lon}, {lat}")


@pytest.fixture
def geography(db) -> Geography:
    city = Area.objects.create(code="520100", name="贵阳市", level=Area.Level.CITY, geom=box(WEST, 26.55, EAST, 26.75))
    found = Geography({}, {}, {}, {})
    middle = (WEST + EAST) / 2
    for district_code, district_name, south, north in DISTRICTS:
        district = Area.objects.create(
            code=district_code,
            name=district_name,
            level=Area.Level.DISTRICT,
            parent=city,
            geom=box(WEST, south, EAST, north),
        )
        found.districts[district_code] = district
        for s, (west, east) in enumerate(((WEST, middle), (middle, EAST)), start=1):
            street_code = f"{district_code}{s:03d}"
            street = Area.objects.create(
                code=street_code,
                name=f"{district_name}第{s}街道",
                level=Area.Level.STREET,
                parent=district,
                geom=box(west, south, east, north),
            )
            found.streets[street_code] = street
            half = (south + north) / 2
            for c, (c_south, c_north) in enumerate(((south, half), (half, north)), start=1):
                community_code = f"{street_code}{c:03d}"
                community = Area.objects.create(
                    code=community_code,
                    name=f"{street.name}第{c}社区",
                    level=Area.Level.COMMUNITY,
                    parent=street,
                    geom=box(west, c_south, east, c_north),
                )
                found.communities[community_code] = community
                dx, dy = (east - west) / 2, (c_north - c_south) / 2
                number = 0
                for row in range(2):
                    for col in range(2):
                        number += 1
                        grid_code = f"{community_code}{number:03d}"
                        g_west, g_south = west + col * dx, c_south + row * dy
                        found.grids[grid_code] = Grid.objects.create(
                            code=grid_code,
                            name=f"{community.name}第{number}网格",
                            community=community,
                            geom=box(g_west, g_south, g_west + dx, g_south + dy),
                        )
    return found
