from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.models import local_today
from crm.core.roles import Permission, permission_required
from crm.extensions import db, htmx
from crm.maps.models import TileProvider
from crm.maps.queries import map_cities, settings_for
from crm.targets import queries, service
from crm.targets.forms import TargetSettingsForm
from crm.targets.scoring import FACTOR_LABELS, FACTORS

bp = Blueprint("targets", __name__, url_prefix="/targets")

RANKING_LIMIT = 200  # the long tail is not where a year's targets come from


def _ranking_context():
    settings = settings_for(db.session, current_user.dealer_id)
    city_id = request.args.get("city_id", type=int)
    scores = queries.ranked_estates(db.session, current_user.dealer_id, settings, local_today(), city_id)
    return {
        "settings": settings,
        "scores": scores[:RANKING_LIMIT],
        "total_scored": len(scores),
        "pool": queries.traffic_pool(db.session, current_user.dealer_id, settings),
        "factors": FACTORS,
        "factor_labels": FACTOR_LABELS,
        "cities": map_cities(db.session),
        "city_id": city_id,
    }


@bp.route("/")
@permission_required(Permission.VIEW_TARGETS)
def index():
    """Estates ranked by score with the factors shown, and the traffic pool against the target."""
    return render_page_or_partial("targets/index.html", "targets/_ranking.html", **_ranking_context())


@bp.route("/mark", methods=["POST"])
@permission_required(Permission.MANAGE_TARGETS)
def mark():
    """Mark the ticked estates as targets (only unplanned ones move)."""
    estate_ids = [int(v) for v in request.form.getlist("estate_id") if v.isdigit()]
    moved = service.mark_as_targets(db.session, current_user.dealer_id, estate_ids)
    db.session.commit()
    message = _("已将 %(n)d 个楼盘设为目标", n=moved)
    if htmx:
        return render_template("targets/_ranking.html", message=message, **_ranking_context())
    flash(message, "success")
    return redirect(url_for("targets.index", city_id=request.args.get("city_id", type=int)))


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TARGETS)
def settings():
    form = TargetSettingsForm()
    if request.method == "GET":
        form.load(settings_for(db.session, current_user.dealer_id))

    def save():
        data = service.SettingsFields(
            weights={name: getattr(form, f"weight_{name}").data or 0 for name in FACTORS},
            join_rate_percent=form.join_rate_percent.data,
            conversion_rate_percent=form.conversion_rate_percent.data,
            yearly_target_orders=form.yearly_target_orders.data,
            avg_order_value=form.avg_order_value.data,
            store_ring_m=form.store_ring_m.data,
            tile_provider=TileProvider(form.tile_provider.data) if form.tile_provider.data else None,
        )
        return service.save_settings(db.session, current_user.dealer_id, data)

    if save_form(form, save):
        flash(_("已保存"), "success")
        return redirect(url_for("targets.index"))
    return render_template("targets/settings.html", form=form), form_status()
