"""The city traffic map (楼盘流量地图) as a printout for HQ meetings: the map of the city's positioned
estates coloured by stage, then the table of its estates. Dealer scoping applies underneath every
query here, so a dealer prints its own estates and HQ prints everyone's.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.estates.models import City, Estate, EstateStage
from crm.maps.builder import STAGE_COLORS
from crm.maps.models import TrafficMapSettings
from crm.maps.queries import MapFilters, _filtered, map_stores
from crm.org.models import Dealer
from crm.pdf.engine import PRINT_TIMEZONE, render_pdf
from crm.pdf.svgmap import SvgPoint, SvgStore, render_svg_map

DEFAULT_RING_M = 3000
MAP_WIDTH, MAP_HEIGHT = 1000, 620  # fills an A3 landscape page under the heading (396 × 245 mm)


@dataclass
class TrafficRow:
    """One estate of the printout's table; `number` is its circle's number on the map (None: not positioned)."""

    number: int | None
    name: str
    district: str
    households: int | None
    delivery_date: date | None
    stage: EstateStage
    dealer_name: str
    lng: float | None
    lat: float | None


def traffic_rows(session: Session, filters: MapFilters, city_id: int) -> list[TrafficRow]:
    """The city's estates matching the map filters, by district then name, positioned ones numbered."""
    query = _filtered(
        sa.select(
            Estate.name,
            Estate.district,
            Estate.households,
            Estate.delivery_date,
            Estate.stage,
            Dealer.name,
            Estate.lng,
            Estate.lat,
        )
        .join(Dealer, Dealer.id == Estate.dealer_id)
        .order_by(Estate.district == "", Estate.district, Estate.name, Estate.id),
        dataclasses.replace(filters, city_id=city_id),
    )
    rows, number = [], 0
    for name, district, households, delivery, stage, dealer_name, lng, lat in session.execute(query):
        positioned = lng is not None and lat is not None
        number += positioned
        shown_as = number if positioned else None
        rows.append(TrafficRow(shown_as, name, district, households, delivery, stage, dealer_name, lng, lat))
    return rows


def store_rings(session: Session, dealer_ids: set[int]) -> dict[int, int]:
    """Each dealer's store ring in metres (its traffic-map settings, else the default 3 km)."""
    rings = dict.fromkeys(dealer_ids, DEFAULT_RING_M)
    if dealer_ids:
        query = sa.select(TrafficMapSettings.dealer_id, TrafficMapSettings.store_ring_m).where(
            TrafficMapSettings.dealer_id.in_(dealer_ids)
        )
        rings.update(dict(session.execute(query).all()))
    return rings


def stage_legend(rows: list[TrafficRow]) -> list[tuple[str, str]]:
    """(colour, "label count") for each stage present on the map, in pipeline order."""
    counts = Counter(row.stage for row in rows if row.number is not None)
    return [(STAGE_COLORS[stage.value], f"{stage.label} {counts[stage]}") for stage in EstateStage if counts[stage]]


def traffic_map_pdf(
    session: Session, filters: MapFilters, city: City | None, *, dealer_name: str, show_dealer: bool
) -> tuple[bytes, str]:
    """The traffic-map printout (A3 landscape) and its file name."""
    rows = traffic_rows(session, filters, city.id) if city is not None else []
    stores = map_stores(session, city.id, filters.dealer_id) if city is not None else []
    rings = store_rings(session, {store.dealer_id for store in stores})
    points = [
        SvgPoint(row.lng, row.lat, row.name, STAGE_COLORS[row.stage.value], row.households, row.number)
        for row in rows
        if row.number is not None
    ]
    svg_stores = [SvgStore(s.lng, s.lat, s.name, rings[s.dealer_id]) for s in stores]
    map_svg = render_svg_map(points, svg_stores, width=MAP_WIDTH, height=MAP_HEIGHT, legend=stage_legend(rows))
    title = _("楼盘流量地图") + (f" · {city.name}" if city is not None else "")
    pdf = render_pdf(
        "pdf/traffic_map.html",
        page_size="A3",
        landscape=True,
        title=title,
        dealer_name=dealer_name,
        city=city,
        filters=filters,
        map_svg=map_svg,
        rows=rows,
        positioned=len(points),
        total_households=sum(row.households or 0 for row in rows),
        show_dealer=show_dealer,
        stage_colors=STAGE_COLORS,
    )
    today = datetime.now(PRINT_TIMEZONE).date().isoformat()
    filename = "-".join(part for part in (_("楼盘流量地图"), city.name if city is not None else "", today) if part)
    return pdf, f"{filename}.pdf"
