import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask_login import current_user

from crm.estates import queries as estate_queries
from crm.estates.models import EstateStage
from crm.extensions import db
from crm.org import queries as org_queries

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    """Each role's home: HQ sees the network, dealer staff their own dealer's pipeline."""
    stage_counts = estate_queries.count_by_stage(db.session)
    context = {
        "stage_counts": stage_counts,
        "stages": list(EstateStage),
        "estate_total": sum(stage_counts.values()),
        "households_total": estate_queries.households_total(db.session),
    }
    if current_user.is_hq:
        context["dealer_rows"] = org_queries.dealers_with_counts(db.session)
        context.update(_coverage_summary())
        return render_template("home/hq.html", **context)
    context["stores"] = org_queries.dealer_stores(db.session, current_user.dealer)
    return render_template("home/dealer.html", **context)


def _coverage_summary() -> dict:
    """What needs HQ's attention this month: estates per coverage status, undecided 有盘不做, open conflicts."""
    from crm.coverage import queries as coverage
    from crm.coverage.blueprint import current_thresholds
    from crm.coverage.models import CoverageStatus, DecisionList

    th = current_thresholds()
    month = coverage.month_start(th.today)
    _, neglected_open = coverage.candidates(db.session, th, DecisionList.NEGLECTED, month, undecided_only=True, limit=1)
    return {
        "coverage_totals": coverage.status_totals(db.session, th),
        "coverage_statuses": list(CoverageStatus),
        "neglected_open": neglected_open,
        "open_conflicts": sum(1 for conflict in coverage.conflicts(db.session, th) if conflict.assignment is None),
    }


@bp.route("/healthz")
def healthz():
    """For the load balancer: 503 when the database does not answer. Redis (when configured) is reported;
    without it the app still serves (slow work runs in the request), so it only makes the status degraded."""
    from crm.jobs.service import redis_reachable

    try:
        db.session.execute(sa.text("SELECT 1"))
        database = True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        database = False
    redis = redis_reachable()
    body = {"status": "ok" if database and redis is not False else "degraded", "database": database}
    if redis is not None:
        body["redis"] = redis
    if not database:
        body["status"] = "error"
        return jsonify(body), 503
    return jsonify(body)
