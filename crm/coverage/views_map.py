"""Placeholder: the national coverage map arrives in a later step."""

from crm.core.roles import Permission, permission_required
from crm.coverage.blueprint import bp


@bp.route("/map")
@permission_required(Permission.VIEW_COVERAGE)
def national_map():
    return "全国地图"
