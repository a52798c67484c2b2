"""修改记录: the audit trail for a dealer lead (their dealer) and for HQ (its decisions)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from crm.audit import queries
from crm.audit.service import entity_labels
from crm.core.roles import Permission, permission_required
from crm.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@permission_required(Permission.VIEW_AUDIT)
def index():
    hq = current_user.is_hq
    entity = request.args.get("entity", "")
    page = queries.entries_page(
        db.session,
        hq=hq,
        entity=entity,
        entity_id=request.args.get("entity_id", type=int),
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "audit/index.html",
        audit=page,
        entity=entity,
        entity_id=request.args.get("entity_id", type=int),
        labels=entity_labels(hq),
        field_label=queries.field_label,
        shown=queries.shown_value,
    )
