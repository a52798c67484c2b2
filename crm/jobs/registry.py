"""The kinds of background job: what each runs and how long it may take.

A kind's `run(session, params, progress)` does the work inside the job's dealer scope and a request
context in the user's language, and returns its result: a file to download, and/or a page to see
and a one-line summary. It raises `JobRefused` with a message the user can act on when the work
cannot be done (e.g. the plan was deleted meanwhile). Work is committed with the job's 已完成, in
one transaction — unless the kind reports progress: `progress(percent, message)` commits what was
done so far (for work that is safe to resume, such as positioning estates one by one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.i18n import lazy_gettext as _l

PDF_MIMETYPE = "application/pdf"


class JobRefused(Exception):
    """The job cannot do its work; the message is shown to the user as the reason."""


@dataclass(frozen=True)
class JobResult:
    content: bytes = b""
    filename: str = ""
    mimetype: str = ""
    url: str = ""  # a page showing what the job did
    summary: str = ""


@dataclass(frozen=True)
class JobKind:
    name: str
    label: object  # a lazy string
    run: Callable[[Session, dict, Callable[[int, str], None]], JobResult]
    timeout_seconds: int = 600
    stale_after_seconds: int | None = None  # no progress for this long: the worker died (default: the timeout)


def _battle_map_pdf(session: Session, params: dict, progress) -> JobResult:
    from crm.plans.printing import battle_map_pdf
    from crm.plans.queries import load_plan

    plan = load_plan(session, int(params["plan_id"]))
    if plan is None:
        raise JobRefused(_("这份作战规划已被删除。"))
    return JobResult(battle_map_pdf(session, plan), f"{plan.title}.pdf", PDF_MIMETYPE)


def _traffic_map_pdf(session: Session, params: dict, progress) -> JobResult:
    from crm.estates.models import City
    from crm.maps.queries import MapFilters
    from crm.pdf.traffic import traffic_map_pdf

    filters = MapFilters.from_args(params["filters"])
    city = session.get(City, filters.city_id) if filters.city_id else None
    pdf, filename = traffic_map_pdf(
        session, filters, city, dealer_name=params["dealer_name"], show_dealer=bool(params["show_dealer"])
    )
    return JobResult(pdf, filename, PDF_MIMETYPE)


def _coverage_report_pdf(session: Session, params: dict, progress) -> JobResult:
    from datetime import date

    from crm.core.models import local_today
    from crm.coverage import exports, queries
    from crm.coverage.blueprint import brand_id

    month = date.fromisoformat(params["month"])
    th = queries.thresholds(session, brand_id(), local_today())
    pdf = exports.coverage_report_pdf(session, th, month, params.get("sort", "name"), bool(params.get("descending")))
    return JobResult(pdf, _("月度覆盖报告-%(month)s.pdf", month=month.strftime("%Y-%m")), PDF_MIMETYPE)


def _apply_import(session: Session, params: dict, progress) -> JobResult:
    """A big estate list, written in one transaction with the job's completion (all rows or none)."""
    from flask import url_for

    from crm.imports import service
    from crm.imports.models import EstateImport

    estate_import = session.get(EstateImport, int(params["import_id"]))
    if estate_import is None:
        raise JobRefused(_("这份楼盘表已被删除。"))
    try:
        preview = service.apply_import(session, estate_import)
    except service.ImportApplyError as error:
        raise JobRefused(_("未导入任何数据：%(reason)s", reason=str(error))) from None
    summary = _(
        "导入完成：新增 %(added)d 个，更新 %(updated)d 个，不变 %(unchanged)d 个，跳过有问题的 %(rejected)d 行",
        **preview.counts,
    )
    return JobResult(url=url_for("estates.index"), summary=summary)


def _geocode_batch(session: Session, params: dict, progress) -> JobResult:
    """Position every estate of the dealer that has none; each step is committed, so a rerun carries on."""
    from flask import current_app, url_for

    from crm.geocoding import providers, queries, service

    try:
        provider = providers.provider_for_app(current_app)
    except providers.ProviderSetupError as error:
        raise JobRefused(str(error)) from None
    total = queries.count_unpositioned(session)
    step = service.BatchProgress(counts=service.BatchCounts(), remaining=total, cursor=None, outcomes=[])
    while True:
        step = service.batch_step(
            session, provider, cursor=step.cursor, counts=step.counts, limit=current_app.config["GEOCODER_BATCH_SIZE"]
        )
        done = step.counts.done
        progress(
            min(99, 5 + 95 * done // max(total, 1)), _("已处理 %(done)d / %(total)d 个楼盘", done=done, total=total)
        )
        if not step.outcomes or not step.remaining or step.stopped_reason:
            break
    if step.stopped_reason:
        raise JobRefused(step.stopped_reason)
    summary = _(
        "定位完成：已定位 %(positioned)d 个，未找到 %(not_found)d 个，失败 %(failed)d 个",
        positioned=step.counts.positioned,
        not_found=step.counts.not_found,
        failed=step.counts.failed,
    )
    return JobResult(url=url_for("geocoding.index"), summary=summary)


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("plans.battle_pdf", _l("作战规划图 PDF"), _battle_map_pdf),
        JobKind("maps.traffic_pdf", _l("楼盘流量地图 PDF"), _traffic_map_pdf),
        JobKind("coverage.report_pdf", _l("月度覆盖报告 PDF"), _coverage_report_pdf),
        JobKind("imports.apply", _l("导入楼盘表"), _apply_import),
        JobKind(
            "geocoding.batch", _l("批量定位楼盘"), _geocode_batch, timeout_seconds=3 * 3600, stale_after_seconds=300
        ),
    )
}


def register(kind: JobKind) -> None:
    """Add a kind (areas whose module would import too much here register themselves)."""
    KINDS[kind.name] = kind
