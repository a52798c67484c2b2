"""覆盖总览: the dealer table (sortable, month by month), its drill-down dealer → city → estate, and its exports.

Estate facts and counts only: no page here names an owner, a phone, a group or a dealer's staff.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_babel import gettext as _

from crm.core.models import local_today
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.xlsx import xlsx_response
from crm.coverage import exports, queries
from crm.coverage.blueprint import bp, current_thresholds, requested_month
from crm.coverage.models import CoverageStatus
from crm.estates.models import City, Estate
from crm.extensions import db
from crm.jobs.service import should_defer
from crm.jobs.views import start_job
from crm.org.models import Dealer


def _sorting() -> tuple[str, bool]:
    """The column (?sort=, unknown → by name) and direction (?dir=desc) the table is ordered by."""
    sort = request.args.get("sort", "name")
    if sort not in queries.SORT_KEYS:
        sort = "name"
    return sort, request.args.get("dir") == "desc"


def _table_context(rows: list[queries.CoverageRow], month) -> dict:
    sort, descending = _sorting()
    return {
        "rows": queries.sort_rows(rows, sort, descending),
        "totals": queries.network_totals(rows),
        "sort": sort,
        "descending": descending,
        "month": month,
        "month_arg": month.strftime("%Y-%m"),
        "this_month": queries.month_start(local_today()),
        "CoverageStatus": CoverageStatus,
    }


@bp.route("/")
@permission_required(Permission.VIEW_COVERAGE)
def index():
    """Every dealer's coverage counts and rates, and the month's deposits and orders against last month."""
    th, month = current_thresholds(), requested_month()
    rows = queries.dealer_table(db.session, th, month)
    by_status = queries.network_totals(rows).counts.by_status  # the same pass as the table
    return render_template("coverage/index.html", th=th, by_status=by_status, **_table_context(rows, month))


@bp.route("/dealers/<int:dealer_id>")
def dealer(dealer_id: int):
    """One dealer's coverage per city."""
    dealer = get_or_404(Dealer, dealer_id)
    require(Permission.VIEW_COVERAGE)
    th, month = current_thresholds(), requested_month()
    rows = queries.dealer_cities(db.session, th, dealer.id, month)
    return render_template("coverage/dealer.html", dealer=dealer, th=th, **_table_context(rows, month))


@bp.route("/dealers/<int:dealer_id>/cities/<int:city_id>")
def city(dealer_id: int, city_id: int):
    """One dealer's estates in one city with their coverage status."""
    dealer = get_or_404(Dealer, dealer_id)
    city = db.session.get(City, city_id)
    if city is None:
        abort(404)
    require(Permission.VIEW_COVERAGE)
    th = current_thresholds()
    estates = queries.estates_coverage(db.session, th, dealer_id=dealer.id, city_id=city.id)
    return render_template(
        "coverage/city.html",
        dealer=dealer,
        city=city,
        estates=estates,
        th=th,
        by_status={status: sum(1 for e in estates if e.status is status) for status in CoverageStatus},
        CoverageStatus=CoverageStatus,
    )


@bp.route("/estates/<int:estate_id>")
def estate(estate_id: int):
    """An estate's facts, its coverage and HQ's decisions on it (no group names, no people)."""
    estate = get_or_404(Estate, estate_id)
    require(Permission.VIEW_COVERAGE)
    th = current_thresholds()
    return render_template(
        "coverage/estate.html",
        estate=estate,
        coverage=queries.estate_coverage(db.session, th, estate.id),
        decisions=queries.decision_history(db.session, estate.id),
        th=th,
    )


@bp.route("/export.xlsx")
@permission_required(Permission.VIEW_COVERAGE)
def export_xlsx():
    """The dealer table as on the page (same month, same order) as an Excel workbook."""
    th, month = current_thresholds(), requested_month()
    sort, descending = _sorting()
    rows = queries.dealer_table(db.session, th, month)
    data = exports.dealer_workbook(queries.sort_rows(rows, sort, descending), queries.network_totals(rows), th, month)
    filename = _("覆盖报表-%(month)s.xlsx", month=month.strftime("%Y-%m"))
    return xlsx_response(data, filename, f"coverage-{month:%Y-%m}.xlsx")


@bp.route("/report.pdf")
@permission_required(Permission.VIEW_COVERAGE)
def report_pdf():
    """The monthly coverage report: totals, the dealer table, the month's two lists, the leaderboards."""
    from crm.pdf.engine import pdf_response

    th, month = current_thresholds(), requested_month()
    sort, descending = _sorting()
    dealers = db.session.scalar(sa.select(sa.func.count(Dealer.id)))
    if should_defer(dealers, "JOB_THRESHOLD_REPORT_DEALERS"):
        params = {"month": month.isoformat(), "sort": sort, "descending": descending}
        return start_job("coverage.report_pdf", params, _("月度覆盖报告 %(month)s", month=month.strftime("%Y-%m")))
    pdf = exports.coverage_report_pdf(db.session, th, month, sort, descending)
    return pdf_response(pdf, _("月度覆盖报告-%(month)s.pdf", month=month.strftime("%Y-%m")))
