"""The server-side SVG map: fitting, circles and numbers, escaping, store rings, scale bar, labels, edge cases."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest

from crm.maps.coords import distance_m
from crm.pdf.svgmap import MAX_NUDGE, NICE_DISTANCES_M, SvgPoint, SvgStore, render_svg_map, text_width

NS = {"svg": "http://www.w3.org/2000/svg"}
STORE = (123.9555, 47.3448)  # 龙沙旗舰店


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # also proves the markup is well-formed XML


def group(root: ET.Element, name: str) -> ET.Element | None:
    return root.find(f".//svg:g[@class='{name}']", NS)


def texts(element: ET.Element | None) -> list[str]:
    return [] if element is None else [t.text for t in element.iter("{http://www.w3.org/2000/svg}text")]


def circles(element: ET.Element | None) -> list[ET.Element]:
    return [] if element is None else list(element.iter("{http://www.w3.org/2000/svg}circle"))


def label_boxes(root: ET.Element) -> list[tuple[float, float, float, float]]:
    boxes = []
    for label in root.iterfind(".//svg:g[@class='label']", NS):
        rect = label.find("svg:rect", NS)
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        boxes.append((x, y, x + w, y + h))
    return boxes


def point(name="测试小区", lng=123.95, lat=47.35, households=1000, number=None, color="#2f6fde"):
    return SvgPoint(lng=lng, lat=lat, label=name, color=color, households=households, number=number)


def test_numbers_sit_inside_their_circles(app):
    with app.app_context():
        root = parse(
            render_svg_map(
                [point("一号", 123.95, 47.35, 800, number=1), point("十二号", 123.97, 47.36, None, number=12)], []
            )
        )
    estates = circles(group(root, "estates"))
    numbers = root.findall(".//svg:text[@class='number']", NS)
    assert sorted(n.text for n in numbers) == ["1", "12"]
    for number in numbers:
        x, y = float(number.get("x")), float(number.get("y"))
        width = text_width(number.text, float(number.get("font-size")), bold=True)
        centre = (x + width / 2, y - float(number.get("font-size")) * 0.36)
        circle = min(estates, key=lambda c: math.dist(centre, (float(c.get("cx")), float(c.get("cy")))))
        r = float(circle.get("r"))
        assert math.dist(centre, (float(circle.get("cx")), float(circle.get("cy")))) < 0.5
        assert width / 2 < r, "the number is wider than its circle"
    assert set(texts(group(root, "labels"))) == {"一号", "十二号"}


def test_names_and_colours_are_escaped(app):
    nasty = '<script>"&金地'
    with app.app_context():
        markup = render_svg_map(
            [point(nasty, color='red" onload="alert(1)')],
            [SvgStore(123.96, 47.35, "门店 <b>&</b>", 1000)],
            legend=[("#fff", "阶段 <i>&</i>")],
            title="标题 & <svg>",
        )
    assert "<script>" not in markup and "<b>" not in markup and "<i>" not in markup
    assert "&lt;script&gt;" in markup and "&amp;" in markup
    root = parse(markup)  # attributes could not break out either
    assert nasty in texts(root)
    assert "门店 <b>&</b>" in texts(root)
    assert "阶段 <i>&</i>" in texts(group(root, "legend"))
    assert "标题 & <svg>" in texts(group(root, "title"))
    assert circles(group(root, "estates"))[0].get("fill") == 'red" onload="alert(1)'
    assert root.find(".//*[@onload]") is None


def _scale_bar(root) -> tuple[int, float]:
    """(metres, map units) of the scale bar."""
    bar = group(root, "scale-bar")
    label = [t for t in texts(bar) if t != "0"][0]
    value, unit = re.fullmatch(r"(\d+) (km|m)", label).groups()
    metres = int(value) * (1000 if unit == "km" else 1)
    outline = [r for r in bar.findall("svg:rect", NS) if r.get("fill") == "none"][0]
    return metres, float(outline.get("width"))


def test_scale_bar_is_round_and_to_scale_and_rings_are_round(app):
    store = SvgStore(*STORE, "龙沙旗舰店", ring_m=3000)
    # An estate 2 km due east and one 2 km due north of the store must print 2 km away from it.
    east = point("正东小区", STORE[0] + 2000 / (111_194.9 * math.cos(math.radians(STORE[1]))), STORE[1])
    north = point("正北小区", STORE[0], STORE[1] + 2000 / 111_194.9)
    assert distance_m(east.lng, east.lat, *STORE) == pytest.approx(2000, rel=0.002)
    with app.app_context():
        root = parse(render_svg_map([east, north], [store]))
    metres, length = _scale_bar(root)
    assert metres in NICE_DISTANCES_M and 40 < length <= 170
    units_per_metre = length / metres

    ring = circles(group(root, "rings"))[0]
    assert ring.get("stroke-dasharray")
    assert float(ring.get("r")) == pytest.approx(3000 * units_per_metre, rel=0.01)
    cx, cy = float(ring.get("cx")), float(ring.get("cy"))
    by_label = {}
    for label in root.iterfind(".//svg:g[@class='label']", NS):
        by_label[texts(label)[0]] = label
    estates = circles(group(root, "estates"))
    for c in estates:
        assert math.dist((cx, cy), (float(c.get("cx")), float(c.get("cy")))) == pytest.approx(
            2000 * units_per_metre, rel=0.01
        )
    assert "龙沙旗舰店" in by_label
    assert len(group(root, "stores")) == 1
    assert len(group(root, "north-arrow")) >= 2
    assert "N" in texts(group(root, "north-arrow"))


def test_everything_fits_inside_the_box(app):
    store = SvgStore(*STORE, "门店", ring_m=5000)
    points = [point(f"小区{i}", 123.80 + i * 0.01, 47.30 + (i % 5) * 0.01, 500 + i * 50) for i in range(20)]
    with app.app_context():
        root = parse(render_svg_map(points, [store], width=800, height=500))
    assert root.get("viewBox") == "0 0 800 500"
    for c in circles(group(root, "rings")) + circles(group(root, "estates")):
        x, y, r = (float(c.get(k)) for k in ("cx", "cy", "r"))
        assert r <= x <= 800 - r and r <= y <= 500 - r
    for x0, y0, x1, y1 in label_boxes(root):
        assert 0 <= x0 < x1 <= 800 and 0 <= y0 < y1 <= 500


def test_circle_size_grows_with_households_and_is_clamped(app):
    sizes = [None, 10, 400, 1600, 50_000]
    points = [point(f"户数{h}", 123.9 + i * 0.02, 47.35, h) for i, h in enumerate(sizes)]
    with app.app_context():
        root = parse(render_svg_map(points, []))
    radius = {}
    for c in circles(group(root, "estates")):
        radius[round(float(c.get("cx")))] = float(c.get("r"))
    r = [radius[k] for k in sorted(radius)]
    assert r[0] == r[1] == 5  # unknown and tiny: the minimum
    assert r[1] < r[2] < r[3] < r[4] == 18
    assert r[3] == pytest.approx(2 * r[2], rel=0.01)  # square root: 4× the households, 2× the radius


def test_labels_do_not_overlap_and_crowded_numbered_estates_keep_their_numbers(app):
    crowd = [
        point(f"拥挤小区{i}号", 123.95 + (i % 10) * 0.002, 47.35 + (i // 10) * 0.0015, 900, number=i + 1)
        for i in range(100)
    ]
    with app.app_context():
        root = parse(render_svg_map(crowd, [], width=600, height=400, legend=[("#2f6fde", "目标 100")]))
    boxes = label_boxes(root)
    for a, b in itertools.combinations(boxes, 2):
        overlap_w = min(a[2], b[2]) - max(a[0], b[0])
        overlap_h = min(a[3], b[3]) - max(a[1], b[1])
        assert overlap_w <= 0.01 or overlap_h <= 0.01, (a, b)
    assert 0 < len(boxes) < 100  # some names had no room…
    numbers = [t.text for t in root.findall(".//svg:text[@class='number']", NS)]
    assert sorted(map(int, numbers)) == list(range(1, 101))  # …but every estate kept its number


def test_no_points(app):
    with app.app_context():
        root = parse(render_svg_map([], [], legend=[("#2f6fde", "目标 0")], title="空地图"))
    assert "没有符合条件且已定位的楼盘" in texts(group(root, "empty"))
    assert circles(group(root, "estates")) == []
    assert group(root, "scale-bar") is None
    assert "目标 0" in texts(group(root, "legend"))


def test_one_point_and_points_without_position(app):
    points = [point("唯一小区"), point("无坐标", None, None), point("半个", 123.9, None), point("NaN", math.nan, 47)]
    with app.app_context():
        root = parse(render_svg_map(points, []))
    assert len(circles(group(root, "estates"))) == 1
    assert texts(group(root, "labels")) == ["唯一小区"]
    metres, length = _scale_bar(root)
    assert metres in NICE_DISTANCES_M and length > 40
    assert "无坐标" not in texts(root) and "NaN" not in texts(root)


def test_only_stores(app):
    with app.app_context():
        root = parse(render_svg_map([], [SvgStore(*STORE, "孤店", 3000), SvgStore(None, None, "未定位门店")]))
    assert texts(group(root, "labels")) == ["孤店"]
    assert len(circles(group(root, "rings"))) == 1
    assert "门店辐射圈 3 公里" in texts(group(root, "legend"))


def test_long_labels_are_shortened(app):
    name = "一个名字非常非常长的楼盘项目二期三期四期五期"
    with app.app_context():
        root = parse(render_svg_map([point(name)], []))
    (label,) = texts(group(root, "labels"))
    assert label.endswith("…") and name.startswith(label[:-1]) and len(label) <= 18


def test_coinciding_estates_are_nudged_apart_a_little(app):
    twins = [point("甲楼盘", number=1, households=2000), point("乙楼盘", number=2, households=400)]
    with app.app_context():
        root = parse(render_svg_map(twins, []))
    a, b = circles(group(root, "estates"))
    gap = math.dist((float(a.get("cx")), float(a.get("cy"))), (float(b.get("cx")), float(b.get("cy"))))
    assert max(float(a.get("r")), float(b.get("r"))) <= gap + 0.2  # neither centre hides under the other
    assert gap <= 2 * MAX_NUDGE + 0.2  # and neither moved far from where it is
    assert sorted(t.text for t in root.findall(".//svg:text[@class='number']", NS)) == ["1", "2"]
