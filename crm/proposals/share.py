"""The public share page of a proposal: no login, an unguessable link, sized for phones."""

from flask import Blueprint

bp = Blueprint("share", __name__, url_prefix="/s")
