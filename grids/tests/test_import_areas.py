"""`manage.py import_areas`: formats, datums, idempotence, repairs and the errors a user meets."""

import io
import json

import geopandas
import numpy as np
import pytest
import shapely
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from grids import crs, locator
from grids.models import Area, Grid

pytestmark = pytest.mark.django_db

CITY = box(106.0, 26.0, 107.5, 27.5)
NANMING = box(106.6, 26.5, 106.8, 26.6)
YUNYAN = box(106.6, 26.6, 106.8, 26.7)


def write(tmp_path, name, rows, *, driver="GeoJSON", crs_="EPSG:4326"):
    """Write features (dicts with a "geometry" key) the way a user's GIS would, return the path."""
    frame = geopandas.GeoDataFrame(
        [{k: v for k, v in row.items() if k != "geometry"} for row in rows],
        geometry=[row["geometry"] for row in rows],
        crs=crs_,
    )
    path = tmp_path / name
    frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def run(path, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_areas", str(path), *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def import_level(path, level, *extra):
    return run(path, "--level", level, "--code-field", "code", "--name-field", "name", *extra)


@pytest.fixture
def city(tmp_path):
    path = write(tmp_path, "city.geojson", [{"code": "520100", "name": "贵阳市", "geometry": CITY}])
    import_level(path, "city")
    return Area.objects.get(code="520100")


@pytest.fixture
def districts(city, tmp_path):
    path = write(
        tmp_path,
        "districts.geojson",
        [
            {"code": "520102", "name": "南明区", "geometry": NANMING},
            {"code": "520103", "name": "云岩区", "geometry": YUNYAN},
        ],
    )
    import_level(path, "district")
    return {a.code: a for a in Area.objects.filter(level="district")}


def wkb(area) -> bytes:
    return shapely.to_wkb(shapely.from_wkb(bytes(area.geom.wkb)))


def test_districts_are_imported_with_the_city_as_parent_from_the_code_prefix(districts):
    nanming = Area.objects.get(code="520102")
    assert nanming.name == "南明区"
    assert nanming.level == "district"
    assert nanming.parent.code == "520100"
    assert shapely.from_wkb(bytes(nanming.geom.wkb)).equals(MultiPolygon([NANMING]))


@pytest.mark.parametrize(
    ("driver", "filename"),
    [("GeoJSON", "streets.geojson"), ("GPKG", "streets.gpkg"), ("ESRI Shapefile", "streets.shp")],
)
def test_streets_import_from_geojson_geopackage_and_shapefile(districts, tmp_path, driver, filename):
    left, right = box(106.6, 26.5, 106.7, 26.6), box(106.7, 26.5, 106.8, 26.6)
    path = write(
        tmp_path,
        filename,
        [
            {"code": "520102001", "name": "中华南路街道", "geometry": left},
            {"code": "520102100", "name": "小碧镇", "geometry": right},
        ],
        driver=driver,
    )
    out, _ = import_level(path, "street")
    assert "新建 2" in out
    streets = {a.code: a for a in Area.objects.filter(level="street")}
    assert set(streets) == {"520102001", "520102100"}
    assert streets["520102001"].name == "中华南路街道"
    assert streets["520102100"].parent.code == "520102"
    assert shapely.from_wkb(bytes(streets["520102001"].geom.wkb)).equals(left)


def test_importing_the_same_file_twice_changes_nothing(districts, tmp_path):
    path = write(tmp_path, "streets.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}])
    import_level(path, "street")
    before = Area.objects.get(code="520102001").updated_at
    out, _ = import_level(path, "street")
    assert "新建 0，更新 0，未变 1" in out
    assert Area.objects.get(code="520102001").updated_at == before


def test_a_renamed_or_reshaped_area_is_updated_in_place(districts, tmp_path):
    path = write(tmp_path, "streets.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}])
    import_level(path, "street")
    first_id = Area.objects.get(code="520102001").id
    smaller = box(106.6, 26.5, 106.7, 26.6)
    path = write(tmp_path, "streets2.geojson", [{"code": "520102001", "name": "B街道", "geometry": smaller}])
    out, _ = import_level(path, "street")
    assert "更新 1" in out
    street = Area.objects.get(code="520102001")
    assert (street.id, street.name) == (first_id, "B街道")
    assert shapely.from_wkb(bytes(street.geom.wkb)).equals(smaller)


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_amap_and_baidu_coordinates_are_converted_to_wgs84_vertex_by_vertex(districts, tmp_path, datum):
    shape = Polygon([(106.70, 26.55), (106.72, 26.55), (106.72, 26.57), (106.70, 26.57)])
    path = write(tmp_path, "streets.geojson", [{"code": "520102001", "name": "A街道", "geometry": shape}])
    import_level(path, "street", "--crs", datum)
    stored = shapely.get_coordinates(shapely.from_wkb(bytes(Area.objects.get(code="520102001").geom.wkb)))
    given = shapely.get_coordinates(shape)
    # Ring orientation may be normalised; compare as sets of vertices.
    expected = {tuple(np.round(crs.to_wgs84(lon, lat, datum), 7)) for lon, lat in given}
    assert {tuple(p) for p in stored} == expected
    # The datum shift in Guiyang is a few hundred metres; make sure one really happened.
    assert crs.distance_m(*given[0], *crs.to_wgs84(*given[0], datum)) > 200


def test_a_projected_file_is_reprojected_using_its_own_crs(districts, tmp_path):
    utm = geopandas.GeoSeries([NANMING], crs="EPSG:4326").to_crs(32648).iloc[0]
    path = write(
        tmp_path,
        "streets.gpkg",
        [{"code": "520102001", "name": "A街道", "geometry": utm}],
        driver="GPKG",
        crs_="EPSG:32648",
    )
    import_level(path, "street")
    stored = shapely.from_wkb(bytes(Area.objects.get(code="520102001").geom.wkb))
    assert shapely.hausdorff_distance(stored, NANMING) < 1e-6


def test_an_epsg_code_on_the_command_line_overrides_a_file_without_one(districts, tmp_path):
    utm = geopandas.GeoSeries([NANMING], crs="EPSG:4326").to_crs(32648).iloc[0]
    path = tmp_path / "streets.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "520102001", "name": "A街道"},
                        "geometry": shapely.geometry.mapping(utm),
                    }
                ],
            }
        )
    )
    import_level(path, "street", "--crs", "EPSG:32648")
    stored = shapely.from_wkb(bytes(Area.objects.get(code="520102001").geom.wkb))
    assert shapely.hausdorff_distance(stored, NANMING) < 1e-6


def test_grids_import_below_their_communities(districts, tmp_path):
    import_level(write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}]), "street")
    import_level(
        write(tmp_path, "c.geojson", [{"code": "520102001001", "name": "A社区", "geometry": NANMING}]), "community"
    )
    left, right = box(106.6, 26.5, 106.7, 26.6), box(106.7, 26.5, 106.8, 26.6)
    path = write(
        tmp_path,
        "g.geojson",
        [
            {"code": "520102001001001", "name": "A社区第1网格", "geometry": left},
            {"code": "520102001001002", "name": "A社区第2网格", "geometry": right},
        ],
    )
    out, _ = import_level(path, "grid")
    assert "新建 2" in out
    grid = Grid.objects.get(code="520102001001002")
    assert grid.community.code == "520102001001"
    assert grid.name == "A社区第2网格"


def test_the_locator_is_told_when_grids_change_and_not_when_nothing_did(
    districts, tmp_path, django_capture_on_commit_callbacks
):
    import_level(write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}]), "street")
    import_level(
        write(tmp_path, "c.geojson", [{"code": "520102001001", "name": "A社区", "geometry": NANMING}]), "community"
    )
    path = write(tmp_path, "g.geojson", [{"code": "520102001001001", "name": "第1网格", "geometry": NANMING}])
    cache.set(locator.VERSION_KEY, "before", timeout=None)
    with django_capture_on_commit_callbacks(execute=True):
        import_level(path, "grid")
    assert cache.get(locator.VERSION_KEY) != "before"

    cache.set(locator.VERSION_KEY, "unchanged", timeout=None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_level(path, "grid")
    assert callbacks == []
    assert cache.get(locator.VERSION_KEY) == "unchanged"


def test_a_self_intersecting_polygon_is_repaired_and_reported(districts, tmp_path):
    bowtie = Polygon([(106.6, 26.5), (106.7, 26.6), (106.7, 26.5), (106.6, 26.6), (106.6, 26.5)])
    assert not bowtie.is_valid
    path = write(
        tmp_path,
        "streets.geojson",
        [
            {"code": "520102001", "name": "A街道", "geometry": box(106.7, 26.5, 106.8, 26.6)},
            {"code": "520102002", "name": "B街道", "geometry": bowtie},
        ],
    )
    out, _ = import_level(path, "street")
    assert "已修复：第 2 个要素（编码 520102002）" in out
    assert "Self-intersection" in out
    stored = Area.objects.get(code="520102002")
    assert stored.geom.valid
    # Both lobes of the bow tie survive: two triangles, each a quarter of the 0.1° square.
    assert stored.geom.num_geom == 2
    assert stored.geom.area == pytest.approx(0.005, rel=1e-9)


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        (LineString([(106.6, 26.5), (106.7, 26.6)]), "不是面"),
        (Polygon([(106.5, 26.5), (106.75, 26.75), (107.0, 27.0), (106.5, 26.5)]), "面积为零"),
    ],
)
def test_a_feature_that_cannot_be_repaired_is_listed_and_nothing_is_written(districts, tmp_path, geometry, reason):
    path = write(
        tmp_path,
        "streets.geojson",
        [
            {"code": "520102001", "name": "A街道", "geometry": NANMING},
            {"code": "520102002", "name": "B街道", "geometry": geometry},
        ],
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 个要素的几何无法导入.*--skip-invalid"):
        call_command(
            "import_areas",
            str(path),
            *("--level", "street", "--code-field", "code", "--name-field", "name"),
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "第 2 个要素（编码 520102002）" in err.getvalue()
    assert reason in err.getvalue()
    assert not Area.objects.filter(level="street").exists()


def test_skip_invalid_imports_the_good_features_and_lists_the_bad(districts, tmp_path):
    path = write(
        tmp_path,
        "streets.geojson",
        [
            {"code": "520102001", "name": "A街道", "geometry": NANMING},
            {"code": "520102002", "name": "B街道", "geometry": LineString([(106.6, 26.5), (106.7, 26.6)])},
        ],
    )
    out, err = import_level(path, "street", "--skip-invalid")
    assert "跳过 1" in out
    assert "第 2 个要素" in err
    assert list(Area.objects.filter(level="street").values_list("code", flat=True)) == ["520102001"]


def test_a_file_that_is_not_geodata_is_refused_in_one_line(districts, tmp_path):
    path = tmp_path / "notes.geojson"
    path.write_text("这不是地理数据\n")
    with pytest.raises(CommandError, match="无法作为地理数据读取 notes.geojson") as caught:
        import_level(path, "street")
    assert "\n" not in str(caught.value)
    assert not Area.objects.filter(level="street").exists()


def test_a_table_without_geometry_is_refused(districts, tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text("code,name\n520102001,A街道\n", encoding="utf-8")
    with pytest.raises(CommandError, match="没有几何列"):
        import_level(path, "street")


def test_a_missing_field_is_named_with_the_fields_the_file_has(districts, tmp_path):
    path = write(tmp_path, "s.geojson", [{"adcode": "520102001", "name": "A街道", "geometry": NANMING}])
    with pytest.raises(CommandError, match="没有名为 code 的字段（--code-field）；文件中的字段：adcode, name"):
        import_level(path, "street")


def test_codes_of_another_level_are_refused_as_mixed_levels(districts, tmp_path):
    path = write(
        tmp_path,
        "streets.geojson",
        [
            {"code": "520102001", "name": "A街道", "geometry": NANMING},
            {"code": "520102", "name": "南明区", "geometry": NANMING},
            {"code": "520102001001", "name": "A社区", "geometry": NANMING},
        ],
    )
    with pytest.raises(CommandError, match="有 2 个要素的编码不属于街道/乡镇层级（混合层级？），如第 2 个"):
        import_level(path, "street")
    assert not Area.objects.filter(level="street").exists()


def test_a_street_under_an_unknown_district_is_refused(districts, tmp_path):
    path = write(tmp_path, "s.geojson", [{"code": "520199001", "name": "A街道", "geometry": NANMING}])
    with pytest.raises(CommandError, match="上级区域（区/县）不存在，如 520199"):
        import_level(path, "street")


def test_a_parent_field_that_contradicts_the_code_is_refused(districts, tmp_path):
    path = write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "up": "520103", "geometry": NANMING}])
    with pytest.raises(CommandError, match="上级编码 520103 与编码 520102001 的前缀不符"):
        import_level(path, "street", "--parent-field", "up")


def test_duplicate_codes_are_refused(districts, tmp_path):
    path = write(
        tmp_path,
        "s.geojson",
        [
            {"code": "520102001", "name": "A街道", "geometry": NANMING},
            {"code": "520102001", "name": "B街道", "geometry": NANMING},
        ],
    )
    with pytest.raises(CommandError, match="编码 520102001 重复：第 1 个和第 2 个要素"):
        import_level(path, "street")


def test_an_unknown_crs_is_refused(districts, tmp_path):
    path = write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}])
    with pytest.raises(CommandError, match="未知坐标系 mars"):
        import_level(path, "street", "--crs", "mars")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_coordinates_that_are_not_degrees_are_refused_with_a_hint(districts, tmp_path):
    utm = geopandas.GeoSeries([NANMING], crs="EPSG:4326").to_crs(32648).iloc[0]
    path = write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "geometry": utm}], crs_=None)
    with pytest.raises(CommandError, match="坐标超出经纬度范围.*--crs"):
        import_level(path, "street")


def test_a_dry_run_checks_but_writes_nothing(districts, tmp_path):
    path = write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}])
    out, _ = import_level(path, "street", "--dry-run")
    assert "检查通过" in out
    assert not Area.objects.filter(level="street").exists()


def test_progress_is_shown_while_writing(districts, tmp_path):
    path = write(tmp_path, "s.geojson", [{"code": "520102001", "name": "A街道", "geometry": NANMING}])
    out, _ = import_level(path, "street")
    assert "已读取 1 个要素" in out
    assert "1/1（100%）" in out
