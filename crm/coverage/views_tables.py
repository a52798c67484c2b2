"""Placeholder: the dealer table and its drill-down arrive in a later step."""

from crm.core.roles import Permission, permission_required
from crm.coverage.blueprint import bp


@bp.route("/")
@permission_required(Permission.VIEW_COVERAGE)
def index():
    return "覆盖总览"
