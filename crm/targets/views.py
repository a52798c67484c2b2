from flask import Blueprint

bp = Blueprint("targets", __name__, url_prefix="/targets")


@bp.route("/")
def index():
    return "TODO"
