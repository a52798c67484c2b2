"""Products and group-buy offers (利益, 风险, 门槛): the catalog, each estate's offer with its tiers, early birds and
risk promises, and the live status that follows the deposits recorded in the estate's groups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.models import local_today
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.validation import FieldError
from crm.estates.models import Estate
from crm.extensions import db, htmx
from crm.offers import queries, service
from crm.offers.forms import EarlyBirdForm, OfferForm, ProductForm, PromiseForm, TierForm
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise

bp = Blueprint("offers", __name__, url_prefix="/offers")


# ---------------------------------------------------------------- products (产品库)


def _product_fields(form: ProductForm) -> service.ProductFields:
    return service.ProductFields(
        name=form.name.data or "",
        unit_price=form.unit_price.data,
        category=form.category.data or "",
        model=form.model.data or "",
        colour=form.colour.data or "",
        unit=form.unit.data or "",
        tier=ProductTier(form.tier.data) if form.tier.data in set(ProductTier) else ProductTier.REGULAR,
    )


@bp.route("/products")
@permission_required(Permission.VIEW_OFFERS)
def products():
    return render_template("offers/products.html", products=queries.products(db.session))


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_OFFERS)
def create_product():
    form = ProductForm()
    product = save_form(form, lambda: service.create_product(db.session, current_user.dealer_id, _product_fields(form)))
    if product:
        flash(_("已添加产品：%(name)s", name=product.name), "success")
        return redirect(url_for("offers.products"))
    return render_template("offers/product_form.html", form=form, product=None), form_status()


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id: int):
    product = get_or_404(Product, product_id)
    require(Permission.MANAGE_OFFERS)
    form = ProductForm(obj=product)
    if request.method == "GET":
        form.tier.data = product.tier.value
    if save_form(form, lambda: service.update_product(db.session, product, _product_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("offers.products"))
    return render_template("offers/product_form.html", form=form, product=product), form_status()


@bp.route("/products/<int:product_id>/deactivate", methods=["POST"])
def deactivate_product(product_id: int):
    product = get_or_404(Product, product_id)
    require(Permission.MANAGE_OFFERS)
    service.set_product_active(db.session, product, False)
    db.session.commit()
    flash(_("已停用产品：%(name)s（已写进方案的不受影响）", name=product.name), "success")
    return redirect(url_for("offers.products"))


@bp.route("/products/<int:product_id>/reactivate", methods=["POST"])
def reactivate_product(product_id: int):
    product = get_or_404(Product, product_id)
    require(Permission.MANAGE_OFFERS)
    service.set_product_active(db.session, product, True)
    db.session.commit()
    flash(_("已重新启用产品：%(name)s", name=product.name), "success")
    return redirect(url_for("offers.products"))


# ---------------------------------------------------------------- offers (团购方案)


def _offer_fields(form: OfferForm) -> service.OfferFields:
    return service.OfferFields(
        title=form.title.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        event_on=form.event_on.data,
        store_gift=form.store_gift.data or "",
        deposit_amount=form.deposit_amount.data,
        notes=form.notes.data or "",
    )


@bp.route("/")
@permission_required(Permission.VIEW_OFFERS)
def index():
    filters = queries.OfferFilters.from_args(request.args)
    context = {
        "filters": filters,
        "summaries": queries.offers(db.session, filters, local_today()),
        "estates": queries.offer_estates(db.session),
    }
    if htmx and not htmx.boosted:
        return render_template("offers/_results.html", **context)
    return render_template("offers/index.html", **context)


@bp.route("/new", methods=["GET", "POST"])
def create():
    estate = get_or_404(Estate, request.args.get("estate_id", type=int))
    require(Permission.MANAGE_OFFERS)
    form = OfferForm()
    if request.method == "GET":
        form.title.data = _("%(estate)s团购", estate=estate.name)
        form.starts_on.data = local_today()
    offer = save_form(form, lambda: service.create_offer(db.session, estate, _offer_fields(form)))
    if offer:
        flash(_("已创建团购方案：%(title)s（接着添加阶梯价、早鸟和服务承诺）", title=offer.title), "success")
        return redirect(url_for("offers.detail", offer_id=offer.id))
    return render_template("offers/form.html", form=form, estate=estate, offer=None), form_status()


@bp.route("/<int:offer_id>")
def detail(offer_id: int):
    get_or_404(GroupOffer, offer_id)
    require(Permission.VIEW_OFFERS)
    return render_template("offers/detail.html", **_body_context(offer_id))


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
def edit(offer_id: int):
    offer = get_or_404(GroupOffer, offer_id)
    require(Permission.MANAGE_OFFERS)
    form = OfferForm(obj=offer)
    if save_form(form, lambda: service.update_offer(db.session, offer, _offer_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("offers.detail", offer_id=offer.id))
    return render_template("offers/form.html", form=form, estate=offer.estate, offer=offer), form_status()


@bp.route("/<int:offer_id>/deactivate", methods=["POST"])
def deactivate(offer_id: int):
    offer = get_or_404(GroupOffer, offer_id)
    require(Permission.MANAGE_OFFERS)
    service.set_offer_active(db.session, offer, False)
    db.session.commit()
    flash(_("已停用团购方案：%(title)s", title=offer.title), "success")
    return redirect(url_for("offers.detail", offer_id=offer.id))


@bp.route("/<int:offer_id>/reactivate", methods=["POST"])
def reactivate(offer_id: int):
    offer = get_or_404(GroupOffer, offer_id)
    require(Permission.MANAGE_OFFERS)
    service.set_offer_active(db.session, offer, True)
    db.session.commit()
    flash(_("已重新启用团购方案：%(title)s", title=offer.title), "success")
    return redirect(url_for("offers.detail", offer_id=offer.id))


# ---------------------------------------------------------------- the offer's parts: tiers, early birds, promises


def _body_context(offer_id: int, message: str | None = None, error: str | None = None, **forms) -> dict:
    offer = queries.load_offer(db.session, offer_id)
    summary = queries.summary_of(db.session, offer, local_today())
    return {
        "offer": offer,
        "summary": summary,
        "price_lines": summary.price_lines(queries.active_products(db.session)),
        "tier_form": _or_blank(forms.get("tier_form"), TierForm),
        "early_bird_form": _or_blank(forms.get("early_bird_form"), EarlyBirdForm),
        "promise_form": _or_blank(forms.get("promise_form"), PromiseForm),
        "discount_label": service.discount_label,
        "promise_line": queries.promise_line,
        "message": message,
        "error": error,
    }


def _or_blank(form, form_class):
    """The form a refused post came with (to show its errors), else an empty one."""
    return form if form is not None else form_class(formdata=None)


def _body_response(offer_id: int, saved: bool, message: str, **forms):
    """After an edit of the offer's parts: the body partial to htmx (422 when refused), else redirect or re-show."""
    status = 200 if saved else 422
    if htmx:
        context = _body_context(offer_id, message=message if saved else None, **forms)
        return render_template("offers/_body.html", **context), status
    if saved:
        flash(message, "success")
        return redirect(url_for("offers.detail", offer_id=offer_id))
    return render_template("offers/detail.html", **_body_context(offer_id, **forms)), status


def _run(offer_id: int, action, message: str):
    """Run a formless edit (delete, move) and commit; a refusal answers with the body and the reason."""
    try:
        action()
    except FieldError as error:
        db.session.rollback()
        return _body_response(offer_id, False, "", error=error.message)
    db.session.commit()
    return _body_response(offer_id, True, message)


def _tier_fields(form: TierForm) -> service.TierFields:
    return service.TierFields(
        min_deposits=form.min_deposits.data, discount_percent=form.discount_percent.data, note=form.note.data or ""
    )


def _early_bird_fields(form: EarlyBirdForm) -> service.EarlyBirdFields:
    return service.EarlyBirdFields(first_n=form.first_n.data, benefit=form.benefit.data or "")


def _promise_fields(form: PromiseForm) -> service.PromiseFields:
    return service.PromiseFields(item=form.item.data or "", years=form.years.data, remedy=form.remedy.data or "")


@bp.route("/<int:offer_id>/tiers", methods=["POST"])
def add_tier(offer_id: int):
    offer = get_or_404(GroupOffer, offer_id)
    require(Permission.MANAGE_OFFERS)
    form = TierForm()
    saved = save_form(form, lambda: service.add_tier(db.session, offer, _tier_fields(form)))
    return _body_response(offer_id, bool(saved), _("已添加档位"), tier_form=None if saved else form)


@bp.route("/tiers/<int:tier_id>/edit", methods=["GET", "POST"])
def edit_tier(tier_id: int):
    tier = get_or_404(OfferTier, tier_id)
    require(Permission.MANAGE_OFFERS)
    form = TierForm(obj=tier)
    if save_form(form, lambda: service.update_tier(db.session, tier, _tier_fields(form))):
        flash(_("已保存档位"), "success")
        return redirect(url_for("offers.detail", offer_id=tier.offer_id))
    return render_template(
        "offers/part_form.html",
        form=form,
        offer=tier.offer,
        title=_("编辑档位"),
        fields=("min_deposits", "discount_percent", "note"),
    ), form_status()


@bp.route("/tiers/<int:tier_id>/delete", methods=["POST"])
def delete_tier(tier_id: int):
    tier = get_or_404(OfferTier, tier_id)
    require(Permission.MANAGE_OFFERS)
    return _run(tier.offer_id, lambda: service.delete_tier(db.session, tier), _("已删除档位"))


@bp.route("/<int:offer_id>/early-birds", methods=["POST"])
def add_early_bird(offer_id: int):
    offer = get_or_404(GroupOffer, offer_id)
    require(Permission.MANAGE_OFFERS)
    form = EarlyBirdForm()
    saved = save_form(form, lambda: service.add_early_bird(db.session, offer, _early_bird_fields(form)))
    return _body_response(offer_id, bool(saved), _("已添加早鸟优惠"), early_bird_form=None if saved else form)


@bp.route("/early-birds/<int:early_bird_id>/delete", methods=["POST"])
def delete_early_bird(early_bird_id: int):
    bird = get_or_404(EarlyBird, early_bird_id)
    require(Permission.MANAGE_OFFERS)
    return _run(bird.offer_id, lambda: service.delete_early_bird(db.session, bird), _("已删除早鸟优惠"))


@bp.route("/<int:offer_id>/promises", methods=["POST"])
def add_promise(offer_id: int):
    offer = get_or_404(GroupOffer, offer_id)
    require(Permission.MANAGE_OFFERS)
    form = PromiseForm()
    saved = save_form(form, lambda: service.add_promise(db.session, offer, _promise_fields(form)))
    return _body_response(offer_id, bool(saved), _("已添加服务承诺"), promise_form=None if saved else form)


@bp.route("/promises/<int:promise_id>/edit", methods=["GET", "POST"])
def edit_promise(promise_id: int):
    promise = get_or_404(RiskPromise, promise_id)
    require(Permission.MANAGE_OFFERS)
    form = PromiseForm(obj=promise)
    if save_form(form, lambda: service.update_promise(db.session, promise, _promise_fields(form))):
        flash(_("已保存服务承诺"), "success")
        return redirect(url_for("offers.detail", offer_id=promise.offer_id))
    return render_template(
        "offers/part_form.html",
        form=form,
        offer=promise.offer,
        title=_("编辑服务承诺"),
        fields=("years", "item", "remedy"),
    ), form_status()


@bp.route("/promises/<int:promise_id>/delete", methods=["POST"])
def delete_promise(promise_id: int):
    promise = get_or_404(RiskPromise, promise_id)
    require(Permission.MANAGE_OFFERS)
    return _run(promise.offer_id, lambda: service.delete_promise(db.session, promise), _("已删除服务承诺"))


@bp.route("/promises/<int:promise_id>/move", methods=["POST"])
def move_promise(promise_id: int):
    promise = get_or_404(RiskPromise, promise_id)
    require(Permission.MANAGE_OFFERS)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    return _run(promise.offer_id, lambda: service.move_promise(db.session, promise, offset), _("已调整顺序"))
