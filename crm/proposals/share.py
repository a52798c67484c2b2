"""The public share page of a proposal: no login, an unguessable link, sized for phones.

Anonymous visitors see no dealer rows through the ORM (crm.core.scoping). Each view here checks the
token's shape, then looks the proposal up by its token inside `unscoped()` and reads only that
proposal's rows (its estate and floor plan, images, items, comments; its estate's offer; its dealer's
store). A revoked link, or a personal design whose owner withdrew consent, shows nothing but "withdrawn".
"""

from __future__ import annotations

import re

from flask import Blueprint, make_response, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from crm.core.models import local_today
from crm.core.scoping import unscoped
from crm.core.uploads import upload_root
from crm.core.validation import FieldError
from crm.extensions import db
from crm.proposals import service
from crm.proposals.models import Proposal, ProposalKind
from crm.proposals.printing import contact_store, discount_label, plain_number, yuan
from crm.proposals.queries import group_price

bp = Blueprint("share", __name__, url_prefix="/s")

# What secrets.token_urlsafe() makes; anything else is not a share link and never reaches the database.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
IMAGE_CACHE = "private, max-age=300"
RATE_LIMIT_RETRY_SECONDS = 600


@bp.after_request
def _public_page_headers(response):
    """Share links travel through chats: keep them out of search engines and out of other sites' logs."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(CSRFError)
def _expired_form(error):
    token = (request.view_args or {}).get("token", "")
    back = url_for("share.view", token=token) if TOKEN_SHAPE.fullmatch(token) else None
    return _unavailable(400, _("页面已过期"), _("请刷新页面后再留言。"), back=back)


def _unavailable(status: int, title: str, message: str, back: str | None = None):
    response = make_response(
        render_template("proposals/share_unavailable.html", title=title, message=message, back=back), status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found():
    return _unavailable(404, _("找不到这个方案"), _("链接可能不完整，请回到群里重新打开。"))


def _withdrawn():
    return _unavailable(410, _("方案已撤回"), _("这个方案已撤回或暂不公开。如有疑问，请在群里联系设计师。"))


def _find(token: str) -> tuple[Proposal | None, object | None]:
    """The shared proposal a token names, or the response to send instead (404 unknown, 410 withdrawn).

    Call inside `unscoped()`.
    """
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return None, _not_found()
    proposal = service.shared_proposal(db.session, token)
    if proposal is None:
        return None, _not_found()
    if not proposal.is_shared:
        return None, _withdrawn()
    return proposal, None


def _page(proposal: Proposal, form: dict | None = None, errors: dict | None = None, status: int = 200):
    """The share page (inside `unscoped()`): only this proposal's data, never the owner's."""
    html = render_template(
        "proposals/share.html",
        proposal=proposal,
        token=proposal.share_token,
        estate=proposal.estate,
        floor_plan=proposal.floor_plan,
        kind_label=_("一位邻居的个性方案") if proposal.kind == ProposalKind.PERSONAL else _("通用方案"),
        images=list(proposal.images),
        items=list(proposal.items),
        total=proposal.total,
        group=group_price(db.session, proposal, local_today()),
        store=contact_store(db.session, proposal),
        comments=list(proposal.comments),
        form=form or {},
        errors=errors or {},
        yuan=yuan,
        plain_number=plain_number,
        discount_label=discount_label,
    )
    response = make_response(html, status)
    # Revoking must take effect at once, and each view is counted: no copies in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<token>")
def view(token: str):
    with unscoped():
        proposal, refusal = _find(token)
        if refusal is not None:
            return refusal
        response = _page(proposal)
        if request.method == "GET":  # not link checkers' HEAD requests
            service.count_view(db.session, proposal)
            db.session.commit()
    return response


@bp.post("/<token>/comments")
def comment(token: str):
    form = {
        "nickname": request.form.get("nickname", ""),
        "body": request.form.get("body", ""),
        "is_flaw": bool(request.form.get("is_flaw")),
    }
    with unscoped():
        proposal, refusal = _find(token)
        if refusal is not None:
            return refusal
        try:
            added = service.add_share_comment(
                db.session,
                proposal,
                form["nickname"],
                form["body"],
                form["is_flaw"],
                client_key=service.visitor_key(request.remote_addr),
            )
        except service.RateLimited as error:
            db.session.rollback()
            response = _page(proposal, form, {"form": error.message}, 429)
            response.headers["Retry-After"] = str(RATE_LIMIT_RETRY_SECONDS)
            return response
        except FieldError as error:
            db.session.rollback()
            return _page(proposal, form, {error.field or "form": error.message}, 422)
        db.session.commit()
        anchor = f"comment-{added.id}"
    return redirect(url_for("share.view", token=token, _anchor=anchor), 303)


def _image(token: str, relative: str | None):
    if not relative:
        return _not_found()
    response = send_from_directory(upload_root(), relative, max_age=300)
    response.headers["Cache-Control"] = IMAGE_CACHE
    return response


@bp.get("/<token>/image/<int:n>")
def image(token: str, n: int):
    with unscoped():
        proposal, refusal = _find(token)
        if refusal is not None:
            return refusal
        images = list(proposal.images)
        path = images[n].path if 0 <= n < len(images) else None
    return _image(token, path)


@bp.get("/<token>/floor-plan")
def floor_plan(token: str):
    with unscoped():
        proposal, refusal = _find(token)
        if refusal is not None:
            return refusal
        path = proposal.floor_plan.image_path
    return _image(token, path)
