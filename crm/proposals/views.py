"""Design proposals: staff pages — the list, a proposal with its images, product list, the owner's consent,
the share link and neighbours' review, and the estate page's proposals by floor plan."""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from crm.core.forms import form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.models import local_today
from crm.core.roles import Permission, Role, has_permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.uploads import delete_upload, upload_root
from crm.estates.models import Estate
from crm.extensions import db, htmx
from crm.proposals import queries, service
from crm.proposals.forms import (
    ActionForm,
    CommentForm,
    ConsentForm,
    FlawForm,
    ImageForm,
    ItemForm,
    ProposalForm,
    ResolveForm,
    WithdrawConsentForm,
)
from crm.proposals.models import (
    ConsentChannel,
    Proposal,
    ProposalComment,
    ProposalImage,
    ProposalItem,
    ProposalKind,
)

bp = Blueprint("proposals", __name__, url_prefix="/proposals")

PER_PAGE = 50
IMAGES = "proposals/_images.html"
ITEMS = "proposals/_items.html"
SHARING = "proposals/_sharing.html"
REVIEW = "proposals/_review.html"


@bp.app_template_global("estate_proposal_plans")
def _estate_proposal_plans(estate):
    """The estate page's proposals by floor plan (its template calls this; empty for roles that may not see them)."""
    if not has_permission(current_user, Permission.VIEW_PROPOSALS):
        return []
    return queries.estate_proposals(db.session, estate)


def quantity_text(quantity: Decimal) -> str:
    """3.00 → 3, 2.50 → 2.5 (a quantity as people write it)."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def share_url(token: str) -> str:
    """The full address of a share page, to paste into the owners' group."""
    try:
        return url_for("share.view", token=token, _external=True)
    except BuildError:  # the share page is not registered in this build
        return f"{request.host_url.rstrip('/')}/s/{token}"


# ---------------------------------------------------------------- the list


@bp.route("/")
@permission_required(Permission.VIEW_PROPOSALS)
def index():
    filters = queries.ProposalFilters.from_args(request.args)
    page = db.paginate(queries.proposals_query(filters), per_page=PER_PAGE, error_out=False, count=True)
    context = {
        "filters": filters,
        "page": page,
        "lines": queries.proposal_lines(db.session, page.items),
        "estates": queries.estates_with_proposals(db.session),
        "styles": queries.style_choices(db.session),
        "kinds": list(ProposalKind),
    }
    return render_page_or_partial("proposals/index.html", "proposals/_results.html", **context)


# ---------------------------------------------------------------- proposal CRUD


def _proposal_form(estate: Estate, proposal: Proposal | None = None) -> ProposalForm:
    floor_plan_id = proposal.floor_plan_id if proposal else request.args.get("floor_plan_id", type=int)
    pickers = {
        "floor_plans": queries.floor_plan_choices(db.session, estate.id),
        "people": queries.owner_choices(db.session, estate.id, floor_plan_id, proposal.person_id if proposal else None),
        "designers": queries.designer_choices(db.session, estate.dealer_id, proposal.designer_id if proposal else None),
    }
    if request.method == "POST":
        return ProposalForm(**pickers)
    if proposal is not None:
        data = {
            "title": proposal.title,
            "floor_plan_id": proposal.floor_plan_id,
            "kind": proposal.kind.value,
            "style": proposal.style,
            "person_id": proposal.person_id,
            "designer_id": proposal.designer_id,
            "description": proposal.description,
        }
        return ProposalForm(data=data, **pickers)
    kind = request.args.get("kind", "")
    data = {
        "floor_plan_id": floor_plan_id,
        "kind": kind if kind in {k.value for k in ProposalKind} else ProposalKind.GENERAL.value,
        "person_id": request.args.get("person_id", type=int),
        "designer_id": current_user.id if current_user.role == Role.DESIGNER else None,
    }
    return ProposalForm(data=data, **pickers)


def _proposal_fields(form: ProposalForm) -> service.ProposalFields:
    return service.ProposalFields(
        title=form.title.data,
        floor_plan_id=form.floor_plan_id.data,
        kind=ProposalKind(form.kind.data),
        style=form.style.data or "",
        description=form.description.data or "",
        person_id=form.person_id.data,
        designer_id=form.designer_id.data,
    )


def _form_page(form: ProposalForm, estate: Estate, proposal: Proposal | None):
    return render_template(
        "proposals/form.html", form=form, estate=estate, proposal=proposal, styles=queries.style_choices(db.session)
    ), form_status()


@bp.route("/new", methods=["GET", "POST"])
def create():
    """A new proposal for an estate (`?estate_id=`; `floor_plan_id`, `kind` and `person_id` preset the form)."""
    estate = get_or_404(Estate, request.args.get("estate_id", type=int))
    require(Permission.EDIT_PROPOSALS)
    form = _proposal_form(estate)
    proposal = save_form(form, lambda: service.create_proposal(db.session, estate, _proposal_fields(form)))
    if proposal:
        flash(_("已新建方案：%(title)s", title=proposal.title), "success")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return _form_page(form, estate, None)


@bp.route("/<int:proposal_id>")
def detail(proposal_id: int):
    get_or_404(Proposal, proposal_id)
    require(Permission.VIEW_PROPOSALS)
    proposal = queries.load_proposal(db.session, proposal_id)
    return render_template("proposals/detail.html", **_detail_context(proposal))


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
def edit(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.EDIT_PROPOSALS)
    form = _proposal_form(proposal.estate, proposal)
    if save_form(form, lambda: service.update_proposal(db.session, proposal, _proposal_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return _form_page(form, proposal.estate, proposal)


@bp.route("/<int:proposal_id>/delete", methods=["POST"])
def delete(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.EDIT_PROPOSALS)
    estate_id, title, paths = proposal.estate_id, proposal.title, service.image_paths(proposal)
    if not save_form(ActionForm(), lambda: service.delete_proposal(db.session, proposal) or True):
        abort(400)
    for path in paths:  # the files go only once the rows are gone for good
        delete_upload(path)
    flash(_("已删除方案：%(title)s", title=title), "success")
    return redirect(url_for("estates.detail", estate_id=estate_id))


# ---------------------------------------------------------------- the page and its sections


def _detail_context(proposal: Proposal, **overrides) -> dict:
    can_edit = has_permission(current_user, Permission.EDIT_PROPOSALS)
    resolve_forms = overrides.pop("resolve_forms", {})
    context = {
        "proposal": proposal,
        "group_price": (
            queries.group_price(db.session, proposal, local_today())
            if has_permission(current_user, Permission.VIEW_OFFERS)
            else None
        ),
        "share_url": share_url(proposal.share_token) if proposal.share_token else "",
        "can_print": "proposals.print_pdf" in current_app.view_functions,
        "max_images": service.MAX_IMAGES,
        "image_form": ImageForm(formdata=None),
        "item_form": ItemForm(products=queries.product_choices(db.session) if can_edit else (), formdata=None),
        "consent_form": ConsentForm(formdata=None),
        "withdraw_form": WithdrawConsentForm(formdata=None),
        "share_form": ActionForm(formdata=None),
        "comment_form": CommentForm(formdata=None),
        "sharing_errors": [],
        "review_errors": [],
        "resolve_form": lambda comment: (
            resolve_forms.get(comment.id) or ResolveForm(formdata=None, prefix=f"c{comment.id}")
        ),
        "nicknames": (
            queries.group_nicknames(db.session, proposal.estate_id)
            if has_permission(current_user, Permission.REVIEW_PROPOSALS)
            else []
        ),
        "can_dismiss": lambda comment: service.can_dismiss_comment(current_user, comment),
        "quantity_text": quantity_text,
        "notice": "",
    }
    context.update(overrides)
    return context


def _respond(proposal_id: int, partial: str, saved: bool, message: str, **failed):
    """After a section's form: to htmx the section (and the open-flaw banner for review), else a redirect or
    the whole page with the refused form (422)."""
    proposal = queries.load_proposal(db.session, proposal_id)
    status = 200 if saved else 422
    if not saved and partial in (SHARING, REVIEW):
        # Refusals of the consent, share and review buttons show above the section: their form may be gone.
        key = "sharing_errors" if partial == SHARING else "review_errors"
        failed.setdefault(key, [e for form in _forms(failed) for e in form.form_errors])
    if htmx:
        context = _detail_context(proposal, notice=message if saved else "", **failed)
        html = render_template(partial, **context)
        if partial == REVIEW:
            html += render_template("proposals/_flaws.html", oob=True, **context)
        return html, status
    if saved:
        flash(message, "success")
        anchor = "#" + partial.removeprefix("proposals/_").removesuffix(".html")
        return redirect(url_for("proposals.detail", proposal_id=proposal_id) + anchor)
    return render_template("proposals/detail.html", **_detail_context(proposal, **failed)), status


def _forms(failed: dict) -> list:
    forms = [value for value in failed.values() if hasattr(value, "form_errors")]
    return forms + list(failed.get("resolve_forms", {}).values())


# ---------------------------------------------------------------- images


@bp.route("/<int:proposal_id>/images", methods=["POST"])
def add_image(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.EDIT_PROPOSALS)
    form = ImageForm()
    saved = save_form(
        form, lambda: service.add_uploaded_image(db.session, proposal, form.image.data, form.caption.data or "")
    )
    return _respond(proposal_id, IMAGES, bool(saved), _("已添加图片"), **({} if saved else {"image_form": form}))


@bp.route("/images/<int:proposal_image_id>")
def image(proposal_image_id: int):
    image = get_or_404(ProposalImage, proposal_image_id)
    require(Permission.VIEW_PROPOSALS)
    response = send_from_directory(upload_root(), image.path, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/images/<int:proposal_image_id>/delete", methods=["POST"])
def remove_image(proposal_image_id: int):
    image = get_or_404(ProposalImage, proposal_image_id)
    require(Permission.EDIT_PROPOSALS)
    proposal_id = image.proposal_id
    path = save_form(ActionForm(), lambda: service.remove_image(db.session, image))
    if path:
        delete_upload(path)
    return _respond(proposal_id, IMAGES, bool(path), _("已删除图片"))


# ---------------------------------------------------------------- the product list


def _item_fields(form: ItemForm) -> service.ItemFields:
    return service.ItemFields(
        name=form.name.data or "",
        quantity=form.quantity.data,
        unit_price=form.unit_price.data,
        product_id=form.product_id.data,
        model=form.model.data or "",
        colour=form.colour.data or "",
        unit=form.unit.data or "",
    )


@bp.route("/<int:proposal_id>/items", methods=["POST"])
def add_item(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.EDIT_PROPOSALS)
    form = ItemForm(products=queries.product_choices(db.session))
    saved = save_form(form, lambda: service.add_item(db.session, proposal, _item_fields(form)))
    return _respond(proposal_id, ITEMS, bool(saved), _("已添加产品"), **({} if saved else {"item_form": form}))


@bp.route("/items/<int:proposal_item_id>/edit", methods=["GET", "POST"])
def edit_item(proposal_item_id: int):
    item = get_or_404(ProposalItem, proposal_item_id)
    require(Permission.EDIT_PROPOSALS)
    products = queries.product_choices(db.session, item.product_id)
    if request.method == "GET":
        data = {
            "product_id": item.product_id,
            "name": item.name,
            "model": item.model,
            "colour": item.colour,
            "unit": item.unit,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
        }
        form = ItemForm(products=products, data=data)
    else:
        form = ItemForm(products=products)
    if save_form(form, lambda: service.update_item(db.session, item, _item_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("proposals.detail", proposal_id=item.proposal_id) + "#items")
    return render_template(
        "proposals/item_form.html", form=form, item=item, proposal=item.proposal, quantity_text=quantity_text
    ), form_status()


@bp.route("/items/<int:proposal_item_id>/delete", methods=["POST"])
def delete_item(proposal_item_id: int):
    item = get_or_404(ProposalItem, proposal_item_id)
    require(Permission.EDIT_PROPOSALS)
    proposal_id = item.proposal_id
    saved = save_form(ActionForm(), lambda: service.delete_item(db.session, item) or True)
    return _respond(proposal_id, ITEMS, bool(saved), _("已删除产品"))


# ---------------------------------------------------------------- consent and the share link


@bp.route("/<int:proposal_id>/consent", methods=["POST"])
def record_consent(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.RECORD_CONSENT)
    form = ConsentForm()

    def record():
        service.record_consent(db.session, proposal, current_user, ConsentChannel(form.channel.data), form.note.data)
        return True

    saved = save_form(form, record)
    return _respond(proposal_id, SHARING, bool(saved), _("已记录业主同意"), **({} if saved else {"consent_form": form}))


@bp.route("/<int:proposal_id>/consent/withdraw", methods=["POST"])
def withdraw_consent(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.RECORD_CONSENT)
    form = WithdrawConsentForm()

    def withdraw():
        service.withdraw_consent(db.session, proposal, current_user, form.note.data)
        return True

    saved = save_form(form, withdraw)
    message = _("已撤回业主同意：分享页不再显示这个方案")
    return _respond(proposal_id, SHARING, bool(saved), message, **({} if saved else {"withdraw_form": form}))


@bp.route("/<int:proposal_id>/share", methods=["POST"])
def publish(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.EDIT_PROPOSALS)
    form = ActionForm()
    saved = save_form(form, lambda: service.publish_share(db.session, proposal))
    message = _("已生成分享链接，复制后发到业主群")
    return _respond(proposal_id, SHARING, bool(saved), message, **({} if saved else {"share_form": form}))


@bp.route("/<int:proposal_id>/share/revoke", methods=["POST"])
def revoke(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.EDIT_PROPOSALS)
    form = ActionForm()
    saved = save_form(form, lambda: service.revoke_share(db.session, proposal) or True)
    message = _("已撤回分享：旧链接不再显示方案")
    return _respond(proposal_id, SHARING, bool(saved), message, **({} if saved else {"share_form": form}))


# ---------------------------------------------------------------- neighbours' review


@bp.route("/<int:proposal_id>/comments", methods=["POST"])
def add_comment(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id)
    require(Permission.REVIEW_PROPOSALS)
    form = CommentForm()
    saved = save_form(
        form,
        lambda: service.add_staff_comment(
            db.session, proposal, current_user, form.nickname.data, form.body.data, form.is_flaw.data
        ),
    )
    return _respond(proposal_id, REVIEW, bool(saved), _("已添加评论"), **({} if saved else {"comment_form": form}))


@bp.route("/comments/<int:comment_id>/flaw", methods=["POST"])
def mark_flaw(comment_id: int):
    """Mark a comment as a flaw (瑕疵), or take the mark off (`is_flaw` absent)."""
    comment = get_or_404(ProposalComment, comment_id)
    require(Permission.REVIEW_PROPOSALS)
    form = FlawForm()
    if not form.is_flaw.data and not service.can_dismiss_comment(current_user, comment):
        abort(403)
    saved = save_form(form, lambda: service.mark_flaw(db.session, comment, form.is_flaw.data) or True)
    message = _("已标记为瑕疵") if form.is_flaw.data else _("已取消瑕疵标记")
    return _respond(comment.proposal_id, REVIEW, bool(saved), message)


@bp.route("/comments/<int:comment_id>/resolve", methods=["POST"])
def resolve_flaw(comment_id: int):
    comment = get_or_404(ProposalComment, comment_id)
    require(Permission.RESOLVE_FLAWS)
    proposal_id = comment.proposal_id
    form = ResolveForm(prefix=f"c{comment.id}")
    saved = save_form(
        form, lambda: service.resolve_flaw(db.session, comment, current_user, form.resolution.data) or True
    )
    failed = {} if saved else {"resolve_forms": {comment_id: form}}
    return _respond(proposal_id, REVIEW, bool(saved), _("已处理瑕疵"), **failed)


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
def delete_comment(comment_id: int):
    comment = get_or_404(ProposalComment, comment_id)
    require(Permission.REVIEW_PROPOSALS)
    if not service.can_dismiss_comment(current_user, comment):
        abort(403)
    proposal_id = comment.proposal_id
    saved = save_form(ActionForm(), lambda: service.delete_comment(db.session, comment) or True)
    return _respond(proposal_id, REVIEW, bool(saved), _("已删除评论"))


# The staff PDF route lives in its own module; importing it here registers it on this blueprint.
from crm.proposals import pdf_views  # noqa: E402, F401
