from flask import Blueprint

bp = Blueprint("geocoding", __name__, url_prefix="/geocoding")


@bp.route("/")
def index():
    return "TODO"
