"""The battle map as it prints and as the plan page shows it: one server-drawn SVG, one PDF."""

from __future__ import annotations

from collections import Counter

from markupsafe import Markup, escape
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
        timeline_blocks=timeline_svg_blocks(plan, queries.timeline(plan)),
        phase_colors=PHASE_COLORS,
        target_fields=TARGET_FIELDS,
        target_labels=TARGET_LABELS,
    )


TIMELINE_ROWS_PER_BLOCK = 40
PHASE_COLORS = ("#7c5cd6", "#2f6fde", "#0f9d9a", "#2f9e44", "#e8590c", "#c2255c", "#5c7080")


def timeline_svg_blocks(plan: BattlePlan, timeline: queries.Timeline, width: int = 1500) -> list[Markup]:
    """The phase timeline as SVG drawings of at most 40 estates each (one drawing never splits across pages).

    Drawn rather than laid out: 100 estates × 7 phases as positioned boxes cost WeasyPrint seconds.
    """
    label_w, row_h, head_h = 230, 22, 22
    track_w = width - label_w - 10
    blocks = []
    items = list(plan.estates)
    for start in range(0, max(len(items), 1), TIMELINE_ROWS_PER_BLOCK):
        rows = items[start : start + TIMELINE_ROWS_PER_BLOCK]
        height = head_h + row_h * len(rows) + 4
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'font-family="Noto Sans SC, sans-serif" class="timeline-svg">'
        ]
        for month, left in timeline.months:
            x = label_w + track_w * left / 100
            parts.append(
                f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height}" stroke="#d0d4da" stroke-width="1"/>'
                f'<text x="{x + 3:.1f}" y="15" font-size="12" fill="#666">{month.strftime("%Y-%m")}</text>'
            )
        # One path per phase colour, not one rect per phase: a tenth of the drawing work for WeasyPrint.
        bars: dict[str, list[str]] = {}
        for row, item in enumerate(rows):
            y = head_h + row * row_h
            parts.append(
                f'<text x="0" y="{y + 15}" font-size="13" fill="#222">{escape(f"{item.position}. {item.estate.name}")}'
                f"</text>"
            )
            for index, phase in enumerate(item.phases):
                x = label_w + track_w * timeline.left(phase.starts_on) / 100
                w = max(track_w * timeline.width(phase.starts_on, phase.ends_on) / 100, 1.5)
                bars.setdefault(PHASE_COLORS[index % len(PHASE_COLORS)], []).append(
                    f"M{x:.1f} {y + 4}h{w:.1f}v{row_h - 8}h{-w:.1f}z"
                )
        parts.extend(f'<path fill="{color}" d="{"".join(d)}"/>' for color, d in bars.items())
        parts.append("</svg>")
        blocks.append(Markup("".join(parts)))
    return blocks
