"""The kinds of background job: what each runs and how long it may take.

A kind's `run(session, params)` does the work inside the job's dealer scope and a request context
in the user's language, and returns the result file; it raises `JobRefused` with a message the
user can act on when the work cannot be done (e.g. the plan was deleted meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

PDF_MIMETYPE = "application/pdf"


class JobRefused(Exception):
    """The job cannot do its work; the message is shown to the user as the reason."""


@dataclass(frozen=True)
class JobResult:
    content: bytes
    filename: str
    mimetype: str


@dataclass(frozen=True)
class JobKind:
    name: str
    label: object  # a lazy string
    run: Callable[[Session, dict], JobResult]
    timeout_seconds: int = 600


def _battle_map_pdf(session: Session, params: dict) -> JobResult:
    from crm.plans.printing import battle_map_pdf
    from crm.plans.queries import load_plan

    plan = load_plan(session, int(params["plan_id"]))
    if plan is None:
        raise JobRefused(_("这份作战规划已被删除。"))
    return JobResult(battle_map_pdf(session, plan), f"{plan.title}.pdf", PDF_MIMETYPE)


def _traffic_map_pdf(session: Session, params: dict) -> JobResult:
    from crm.estates.models import City
    from crm.maps.queries import MapFilters
    from crm.pdf.traffic import traffic_map_pdf

    filters = MapFilters.from_args(params["filters"])
    city = session.get(City, filters.city_id) if filters.city_id else None
    pdf, filename = traffic_map_pdf(
        session, filters, city, dealer_name=params["dealer_name"], show_dealer=bool(params["show_dealer"])
    )
    return JobResult(pdf, filename, PDF_MIMETYPE)


def _coverage_report_pdf(session: Session, params: dict) -> JobResult:
    from datetime import date

    from crm.core.models import local_today
    from crm.coverage import exports, queries
    from crm.coverage.blueprint import brand_id

    month = date.fromisoformat(params["month"])
    th = queries.thresholds(session, brand_id(), local_today())
    pdf = exports.coverage_report_pdf(session, th, month, params.get("sort", "name"), bool(params.get("descending")))
    return JobResult(pdf, _("月度覆盖报告-%(month)s.pdf", month=month.strftime("%Y-%m")), PDF_MIMETYPE)


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("plans.battle_pdf", _l("作战规划图 PDF"), _battle_map_pdf),
        JobKind("maps.traffic_pdf", _l("楼盘流量地图 PDF"), _traffic_map_pdf),
        JobKind("coverage.report_pdf", _l("月度覆盖报告 PDF"), _coverage_report_pdf),
    )
}


def register(kind: JobKind) -> None:
    """Add a kind (areas whose module would import too much here register themselves)."""
    KINDS[kind.name] = kind
