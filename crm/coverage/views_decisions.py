"""Placeholder: the month's lists, HQ decisions, leaderboards, base deals, conflicts, settings arrive later."""

from crm.core.roles import Permission, permission_required
from crm.coverage.blueprint import bp


@bp.route("/neglected")
@permission_required(Permission.VIEW_COVERAGE)
def neglected():
    return "有盘不做"


@bp.route("/supported")
@permission_required(Permission.VIEW_COVERAGE)
def supported():
    return "有盘有群有运营"


@bp.route("/leaderboards")
@permission_required(Permission.VIEW_COVERAGE)
def leaderboards():
    return "排行榜"


@bp.route("/base-deals")
@permission_required(Permission.VIEW_COVERAGE)
def base_deals():
    return "基准成交"


@bp.route("/conflicts")
@permission_required(Permission.VIEW_COVERAGE)
def conflicts():
    return "归属冲突"


@bp.route("/settings")
@permission_required(Permission.VIEW_COVERAGE)
def settings():
    return "设置"
