"""Design proposals: staff pages."""

from flask import Blueprint

bp = Blueprint("proposals", __name__, url_prefix="/proposals")
