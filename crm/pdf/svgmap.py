"""A vector map drawn on the server, for printouts: no tiles, no JavaScript (WeasyPrint runs none).

Estates are circles sized by households (square-root scale, clamped), numbered when they carry a
number; stores are markers with a dashed ring of their radius. The projection is local
equirectangular (x scaled by cos(latitude)), so at city scale distances are true in every
direction and rings come out round. A scale bar with a round distance, a north arrow and a legend
sit in the corners; the legend takes the corner with the fewest estates under it.

Estates that nearly coincide are nudged apart (by at most MAX_NUDGE map units) until neither
centre hides under the other circle, so every number stays readable. Labels never overlap each
other when it can be helped: each tries eight spots around its circle
and takes the first one free of other labels, circles and the map furniture. A numbered estate
whose label finds no free spot goes without (its number identifies it, e.g. in the table that
follows); an unnumbered one takes the least-crowded spot. Label widths come from the shipped
font's metrics, so the boxes fit the printed text. Every string is escaped.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _
from markupsafe import Markup, escape

from crm.config import PROJECT_ROOT


@dataclass
class SvgPoint:
    """One estate. Without a position (lng or lat None) it is left off the map."""

    lng: float | None  # WGS-84
    lat: float | None
    label: str  # estate name, printed next to the circle
    color: str  # fill, e.g. the stage colour
    households: int | None  # sizes the circle
    number: int | None = None  # printed inside the circle (priority in a battle plan)


@dataclass
class SvgStore:
    """One store, drawn as a marker with a dashed ring of `ring_m` metres."""

    lng: float | None
    lat: float | None
    name: str
    ring_m: int | None = None


EARTH_RADIUS_M = 6371008.8
MIN_SPAN_M = 800.0  # a lone estate still gets a street-scale map, not an infinite zoom
NICE_DISTANCES_M = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
STORE_COLOR = "#b4462b"
INK = "#1f2933"
MUTED = "#616e7c"
BACKGROUND = "#f5f7f9"
FONT_FAMILY = "Noto Sans SC, sans-serif"
FONT_DIR = PROJECT_ROOT / "static" / "fonts"
LABEL_MAX_CHARS = 18


# --- font metrics -----------------------------------------------------------------------------


@cache
def _advances(bold: bool) -> dict[int, float]:
    """Advance widths (in em) of the shipped font, by code point."""
    from fontTools.ttLib import TTFont

    font = TTFont(FONT_DIR / ("NotoSansSC-Bold.ttf" if bold else "NotoSansSC-Regular.ttf"), lazy=True)
    units = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    widths = {code: metrics[glyph][0] / units for code, glyph in font.getBestCmap().items()}
    font.close()
    return widths


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of `text` at font size `size` as the PDF will print it (no kerning at map scale)."""
    widths = _advances(bold)
    total = 0.0
    for char in text:
        width = widths.get(ord(char))
        if width is None:  # not in the subset: another font draws it, about this wide
            width = 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.6
        total += width
    return total * size


# --- geometry ---------------------------------------------------------------------------------


@dataclass
class _Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: _Box) -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def hits_circle(self, cx: float, cy: float, r: float) -> bool:
        nearest_x = min(max(cx, self.x0), self.x1)
        nearest_y = min(max(cy, self.y0), self.y1)
        return (nearest_x - cx) ** 2 + (nearest_y - cy) ** 2 < r * r

    def inside(self, other: _Box) -> bool:
        return self.x0 >= other.x0 and self.y0 >= other.y0 and self.x1 <= other.x1 and self.y1 <= other.y1


class _Obstacles:
    """Rectangles and circles already on the map, bucketed in a grid so 300 labels stay fast."""

    CELL = 48.0

    def __init__(self):
        self.cells: dict[tuple[int, int], list] = {}

    def _keys(self, box: _Box):
        for i in range(int(box.x0 // self.CELL), int(box.x1 // self.CELL) + 1):
            for j in range(int(box.y0 // self.CELL), int(box.y1 // self.CELL) + 1):
                yield i, j

    def add_box(self, box: _Box, owner=None) -> None:
        item = ("box", box, owner)
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(item)

    def add_circle(self, cx: float, cy: float, r: float, owner=None) -> None:
        item = ("circle", (cx, cy, r), owner)
        for key in self._keys(_Box(cx - r, cy - r, cx + r, cy + r)):
            self.cells.setdefault(key, []).append(item)

    def nearer_neighbour(self, box: _Box, owner: _Placed) -> bool:
        """True if another estate's circle lies closer to `box` than the owner's does (the label would mislead)."""
        own = _gap(box, owner.x, owner.y, owner.r)
        reach = _Box(box.x0 - own - 20, box.y0 - own - 20, box.x1 + own + 20, box.y1 + own + 20)
        for key in self._keys(reach):
            for kind, shape, item_owner in self.cells.get(key, ()):
                if kind == "circle" and item_owner is not owner and _gap(box, *shape) - 4 < own:
                    return True
        return False

    def cost(self, box: _Box, owner=None) -> float:
        """0 when `box` touches nothing but its owner; else how much it covers."""
        seen, total = set(), 0.0
        for key in self._keys(box):
            for item in self.cells.get(key, ()):
                if id(item) in seen or (owner is not None and item[2] is owner):
                    continue
                seen.add(id(item))
                kind, shape, _owner = item
                if kind == "box":
                    total += box.overlap(shape)
                else:
                    cx, cy, r = shape
                    if box.hits_circle(cx, cy, r):
                        total += box.overlap(_Box(cx - r, cy - r, cx + r, cy + r)) or 1.0
        return total


def _gap(box: _Box, cx: float, cy: float, r: float) -> float:
    """Distance from a circle's edge to a box (negative when they overlap)."""
    dx = max(box.x0 - cx, 0.0, cx - box.x1)
    dy = max(box.y0 - cy, 0.0, cy - box.y1)
    return math.hypot(dx, dy) - r


@dataclass
class _Projection:
    lng0: float
    lat0: float
    scale: float  # map units per metre
    x_center: float
    y_center: float
    mx_center: float
    my_center: float

    def metres(self, lng: float, lat: float) -> tuple[float, float]:
        kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))
        ky = math.radians(1) * EARTH_RADIUS_M
        return (lng - self.lng0) * kx, (lat - self.lat0) * ky

    def xy(self, lng: float, lat: float) -> tuple[float, float]:
        mx, my = self.metres(lng, lat)
        return (
            self.x_center + (mx - self.mx_center) * self.scale,
            self.y_center - (my - self.my_center) * self.scale,
        )


def _positioned(lng, lat) -> bool:
    try:
        return math.isfinite(float(lng)) and math.isfinite(float(lat)) and abs(lat) <= 90 and abs(lng) <= 180
    except (TypeError, ValueError):
        return False


def _fit(points: list[SvgPoint], stores: list[SvgStore], area: _Box) -> _Projection:
    lngs = [p.lng for p in points] + [s.lng for s in stores]
    lats = [p.lat for p in points] + [s.lat for s in stores]
    projection = _Projection((min(lngs) + max(lngs)) / 2, (min(lats) + max(lats)) / 2, 1.0, 0, 0, 0, 0)
    xs, ys = [], []
    for p in points:
        x, y = projection.metres(p.lng, p.lat)
        xs += [x]
        ys += [y]
    for s in stores:
        x, y = projection.metres(s.lng, s.lat)
        ring = float(s.ring_m or 0)
        xs += [x - ring, x + ring]
        ys += [y - ring, y + ring]
    span_x = max(max(xs) - min(xs), MIN_SPAN_M)
    span_y = max(max(ys) - min(ys), MIN_SPAN_M)
    projection.scale = min((area.x1 - area.x0) / span_x, (area.y1 - area.y0) / span_y)
    projection.mx_center, projection.my_center = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    projection.x_center, projection.y_center = (area.x0 + area.x1) / 2, (area.y0 + area.y1) / 2
    return projection


# --- drawing ----------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate, one decimal at most (keeps 300 estates' SVG small)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attr(value) -> str:
    return str(escape(str(value)))


def _text(x: float, y: float, text: str, size: float, *, fill: str = INK, bold: bool = False, extra: str = "") -> str:
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}"{weight} fill="{_attr(fill)}"{extra}>'
        f"{escape(text)}</text>"
    )


def _luminance(color: str) -> float | None:
    value = color.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        return None
    try:
        r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    except ValueError:
        return None
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _store_marker(x: float, y: float, size: float = 7.5) -> str:
    """A little house: the store."""
    s = size
    path = (
        f"M{_n(x - s)} {_n(y + s * 0.85)}L{_n(x - s)} {_n(y - s * 0.2)}L{_n(x)} {_n(y - s * 1.05)}"
        f"L{_n(x + s)} {_n(y - s * 0.2)}L{_n(x + s)} {_n(y + s * 0.85)}Z"
    )
    return f'<path d="{path}" fill="{STORE_COLOR}" stroke="#ffffff" stroke-width="1.6" stroke-linejoin="round"/>'


def _format_distance(metres: int) -> str:
    return f"{metres // 1000:g} km" if metres >= 1000 else f"{metres} m"


def _radius_scale(count: int) -> float:
    """Circles shrink as the map fills up, so 300 estates stay distinguishable."""
    return 1.0 if count <= 40 else max(0.55, math.sqrt(40 / count))


def _radius(households: int | None, factor: float) -> float:
    if not households or households <= 0:
        return 5.0 * factor
    return min(18.0, max(5.0, 0.33 * math.sqrt(households))) * factor


@dataclass
class _Placed:
    point: SvgPoint | None
    x: float
    y: float
    r: float
    label: str
    bold: bool = False
    color: str = INK


def render_svg_map(
    points: list[SvgPoint],
    stores: list[SvgStore],
    *,
    width: int = 1000,
    height: int = 640,
    legend: list[tuple[str, str]] = (),
    title: str = "",
) -> Markup:
    """An SVG map of `points` (estates) and `stores`, fitted into width × height, as markup for a printout.

    Parts are grouped by class (rings, estates, stores, labels, scale-bar, north-arrow, legend).
    """
    points = [p for p in points if _positioned(p.lng, p.lat)]
    stores = [s for s in stores if _positioned(s.lng, s.lat)]
    top = 38.0 if title else 0.0
    map_box = _Box(0, top, width, height)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pdf-map" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{FONT_FAMILY}" role="img" aria-label="{_attr(title)}">',
        f'<rect x="0" y="{_n(top)}" width="{width}" height="{_n(height - top)}" fill="{BACKGROUND}" '
        'stroke="#c3cbd3" stroke-width="1"/>',
    ]
    if title:
        out.append(_group("title", [_text(2, 25, title, 18, bold=True)]))
    legend_rows = _legend_rows(list(legend), stores)

    if not points and not stores:
        message = _("没有符合条件且已定位的楼盘")
        size = 15
        x = (width - text_width(message, size)) / 2
        out.append(_group("empty", [_text(x, (top + height) / 2 + size * 0.35, message, size, fill=MUTED)]))
        if legend_rows:
            out.append(_group("legend", _draw_legend(legend_rows, _legend_box(legend_rows, map_box, "top-right"))))
        out.append("</svg>")
        return Markup("".join(out))

    margin = 34.0  # room for circles and labels at the edge
    projection = _fit(points, stores, _Box(margin, top + margin, width - margin, height - margin))
    factor = _radius_scale(len(points))
    estates = _spread([_estate_spot(point, projection, factor) for point in points])
    store_spots, rings = [], []
    for store in stores:
        x, y = projection.xy(store.lng, store.lat)
        store_spots.append(_Placed(None, x, y, 9.0, store.name, bold=True, color=STORE_COLOR))
        if store.ring_m:
            rings.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(store.ring_m * projection.scale)}" fill="{STORE_COLOR}" '
                f'fill-opacity="0.05" stroke="{STORE_COLOR}" stroke-width="1.3" stroke-dasharray="7 5"/>'
            )

    # The furniture goes where it hides the fewest estates; labels then keep clear of it.
    obstacles = _Obstacles()
    legend_corner = None
    if legend_rows:
        legend_corner = min(
            ("bottom-right", "top-right", "bottom-left", "top-left"),
            key=lambda corner: sum(
                _legend_box(legend_rows, map_box, corner).hits_circle(e.x, e.y, e.r + 4) for e in estates
            ),
        )
        obstacles.add_box(_legend_box(legend_rows, map_box, legend_corner))
    north, north_box = _north_arrow(map_box, "top-left" if legend_corner == "top-right" else "top-right")
    scale, scale_box = _scale_bar(
        map_box, "bottom-right" if legend_corner == "bottom-left" else "bottom-left", projection.scale
    )
    obstacles.add_box(north_box)
    obstacles.add_box(scale_box)
    for spot in estates:
        # A margin around each circle keeps a label from sitting flush against a neighbour it does not name.
        obstacles.add_circle(spot.x, spot.y, spot.r + 4, owner=spot)
    for spot in store_spots:
        obstacles.add_box(_Box(spot.x - 9, spot.y - 9, spot.x + 9, spot.y + 9), owner=spot)

    # Stores label first, then estates by their number, then the biggest.
    ordered = store_spots + sorted(
        estates,
        key=lambda e: (e.point.number is None, e.point.number or 0, -(e.point.households or 0)),
    )
    label_size = 11.0 if len(points) <= 60 else 10.0 if len(points) <= 150 else 9.0
    inner = _Box(3, top + 3, width - 3, height - 3)
    labels = [_place_label(spot, label_size, obstacles, inner) for spot in ordered]

    out.append(_group("rings", rings))
    by_size = sorted(estates, key=lambda e: -e.r)  # small circles on top of big ones
    out.append(_group("estates", [_draw_estate(spot) for spot in by_size]))
    # Numbers after every circle: an overlapping neighbour may hide part of a circle, never its number.
    out.append(_group("numbers", [_draw_number(spot, factor) for spot in by_size if spot.point.number is not None]))
    out.append(_group("stores", [_store_marker(spot.x, spot.y) for spot in store_spots]))
    out.append(_group("labels", [label for label in labels if label]))
    out.append(_group("scale-bar", scale))
    out.append(_group("north-arrow", north))
    if legend_rows:
        out.append(_group("legend", _draw_legend(legend_rows, _legend_box(legend_rows, map_box, legend_corner))))
    out.append("</svg>")
    return Markup("".join(out))


MAX_NUDGE = 15.0  # map units (≈ 6 mm on an A3 page): a nudge must not move an estate across a street block


def _spread(estates: list[_Placed], rounds: int = 25) -> list[_Placed]:
    """Nudge estates that (nearly) coincide apart, so each circle's centre and number stay visible.

    Two circles may overlap, but neither centre may lie inside the other circle; no estate moves
    more than MAX_NUDGE from its true place.
    """
    home = [(e.x, e.y) for e in estates]
    cell = 40.0
    for _round in range(rounds):
        grid: dict[tuple[int, int], list[int]] = {}
        for index, e in enumerate(estates):
            grid.setdefault((int(e.x // cell), int(e.y // cell)), []).append(index)
        moved = False
        for index, a in enumerate(estates):
            gx, gy = int(a.x // cell), int(a.y // cell)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for other in grid.get((gx + dx, gy + dy), ()):
                        if other <= index:
                            continue
                        b = estates[other]
                        need = max(a.r, b.r) + 1.0
                        distance = math.hypot(b.x - a.x, b.y - a.y)
                        if distance >= need:
                            continue
                        if distance < 1e-6:  # exactly on top: part them along a fixed, varied direction
                            angle = (index * 2.399963) % (2 * math.pi)
                            ux, uy, distance = math.cos(angle), math.sin(angle), 0.0
                        else:
                            ux, uy = (b.x - a.x) / distance, (b.y - a.y) / distance
                        push = (need - distance) / 2
                        a.x, a.y = _within(home[index], a.x - ux * push, a.y - uy * push)
                        b.x, b.y = _within(home[other], b.x + ux * push, b.y + uy * push)
                        moved = True
        if not moved:
            break
    return estates


def _within(home: tuple[float, float], x: float, y: float) -> tuple[float, float]:
    """(x, y), pulled back to at most MAX_NUDGE from `home`."""
    dx, dy = x - home[0], y - home[1]
    distance = math.hypot(dx, dy)
    if distance <= MAX_NUDGE:
        return x, y
    return home[0] + dx * MAX_NUDGE / distance, home[1] + dy * MAX_NUDGE / distance


def _group(name: str, parts: list[str]) -> str:
    return f'<g class="{name}">{"".join(parts)}</g>'


def _estate_spot(point: SvgPoint, projection: _Projection, factor: float) -> _Placed:
    x, y = projection.xy(point.lng, point.lat)
    r = _radius(point.households, factor)
    if point.number is not None:  # the number must fit inside
        size = _number_size(factor)
        r = max(r, len(str(point.number)) * 0.3 * size + 2.2, size * 0.72)
    label = point.label if len(point.label) <= LABEL_MAX_CHARS else point.label[: LABEL_MAX_CHARS - 1] + "…"
    return _Placed(point, x, y, r, label)


def _number_size(factor: float) -> float:
    return 11.0 if factor >= 0.9 else 9.5 if factor >= 0.7 else 8.5


def _draw_estate(spot: _Placed) -> str:
    return (
        f'<circle class="estate" cx="{_n(spot.x)}" cy="{_n(spot.y)}" r="{_n(spot.r)}" '
        f'fill="{_attr(spot.point.color)}" fill-opacity="0.92" stroke="#ffffff" stroke-width="1.3"/>'
    )


def _draw_number(spot: _Placed, factor: float) -> str:
    """The estate's number centred in its circle, dark on light colours and white on dark ones."""
    size = _number_size(factor)
    text = str(spot.point.number)
    luminance = _luminance(spot.point.color)
    ink = INK if luminance is not None and luminance > 0.62 else "#ffffff"
    x = spot.x - text_width(text, size, bold=True) / 2
    return _text(x, spot.y + size * 0.36, text, size, fill=ink, bold=True, extra=' class="number"')


def _label_candidates(spot: _Placed, w: float, h: float):
    """Spots around the circle, most readable first: right, left, above, below, then the diagonals."""
    x, y, r, gap = spot.x, spot.y, spot.r, 2.5
    d = r * 0.72 + gap
    yield _Box(x + r + gap, y - h / 2, x + r + gap + w, y + h / 2)
    yield _Box(x - r - gap - w, y - h / 2, x - r - gap, y + h / 2)
    yield _Box(x - w / 2, y - r - gap - h, x + w / 2, y - r - gap)
    yield _Box(x - w / 2, y + r + gap, x + w / 2, y + r + gap + h)
    yield _Box(x + d, y - d - h, x + d + w, y - d)
    yield _Box(x + d, y + d, x + d + w, y + d + h)
    yield _Box(x - d - w, y - d - h, x - d, y - d)
    yield _Box(x - d - w, y + d, x - d, y + d + h)


def _place_label(spot: _Placed, size: float, obstacles: _Obstacles, inner: _Box) -> str:
    """The label beside its circle on a white halo, or "" when a numbered estate finds no room."""
    if not spot.label:
        return ""
    pad = 1.8
    w = text_width(spot.label, size, spot.bold) + 2 * pad
    h = size * 1.32
    best, best_rank = None, (math.inf, True)
    for box in _label_candidates(spot, w, h):
        if not box.inside(inner):
            continue
        # Free spots first, and among them one no other estate sits closer to.
        rank = (obstacles.cost(box, owner=spot), obstacles.nearer_neighbour(box, spot))
        if rank < best_rank:
            best, best_rank = box, rank
            if rank == (0, False):
                break
    if best is None or (best_rank[0] > 0 and spot.point is not None and spot.point.number is not None):
        return ""  # no room: the number in the circle identifies the estate
    obstacles.add_box(best, owner=spot)
    leader = []
    if best_rank[1] and spot.point is not None:  # a neighbour sits as close: a hairline says whose label it is
        nx, ny = min(max(spot.x, best.x0), best.x1), min(max(spot.y, best.y0), best.y1)
        distance = math.hypot(nx - spot.x, ny - spot.y) or 1.0
        ex, ey = spot.x + (nx - spot.x) * spot.r / distance, spot.y + (ny - spot.y) * spot.r / distance
        leader.append(
            f'<line x1="{_n(ex)}" y1="{_n(ey)}" x2="{_n(nx)}" y2="{_n(ny)}" stroke="{MUTED}" stroke-width="0.8"/>'
        )
    return _group(
        "label",
        leader
        + [
            f'<rect x="{_n(best.x0)}" y="{_n(best.y0)}" width="{_n(best.x1 - best.x0)}" height="{_n(h)}" rx="2" '
            'fill="#ffffff" fill-opacity="0.82"/>',
            _text(best.x0 + pad, best.y0 + size * 1.02, spot.label, size, fill=spot.color, bold=spot.bold),
        ],
    )


# --- furniture: legend, scale bar, north arrow --------------------------------------------------

_LEGEND_SIZE = 11.0
_LEGEND_ROW = 17.0


def _legend_rows(legend: list[tuple[str, str]], stores: list[SvgStore]) -> list[tuple[str, str, str]]:
    """(kind, colour, label) rows: the caller's entries, then stores, their ring and the size key."""
    rows = [("swatch", color, str(label)) for color, label in legend]
    if stores:
        rows.append(("store", STORE_COLOR, _("门店")))
        rings = {s.ring_m for s in stores if s.ring_m}
        if len(rings) == 1:
            km = f"{rings.pop() / 1000:g}"
            rows.append(("ring", STORE_COLOR, _("门店辐射圈 %(km)s 公里", km=km)))
    if rows:
        rows.append(("sizes", MUTED, _("户数")))
    return rows


def _legend_box(rows, map_box: _Box, corner: str) -> _Box:
    widths = [text_width(label, _LEGEND_SIZE) for _kind, _color, label in rows]
    w = 12 + 44 + max(widths) + 12
    h = 10 + len(rows) * _LEGEND_ROW + 6
    inset = 10
    x0 = map_box.x0 + inset if corner.endswith("left") else map_box.x1 - inset - w
    y0 = map_box.y0 + inset if corner.startswith("top") else map_box.y1 - inset - h
    return _Box(x0, y0, x0 + w, y0 + h)


def _draw_legend(rows, box: _Box) -> list[str]:
    out = [
        f'<rect x="{_n(box.x0)}" y="{_n(box.y0)}" width="{_n(box.x1 - box.x0)}" height="{_n(box.y1 - box.y0)}" '
        'rx="4" fill="#ffffff" fill-opacity="0.93" stroke="#c3cbd3" stroke-width="0.8"/>'
    ]
    for index, (kind, color, label) in enumerate(rows):
        cy = box.y0 + 10 + index * _LEGEND_ROW + _LEGEND_ROW / 2
        cx = box.x0 + 12 + 18
        if kind == "swatch":
            out.append(
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="5.5" fill="{_attr(color)}" stroke="#ffffff" stroke-width="1"/>'
            )
        elif kind == "store":
            out.append(_store_marker(cx, cy + 0.5, 6))
        elif kind == "ring":
            out.append(
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="6.5" fill="{STORE_COLOR}" fill-opacity="0.05" '
                f'stroke="{STORE_COLOR}" stroke-width="1.2" stroke-dasharray="3 2"/>'
            )
        else:  # sizes: small, medium, large, side by side
            for dx, r in ((-13, 2.5), (-5, 4), (7, 6.5)):
                out.append(
                    f'<circle cx="{_n(cx + dx)}" cy="{_n(cy)}" r="{r}" fill="#9aa5b1" stroke="#ffffff" '
                    'stroke-width="0.8"/>'
                )
        out.append(_text(box.x0 + 12 + 44, cy + _LEGEND_SIZE * 0.36, label, _LEGEND_SIZE))
    return out


def _scale_bar(map_box: _Box, corner: str, units_per_metre: float) -> tuple[list[str], _Box]:
    """A bar of a round distance (1 km, 2 km, 5 km…) no longer than 170 map units."""
    metres = NICE_DISTANCES_M[0]
    for candidate in NICE_DISTANCES_M:
        if candidate * units_per_metre <= 170:
            metres = candidate
    length = metres * units_per_metre
    label = _format_distance(metres)
    label_w = text_width(label, 10)
    w = length + label_w + 30
    x0 = map_box.x0 + 12 if corner.endswith("left") else map_box.x1 - 12 - w
    y0 = map_box.y1 - 12 - 26
    box = _Box(x0, y0, x0 + w, y0 + 26)
    bx, by = x0 + 8, y0 + 15
    half = length / 2
    out = [
        f'<rect x="{_n(box.x0)}" y="{_n(box.y0)}" width="{_n(w)}" height="26" rx="3" fill="#ffffff" '
        'fill-opacity="0.85"/>',
        f'<rect x="{_n(bx)}" y="{_n(by)}" width="{_n(half)}" height="5" fill="{INK}"/>',
        f'<rect x="{_n(bx + half)}" y="{_n(by)}" width="{_n(half)}" height="5" fill="#ffffff" stroke="{INK}" '
        'stroke-width="0.8"/>',
        f'<rect x="{_n(bx)}" y="{_n(by)}" width="{_n(length)}" height="5" fill="none" stroke="{INK}" '
        'stroke-width="0.8"/>',
        _text(bx - 2.5, by - 3, "0", 9),
        _text(bx + length + 6, by + 5.5, label, 10, bold=True),
    ]
    return out, box


def _north_arrow(map_box: _Box, corner: str) -> tuple[list[str], _Box]:
    x = map_box.x0 + 26 if corner.endswith("left") else map_box.x1 - 26
    y = map_box.y0 + 40
    box = _Box(x - 12, map_box.y0 + 8, x + 12, y + 14)
    out = [
        f'<path d="M{_n(x)} {_n(y - 18)}L{_n(x + 8)} {_n(y + 10)}L{_n(x)} {_n(y + 4)}Z" fill="{INK}"/>',
        f'<path d="M{_n(x)} {_n(y - 18)}L{_n(x - 8)} {_n(y + 10)}L{_n(x)} {_n(y + 4)}Z" fill="#ffffff" '
        f'stroke="{INK}" stroke-width="0.8" stroke-linejoin="round"/>',
        _text(x - text_width("N", 11, bold=True) / 2, y - 21, "N", 11, bold=True),
    ]
    return out, box
