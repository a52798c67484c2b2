"""Coordinate conversions: the stored WGS-84 point must land on the building the user meant."""

import pytest

from crm.maps.coords import (
    CoordSystem,
    bd09_to_gcj02,
    distance_m,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)

QIQIHAR = (123.9182, 47.3543)
HARBIN = (126.5350, 45.8038)
CHANGCHUN = (125.3235, 43.8171)


@pytest.mark.parametrize("point", [QIQIHAR, HARBIN, CHANGCHUN])
def test_gcj02_shift_in_the_north_east_is_about_half_a_kilometre(point):
    shifted = wgs84_to_gcj02(*point)
    assert 300 < distance_m(*point, *shifted) < 800


@pytest.mark.parametrize("point", [QIQIHAR, HARBIN, CHANGCHUN])
def test_bd09_shift_is_over_a_kilometre(point):
    shifted = from_wgs84(*point, CoordSystem.BD09)
    assert 1000 < distance_m(*point, *shifted) < 1700


@pytest.mark.parametrize("point", [QIQIHAR, HARBIN, CHANGCHUN, (116.3975, 39.9087), (113.2644, 23.1291)])
@pytest.mark.parametrize("system", list(CoordSystem))
def test_round_trip_lands_within_a_centimetre(point, system):
    converted = from_wgs84(*point, system)
    back = to_wgs84(*converted, system)
    assert distance_m(*point, *back) < 0.01


def test_gcj02_inverse_is_exact_to_the_forward_formula():
    gcj = (123.9234, 47.3561)
    wgs = gcj02_to_wgs84(*gcj)
    assert distance_m(*wgs84_to_gcj02(*wgs), *gcj) < 0.001


def test_bd09_and_gcj02_are_inverse():
    point = (126.6420, 45.7570)
    assert distance_m(*bd09_to_gcj02(*gcj02_to_bd09(*point)), *point) < 0.5


def test_points_outside_china_are_not_shifted():
    tokyo = (139.6917, 35.6895)
    assert wgs84_to_gcj02(*tokyo) == tokyo
    assert gcj02_to_wgs84(*tokyo) == tokyo


# Published reference pairs (lng, lat), each from an independent source; all must agree within 5 m.
WGS_GCJ_PAIRS = [  # eviltransform's test vectors (Shanghai, Shenzhen, Beijing)
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),  # coordtransform's README example
]
GCJ_BD_PAIRS = [  # coordtransform's README examples
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    ((116.39762729119315, 39.90865673957631), (116.404, 39.915)),
]
WGS_BD_PAIRS = [  # Baidu's geoconv API documentation example (GPS → BD-09)
    ((114.21892734521, 29.575429778924), (114.23074871003, 29.579084787993)),
]


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_gcj02_matches_published_pairs(wgs, gcj):
    assert distance_m(*from_wgs84(*wgs, CoordSystem.GCJ02), *gcj) < 5
    assert distance_m(*to_wgs84(*gcj, CoordSystem.GCJ02), *wgs) < 5


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD_PAIRS)
def test_bd09_matches_published_gcj_pairs(gcj, bd):
    assert distance_m(*gcj02_to_bd09(*gcj), *bd) < 5
    assert distance_m(*bd09_to_gcj02(*bd), *gcj) < 5


@pytest.mark.parametrize(("wgs", "bd"), WGS_BD_PAIRS)
def test_bd09_matches_baidus_own_conversion(wgs, bd):
    assert distance_m(*from_wgs84(*wgs, CoordSystem.BD09), *bd) < 5
    assert distance_m(*to_wgs84(*bd, CoordSystem.BD09), *wgs) < 5
