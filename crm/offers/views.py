"""Products and group-buy offers (利益, 风险, 门槛)."""

from flask import Blueprint

bp = Blueprint("offers", __name__, url_prefix="/offers")
