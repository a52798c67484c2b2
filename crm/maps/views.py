from flask import Blueprint, render_template

from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.estates.models import Estate

bp = Blueprint("maps", __name__, url_prefix="/map")


@bp.route("/")
@permission_required(Permission.VIEW_MAP)
def index():
    return "TODO"


@bp.route("/estates/<int:estate_id>/card")
def estate_card(estate_id: int):
    estate = get_or_404(Estate, estate_id)
    require(Permission.VIEW_MAP)
    return render_template("maps/_estate_card.html", estate=estate)
