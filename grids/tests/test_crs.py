"""Coordinate conversions between WGS-84, GCJ-02 and BD-09, checked against published reference pairs."""

import numpy as np
import pytest

from grids import crs
from grids.crs import distance_m

# From the eviltransform test suite (github.com/googollee/eviltransform, go/transform_test.go and
# python/test.py): (wgs_lon, wgs_lat, gcj_lon, gcj_lat).
EVILTRANSFORM_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

# From the coordtransform README (github.com/wandergis/coordtransform), all for input (116.404, 39.915).
COORDTRANSFORM_INPUT = (116.404, 39.915)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
# coordtransform inverts GCJ-02 with a single approximate step, so ours (iterated) agrees within centimetres.
COORDTRANSFORM_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)

GUIYANG_POINTS = [
    (106.7135, 26.5783),  # 贵阳 city centre, around 喷水池
    (106.6302, 26.6468),  # 观山湖
    (106.6727, 26.4112),  # 花溪
    (106.9712, 27.0567),  # 开阳
    (106.1523, 26.5519),  # 清镇 western edge
]


def china_sample_grid() -> tuple[np.ndarray, np.ndarray]:
    """Points every 1.5° × 1.5° across the box where GCJ-02 applies."""
    lons, lats = np.meshgrid(np.arange(73.0, 135.0, 1.5), np.arange(4.0, 54.0, 1.5))
    return lons.ravel(), lats.ravel()


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_the_eviltransform_reference_pairs(wlon, wlat, glon, glat):
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-6)
    assert lat == pytest.approx(glat, abs=1e-6)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_recovers_the_reference_gps_point_within_half_a_metre(wlon, wlat, glon, glat):
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    assert distance_m(lon, lat, wlon, wlat) < 0.5


def test_conversions_match_the_coordtransform_readme_examples():
    assert crs.wgs84_to_gcj02(*COORDTRANSFORM_INPUT) == pytest.approx(COORDTRANSFORM_WGS84_TO_GCJ02, abs=1e-9)
    assert crs.bd09_to_gcj02(*COORDTRANSFORM_INPUT) == pytest.approx(COORDTRANSFORM_BD09_TO_GCJ02, abs=1e-9)
    assert crs.gcj02_to_bd09(*COORDTRANSFORM_INPUT) == pytest.approx(COORDTRANSFORM_GCJ02_TO_BD09, abs=1e-9)
    lon, lat = crs.gcj02_to_wgs84(*COORDTRANSFORM_INPUT)
    assert distance_m(lon, lat, *COORDTRANSFORM_GCJ02_TO_WGS84) < 0.5


def test_gcj02_offset_in_guiyang_is_a_few_hundred_metres():
    # A sanity check on scale: the datum shift in Guiyang is known to be roughly 300-600 m.
    for lon, lat in GUIYANG_POINTS:
        assert 200 < distance_m(lon, lat, *crs.wgs84_to_gcj02(lon, lat)) < 800


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_round_trip_through_any_datum_stays_within_half_a_metre_across_china(name):
    lons, lats = china_sample_grid()
    there_lons, there_lats = crs.from_wgs84_array(lons, lats, name)
    back_lons, back_lats = crs.to_wgs84_array(there_lons, there_lats, name)
    worst = max(distance_m(*point) for point in zip(lons, lats, back_lons, back_lats, strict=True))
    assert worst < 0.5


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_round_trip_of_guiyang_points_stays_within_half_a_metre_in_both_directions(name):
    for lon, lat in GUIYANG_POINTS:
        assert distance_m(lon, lat, *crs.to_wgs84(*crs.from_wgs84(lon, lat, name), name)) < 0.5
        # The other way round: a point read off an AMap/Baidu map, to GPS and back.
        assert distance_m(lon, lat, *crs.from_wgs84(*crs.to_wgs84(lon, lat, name), name)) < 0.5


@pytest.mark.parametrize("name", crs.CRS)
def test_array_and_scalar_versions_agree(name):
    lons, lats = china_sample_grid()
    array_lons, array_lats = crs.to_wgs84_array(lons, lats, name)
    for i in range(0, lons.size, 37):
        assert crs.to_wgs84(lons[i], lats[i], name) == pytest.approx((array_lons[i], array_lats[i]), abs=1e-9)


def test_points_outside_china_are_left_unchanged():
    for lon, lat in [(-0.1276, 51.5072), (-74.006, 40.7128), (151.2093, -33.8688)]:
        for name in crs.CRS:
            assert crs.to_wgs84(lon, lat, name) == (lon, lat)
            assert crs.from_wgs84(lon, lat, name) == (lon, lat)
        assert crs.to_wgs84_array([lon], [lat], "gcj02") == (np.array([lon]), np.array([lat]))


def test_wgs84_is_the_identity():
    assert crs.to_wgs84(106.7, 26.58, "wgs84") == (106.7, 26.58)
    assert crs.from_wgs84(106.7, 26.58, "wgs84") == (106.7, 26.58)


def test_crs_names_are_forgiving_about_case_and_punctuation():
    assert crs.normalize_crs("GCJ-02") == "gcj02"
    assert crs.normalize_crs("WGS_84") == "wgs84"
    assert crs.normalize_crs("EPSG:4326") == "wgs84"
    assert crs.normalize_crs("BD09") == "bd09"


@pytest.mark.parametrize("bad", ["mercator", "", "EPSG:3857"])
def test_an_unknown_crs_is_refused_with_the_accepted_names(bad):
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        crs.to_wgs84(106.7, 26.58, bad)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        crs.to_wgs84_array([106.7], [26.58], bad)


def test_arrays_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="shape"):
        crs.to_wgs84_array([106.7, 106.8], [26.58], "gcj02")
