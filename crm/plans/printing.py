"""The battle map as it prints and as the plan page shows it: one server-drawn SVG, one PDF."""

from __future__ import annotations

from collections import Counter

from markupsafe import Markup
from sqlalchemy.orm import Session

from crm.estates.models import EstateStage
from crm.maps.builder import STAGE_COLORS
from crm.maps.queries import map_stores, settings_for
from crm.plans import queries
from crm.plans.models import TARGET_FIELDS, TARGET_LABELS, BattlePlan


def plan_map_svg(
    session: Session, plan: BattlePlan, width: int = 1000, height: int = 620, title: str | None = None
) -> Markup:
    """The plan's estates numbered by priority, coloured by stage and sized by households, with store rings."""
    from crm.pdf.svgmap import SvgPoint, SvgStore, render_svg_map

    settings = settings_for(session, plan.dealer_id)
    points = [
        SvgPoint(
            lng=item.estate.lng,
            lat=item.estate.lat,
            label=item.estate.name,
            color=STAGE_COLORS[item.estate.stage.value],
            households=item.estate.households,
            number=item.position,
        )
        for item in plan.estates
        if item.estate.has_position
    ]
    stores = [
        SvgStore(lng=store.lng, lat=store.lat, name=store.name, ring_m=settings.store_ring_m)
        for store in map_stores(session, plan.city_id, plan.dealer_id)
    ]
    stages = Counter(item.estate.stage for item in plan.estates)
    legend = [(STAGE_COLORS[stage.value], f"{stage.label} {stages[stage]}") for stage in EstateStage if stages[stage]]
    title = plan.title if title is None else title
    return render_svg_map(points, stores, width=width, height=height, legend=legend, title=title)


def battle_map_pdf(session: Session, plan: BattlePlan) -> bytes:
    """The A3 landscape battle map: the map, the targets table, the phase timeline."""
    from crm.pdf.engine import render_pdf

    return render_pdf(
        "pdf/battle_plan.html",
        page_size="A3",
        landscape=True,
        title=plan.title,
        dealer_name=plan.dealer.name,
        plan=plan,
        map_svg=plan_map_svg(session, plan, width=1500, height=930, title=""),
        totals=queries.totals(plan),
        timeline=queries.timeline(plan),
        target_fields=TARGET_FIELDS,
        target_labels=TARGET_LABELS,
    )
