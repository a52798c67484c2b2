"""Orders and contracts: the order list, an order for an owner at the group price (items copied from a proposal or
added from the catalog), its status flow with history, and contracts — the sales contract of an order and the
群主合作协议 with a key person — drafted, previewed live, signed (stored PDF with its SHA-256) and revised."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.errors import render_error
from crm.core.forms import form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.models import local_today
from crm.core.roles import Permission, has_permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.validation import FieldError
from crm.extensions import db, htmx
from crm.offers.queries import offer_summary
from crm.offers.service import discount_label
from crm.orders import queries, service
from crm.orders.forms import (
    ActionForm,
    CancelForm,
    CooperationForm,
    ItemForm,
    OrderForm,
    SalesContractForm,
    StatusForm,
    pad_rows,
)
from crm.orders.models import Contract, ContractKind, Order, OrderItem, OrderStatus
from crm.orders.printing import contract_filename, contract_number, render_contract
from crm.people.models import Person

bp = Blueprint("orders", __name__, url_prefix="/orders")

PER_PAGE = 50
STATUS = "orders/_status.html"
ITEMS = "orders/_items.html"
CONTRACTS = "orders/_contracts.html"


@bp.app_template_global("person_cooperation_contracts")
def _person_cooperation_contracts(person):
    """The key person's page lists their cooperation contracts (its template calls this; empty for roles that may
    not see contracts)."""
    if not has_permission(current_user, Permission.VIEW_ORDERS):
        return []
    return queries.person_cooperation_contracts(db.session, person.id)


def quantity_text(quantity) -> str:
    """3.00 → 3, 2.50 → 2.5 (a quantity as people write it)."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------- the list


@bp.route("/")
@permission_required(Permission.VIEW_ORDERS)
def index():
    filters = queries.OrderFilters.from_args(request.args)
    page = db.paginate(queries.orders_query(filters), per_page=PER_PAGE, error_out=False, count=True)
    context = {
        "filters": filters,
        "page": page,
        "estates": queries.order_estates(db.session),
        "statuses": list(OrderStatus),
    }
    return render_page_or_partial("orders/index.html", "orders/_results.html", **context)


# ---------------------------------------------------------------- an order


def _order_fields(form: OrderForm) -> service.OrderFields:
    return service.OrderFields(
        floor_plan_id=form.floor_plan_id.data,
        deposit_amount=form.deposit_amount.data,
        deposit_paid_on=form.deposit_paid_on.data,
        deposit_in_store=bool(form.deposit_in_store.data),
        delivery_on=form.delivery_on.data,
        install_on=form.install_on.data,
        payment_terms=form.payment_terms.data or "",
        building=form.building.data or "",
        unit=form.unit.data or "",
        room=form.room.data or "",
        notes=form.notes.data or "",
    )


def _pick_person(key_people_only: bool):
    """Starting an order or a contract without a person: find them by name first."""
    q = request.args.get("q", "").strip()[:50]
    people = queries.people_to_pick(db.session, q, key_people_only=key_people_only)
    return render_template("orders/pick_person.html", q=q, people=people, key_people_only=key_people_only)


@bp.route("/new", methods=["GET", "POST"])
def create():
    """A new order for an owner (`?person_id=`; without it, a search for the owner)."""
    person_id = request.args.get("person_id", type=int)
    if person_id is None:
        require(Permission.EDIT_ORDERS)
        return _pick_person(key_people_only=False)
    person = get_or_404(Person, person_id)
    require(Permission.EDIT_ORDERS)
    today = local_today()
    estate_id = person.estate_id
    proposals = queries.proposal_choices(db.session, estate_id, person.id) if estate_id else []
    pickers = {
        "floor_plans": queries.floor_plan_choices(db.session, estate_id) if estate_id else [],
        "proposals": proposals,
    }
    summary = offer_summary(db.session, estate_id, today) if estate_id else None
    if request.method == "POST":
        form = OrderForm(**pickers)
    else:
        own = [p for p in proposals if p.person_id == person.id]
        plans = {plan.id for plan in pickers["floor_plans"]}
        data = {
            "floor_plan_id": person.floor_plan_id if person.floor_plan_id in plans else None,
            "proposal_id": own[0].id if own else None,
            "building": person.building,
            "unit": person.unit,
            "room": person.room,
            "deposit_amount": summary.offer.deposit_amount if summary and summary.is_open else None,
            "deposit_paid_on": today,
        }
        form = OrderForm(data=data, **pickers)

    def create_order():
        return service.create_order(
            db.session,
            person,
            _order_fields(form),
            user=current_user,
            today=today,
            proposal_id=form.proposal_id.data,
        )

    order = save_form(form, create_order)
    if order:
        flash(_("已为 %(name)s 新建订单", name=person.name), "success")
        return redirect(url_for("orders.detail", order_id=order.id))
    return render_template(
        "orders/form.html", form=form, person=person, order=None, summary=summary, discount_label=discount_label
    ), form_status()


@bp.route("/<int:order_id>")
def detail(order_id: int):
    get_or_404(Order, order_id)
    require(Permission.VIEW_ORDERS)
    return render_template("orders/detail.html", **_detail_context(order_id))


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
def edit(order_id: int):
    order = get_or_404(Order, order_id)
    require(Permission.EDIT_ORDERS)
    pickers = {"floor_plans": queries.floor_plan_choices(db.session, order.estate_id)}
    form = OrderForm(**pickers) if request.method == "POST" else OrderForm(obj=order, **pickers)
    if save_form(form, lambda: service.update_order(db.session, order, _order_fields(form)), versioned=order):
        flash(_("已保存"), "success")
        return redirect(url_for("orders.detail", order_id=order.id))
    return render_template(
        "orders/form.html", form=form, person=order.person, order=order, summary=None, discount_label=discount_label
    ), form_status()


# ---------------------------------------------------------------- the page and its sections


def _detail_context(order_id: int, **overrides) -> dict:
    order = queries.load_order(db.session, order_id)
    can_edit = has_permission(current_user, Permission.EDIT_ORDERS)
    following = service.next_status(order.status)
    context = {
        "order": order,
        "next_status": following,
        "can_cancel": order.status in service.CANCELLABLE,
        "balance": queries.balance(order),
        "series": queries.order_contracts(db.session, order.id),
        "status_form": StatusForm(formdata=None, data={"to": following.value if following else ""}),
        "cancel_form": CancelForm(formdata=None),
        "item_form": ItemForm(products=queries.product_choices(db.session) if can_edit else (), formdata=None),
        "contract_form": ActionForm(formdata=None),
        "contract_errors": [],
        "contract_number": contract_number,
        "discount_label": discount_label,
        "quantity_text": quantity_text,
        "notice": "",
    }
    context.update(overrides)
    # A refused click (a stale page) comes back offering the step that is next now, not the one it posted.
    context["status_form"].to.data = following.value if following else ""
    return context


def _respond(order_id: int, partial: str, saved: bool, message: str, **failed):
    """After a section's form: to htmx the section (422 when refused), else a redirect or the whole page."""
    status = 200 if saved else 422
    if htmx:
        return render_template(partial, **_detail_context(order_id, notice=message if saved else "", **failed)), status
    if saved:
        flash(message, "success")
        anchor = "#" + partial.removeprefix("orders/_").removesuffix(".html")
        return redirect(url_for("orders.detail", order_id=order_id) + anchor)
    return render_template("orders/detail.html", **_detail_context(order_id, **failed)), status


# ---------------------------------------------------------------- status


@bp.route("/<int:order_id>/status", methods=["POST"])
def advance(order_id: int):
    """下一步: move the order one step along the flow (only to the step the page offered)."""
    order = get_or_404(Order, order_id)
    require(Permission.EDIT_ORDERS)
    form = StatusForm()

    def advance_order():
        following = service.next_status(order.status)
        if following is None:
            raise FieldError("status", _("订单状态已到最后一步"))
        if form.to.data != following.value:  # a stale page or a second click: say what the next step is now
            raise FieldError("status", _("下一步只能是“%(label)s”", label=following.label))
        service.change_status(db.session, order, following, current_user, form.note.data or "")
        return True

    saved = save_form(form, advance_order)
    message = _("订单已进入“%(label)s”", label=order.status.label) if saved else ""
    return _respond(order_id, STATUS, bool(saved), message, **({} if saved else {"status_form": form}))


@bp.route("/<int:order_id>/cancel", methods=["POST"])
def cancel(order_id: int):
    """取消: only before installation, with a reason."""
    order = get_or_404(Order, order_id)
    require(Permission.SIGN_CONTRACTS)
    form = CancelForm()

    def cancel_order():
        service.change_status(db.session, order, OrderStatus.CANCELLED, current_user, form.note.data or "")
        return True

    saved = save_form(form, cancel_order)
    return _respond(order_id, STATUS, bool(saved), _("订单已取消"), **({} if saved else {"cancel_form": form}))


# ---------------------------------------------------------------- items


def _item_fields(form: ItemForm) -> service.ItemFields:
    return service.ItemFields(
        name=form.name.data or "",
        quantity=form.quantity.data,
        list_price=form.list_price.data,
        unit_price=form.unit_price.data,
        product_id=form.product_id.data,
        model=form.model.data or "",
        colour=form.colour.data or "",
        unit=form.unit.data or "",
    )


@bp.route("/<int:order_id>/items", methods=["POST"])
def add_item(order_id: int):
    order = get_or_404(Order, order_id)
    require(Permission.EDIT_ORDERS)
    form = ItemForm(products=queries.product_choices(db.session))
    saved = save_form(form, lambda: service.add_item(db.session, order, _item_fields(form)))
    return _respond(order_id, ITEMS, bool(saved), _("已添加产品"), **({} if saved else {"item_form": form}))


@bp.route("/items/<int:order_item_id>/edit", methods=["GET", "POST"])
def edit_item(order_item_id: int):
    item = get_or_404(OrderItem, order_item_id)
    require(Permission.EDIT_ORDERS)
    products = queries.product_choices(db.session, item.product_id)
    form = ItemForm(products=products) if request.method == "POST" else ItemForm(obj=item, products=products)
    if save_form(form, lambda: service.update_item(db.session, item, _item_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("orders.detail", order_id=item.order_id) + "#items")
    return render_template("orders/item_form.html", form=form, item=item, order=item.order), form_status()


@bp.route("/items/<int:order_item_id>/delete", methods=["POST"])
def delete_item(order_item_id: int):
    item = get_or_404(OrderItem, order_item_id)
    require(Permission.EDIT_ORDERS)
    order_id = item.order_id
    saved = save_form(ActionForm(), lambda: service.delete_item(db.session, item) or True)
    return _respond(order_id, ITEMS, bool(saved), _("已删除产品"))


# ---------------------------------------------------------------- contracts


@bp.route("/<int:order_id>/contracts", methods=["POST"])
def create_sales_contract(order_id: int):
    """Draft the order's sales contract from its terms and the offer's promises, then open it for editing."""
    order = get_or_404(Order, order_id)
    require(Permission.EDIT_ORDERS)
    form = ActionForm()
    contract = save_form(form, lambda: service.create_sales_contract(db.session, order, current_user))
    if contract:
        flash(_("已起草销售合同：核对条款后预览，再由负责人标记已签署"), "success")
        return redirect(url_for("orders.edit_contract", contract_id=contract.id))
    return _respond(order_id, CONTRACTS, False, "", contract_errors=form.form_errors)


def _cooperation_fields(form: CooperationForm) -> service.CooperationFields:
    return service.CooperationFields(
        group_id=form.group_id.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        results=[(row.form.result.data or "", row.form.reward.data or "") for row in form.results],
        title=form.title.data or "",
        standard=form.standard.data or "",
        notes=form.notes.data or "",
    )


@bp.route("/contracts/new", methods=["GET", "POST"])
def create_cooperation_contract():
    """A new 群主合作协议 with a key person (`?person_id=`; without it, a search among key people)."""
    person_id = request.args.get("person_id", type=int)
    if person_id is None:
        require(Permission.EDIT_ORDERS)
        return _pick_person(key_people_only=True)
    person = get_or_404(Person, person_id)
    require(Permission.EDIT_ORDERS)
    groups = queries.person_groups(db.session, person)
    if request.method == "POST":
        form = CooperationForm(groups=groups)
    else:
        today = local_today()
        data = {
            "title": ContractKind.COOPERATION.label,
            "group_id": groups[0].id if len(groups) == 1 else None,
            "starts_on": today,
            "standard": "\n".join(str(clause) for clause in service.COOPERATION_STANDARD_CLAUSES),
        }
        form = CooperationForm(data=data, groups=groups)
        pad_rows(form.results)
    contract = save_form(
        form, lambda: service.create_cooperation_contract(db.session, person, _cooperation_fields(form), current_user)
    )
    if contract:
        flash(_("已起草群主合作协议：核对后预览，再由负责人标记已签署"), "success")
        return redirect(url_for("orders.contract", contract_id=contract.id))
    return render_template(
        "orders/contract_form.html", form=form, contract=None, person=person, kind=ContractKind.COOPERATION
    ), form_status()


@bp.route("/contracts/<int:contract_id>")
def contract(contract_id: int):
    get_or_404(Contract, contract_id)
    require(Permission.VIEW_ORDERS)
    return render_template("orders/contract.html", **_contract_context(contract_id))


def _contract_context(contract_id: int, errors=()) -> dict:
    contract = queries.load_contract(db.session, contract_id)
    is_sales = contract.kind == ContractKind.SALES
    return {
        "contract": contract,
        "number": contract_number(contract),
        "versions": queries.contract_versions(db.session, contract),
        "latest_version": service.latest_version(db.session, contract),
        "sales_terms": queries.sales_terms(contract) if is_sales else None,
        "cooperation_terms": None if is_sales else queries.cooperation_terms(contract),
        "action_form": ActionForm(formdata=None),
        "errors": list(errors),
    }


def _contract_action(contract: Contract, action, message: str, permission: Permission):
    """Run sign, revise or delete; a refusal shows on the contract page (422) with the reason."""
    require(permission)
    form = ActionForm()
    result = save_form(form, action)
    if result:
        flash(message, "success")
        target = result if isinstance(result, Contract) else None
        if target is not None:
            return redirect(url_for("orders.contract", contract_id=target.id))
        return None
    if not form.form_errors and not form.errors:
        abort(400)
    errors = form.form_errors or [e for messages in form.errors.values() for e in messages]
    return render_template("orders/contract.html", **_contract_context(contract.id, errors)), 422


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
def edit_contract(contract_id: int):
    contract = get_or_404(Contract, contract_id)
    require(Permission.EDIT_ORDERS)
    if contract.is_signed:
        flash(_("已签署的合同内容已冻结，不能修改；如需改动请新建修订版"), "error")
        return redirect(url_for("orders.contract", contract_id=contract.id))
    if contract.kind == ContractKind.SALES:
        return _edit_sales_contract(contract)
    return _edit_cooperation_contract(contract)


def _edit_sales_contract(contract: Contract):
    if request.method == "POST":
        form = SalesContractForm()
    else:
        terms = queries.sales_terms(contract)
        data = {
            "title": contract.title,
            "payment": terms.payment,
            "delivery_on": terms.delivery_on,
            "install_on": terms.install_on,
            "promises": [{"item": p.item, "years": p.years, "remedy": p.remedy} for p in terms.promises],
            "standard": "\n".join(terms.standard),
            "notes": terms.notes,
        }
        form = SalesContractForm(data=data)
        pad_rows(form.promises, blanks=2)

    def update():
        fields = service.SalesContractFields(
            title=form.title.data or "",
            payment=form.payment.data or "",
            delivery_on=form.delivery_on.data,
            install_on=form.install_on.data,
            promises=[(row.form.item.data, row.form.years.data, row.form.remedy.data) for row in form.promises],
            standard=form.standard.data or "",
            notes=form.notes.data or "",
        )
        return service.update_sales_contract(db.session, contract, fields)

    if save_form(form, update):
        flash(_("已保存合同草稿"), "success")
        return redirect(url_for("orders.contract", contract_id=contract.id))
    return render_template(
        "orders/contract_form.html", form=form, contract=contract, person=contract.person, kind=contract.kind
    ), form_status()


def _edit_cooperation_contract(contract: Contract):
    groups = queries.person_groups(db.session, contract.person)
    if request.method == "POST":
        form = CooperationForm(groups=groups)
    else:
        terms = queries.cooperation_terms(contract)
        data = {
            "title": contract.title,
            "group_id": contract.group_id,
            "starts_on": contract.starts_on,
            "ends_on": contract.ends_on,
            "results": [{"result": r.result, "reward": r.reward} for r in terms.results],
            "standard": "\n".join(terms.standard),
            "notes": terms.notes,
        }
        form = CooperationForm(data=data, groups=groups)
        pad_rows(form.results, blanks=2)
    if save_form(form, lambda: service.update_cooperation_contract(db.session, contract, _cooperation_fields(form))):
        flash(_("已保存合同草稿"), "success")
        return redirect(url_for("orders.contract", contract_id=contract.id))
    return render_template(
        "orders/contract_form.html", form=form, contract=contract, person=contract.person, kind=contract.kind
    ), form_status()


@bp.route("/contracts/<int:contract_id>/pdf")
def contract_pdf(contract_id: int):
    """A draft: rendered live from the order (marked 草稿). Signed: the stored bytes, checked against their
    SHA-256 first (refused when the file is missing or changed)."""
    contract = get_or_404(Contract, contract_id)
    require(Permission.VIEW_ORDERS)
    from crm.pdf.engine import pdf_response

    if not contract.is_signed:
        contract = queries.load_contract(db.session, contract_id)
        draft_name = _("%(name)s（草稿）", name=contract_filename(contract).removesuffix(".pdf"))
        return pdf_response(render_contract(db.session, contract, is_draft=True), f"{draft_name}.pdf")
    try:
        pdf = service.signed_pdf(contract)
    except service.ContractFileError as refusal:
        return render_error(409, str(refusal))
    response = pdf_response(pdf, contract_filename(contract))
    response.headers["X-Content-SHA256"] = contract.pdf_sha256
    return response


@bp.route("/contracts/<int:contract_id>/sign", methods=["POST"])
def sign_contract(contract_id: int):
    """标记已签署 (the lead): the PDF is rendered once and stored with its SHA-256; the content is frozen."""
    contract = get_or_404(Contract, contract_id)
    contract = queries.load_contract(db.session, contract.id)
    message = _("已标记签署：合同 PDF 已存档并记录 SHA-256，之后的修改需新建修订版")
    return _contract_action(
        contract, lambda: service.sign_contract(db.session, contract, current_user), message, Permission.SIGN_CONTRACTS
    )


@bp.route("/contracts/<int:contract_id>/revise", methods=["POST"])
def revise_contract(contract_id: int):
    """新建修订版: the next version as a draft with the same terms; the signed versions stay downloadable."""
    contract = get_or_404(Contract, contract_id)

    return _contract_action(
        contract,
        lambda: service.revise_contract(db.session, contract, current_user),
        _("已新建修订版草稿"),
        Permission.EDIT_ORDERS,
    )


@bp.route("/contracts/<int:contract_id>/delete", methods=["POST"])
def delete_contract(contract_id: int):
    """Throw away a draft (signed versions are kept for good)."""
    contract = get_or_404(Contract, contract_id)
    order_id, person_id, series_id = contract.order_id, contract.person_id, contract.series_id
    response = _contract_action(
        contract, lambda: service.delete_draft(db.session, contract) or True, _("已删除草稿"), Permission.EDIT_ORDERS
    )
    if response is not None:
        return response
    remaining = db.session.scalar(
        db.select(Contract.id).where(Contract.series_id == series_id).order_by(Contract.version.desc()).limit(1)
    )
    if remaining:
        return redirect(url_for("orders.contract", contract_id=remaining))
    if order_id:
        return redirect(url_for("orders.detail", order_id=order_id) + "#contracts")
    return redirect(url_for("people.detail", person_id=person_id))
