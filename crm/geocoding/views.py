from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.htmx import render_page_or_partial
from crm.core.roles import Permission, permission_required
from crm.extensions import db
from crm.geocoding import providers, queries, service
from crm.geocoding.forms import BatchStepForm
from crm.jobs.service import jobs_enabled
from crm.jobs.views import start_job

bp = Blueprint("geocoding", __name__, url_prefix="/geocoding")

# How many waiting estates the page lists for manual placement.
LIST_LIMIT = 100
# A step stops starting new lookups after this long, so a slow provider cannot hold the request.
STEP_TIME_BUDGET_S = 10.0
# Pause between two steps of a running batch (the rate limiter spaces the provider calls themselves).
POLL_DELAY = "500ms"


def _require_dealer_staff() -> None:
    # HQ's scope is every dealer: a batch started by HQ would write into all dealers' estates.
    if current_user.dealer_id is None:
        abort(403)


def _provider() -> tuple[providers.Provider | None, str]:
    try:
        return providers.provider_for_app(current_app), ""
    except providers.ProviderSetupError as error:
        return None, str(error)


def _context(progress: service.BatchProgress | None = None, setup_error: str = "") -> dict:
    context = {
        "progress": progress,
        "setup_error": setup_error,
        "provider_label": providers.provider_label(current_app.config["GEOCODER"]),
        "poll_delay": POLL_DELAY,
        "unpositioned": [],
        "unpositioned_total": 0,
        "jobs_enabled": jobs_enabled(),
    }
    if progress is None or not progress.is_running:
        context["unpositioned"] = queries.unpositioned_estates(db.session, limit=LIST_LIMIT)
        context["unpositioned_total"] = queries.count_unpositioned(db.session)
    return context


@bp.route("/")
@permission_required(Permission.GEOCODE_ESTATES)
def index():
    _require_dealer_staff()
    setup_error = _provider()[1]
    return render_template("geocoding/index.html", **_context(setup_error=setup_error))


@bp.route("/batch", methods=["POST"])
@permission_required(Permission.GEOCODE_ESTATES)
def batch():
    """One step of a batch; the returned partial asks for the next step until the batch is finished."""
    _require_dealer_staff()
    form = BatchStepForm()
    if not form.validate_on_submit():
        abort(400)
    provider, setup_error = _provider()
    if provider is None:
        return render_page_or_partial(
            "geocoding/index.html", "geocoding/_batch.html", **_context(setup_error=setup_error)
        )
    progress = service.batch_step(
        db.session,
        provider,
        cursor=form.cursor.data,
        counts=form.counts(),
        limit=current_app.config["GEOCODER_BATCH_SIZE"],
        time_budget_s=STEP_TIME_BUDGET_S,
    )
    db.session.commit()
    return render_page_or_partial("geocoding/index.html", "geocoding/_batch.html", **_context(progress))


@bp.route("/job", methods=["POST"])
@permission_required(Permission.GEOCODE_ESTATES)
def background():
    """Position every waiting estate in a background job (with Redis): the page may be closed meanwhile."""
    _require_dealer_staff()
    if not jobs_enabled():
        abort(404)
    return start_job("geocoding.batch", {}, _("批量定位楼盘"))
