"""The month's lists HQ decides on (有盘不做, 有盘有群有运营), territory conflicts, leaderboards, the base-deals
table and the thresholds. hq_viewer reads every page; hq_admin (DECIDE_COVERAGE) writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.validation import FieldError
from crm.coverage import queries, service
from crm.coverage.blueprint import bp, brand_id, current_thresholds, requested_month
from crm.coverage.forms import AssignForm, BaseRateForm, DecisionForm, SettingsForm
from crm.coverage.models import BaseDealRate, DecisionKind, DecisionList
from crm.estates.models import Estate
from crm.extensions import db, htmx
from crm.org.models import Dealer, User

PER_PAGE = 50
LIST_ENDPOINTS = {DecisionList.NEGLECTED: "coverage.neglected", DecisionList.SUPPORTED: "coverage.supported"}


# ---------------------------------------------------------------- the month's lists (有盘不做, 有盘有群有运营)


@dataclass(frozen=True)
class ListFilters:
    """?dealer_id=, ?show=undecided|all and ?page= of a list page."""

    dealer_id: int | None = None
    undecided_only: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args) -> ListFilters:
        dealer_id = args.get("dealer_id", type=int)
        page = args.get("page", default=1, type=int) or 1
        return cls(dealer_id=dealer_id, undecided_only=args.get("show") == "undecided", page=max(page, 1))

    def url_args(self, month: date) -> dict:
        """The query string that shows this list again (without the page)."""
        args = {"month": month.strftime("%Y-%m")}
        if self.dealer_id:
            args["dealer_id"] = self.dealer_id
        if self.undecided_only:
            args["show"] = "undecided"
        return args


@dataclass(frozen=True)
class ListPage:
    """What the pager macro needs."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _list_context(list_kind: DecisionList, failed: tuple[Estate, DecisionForm] | None = None) -> dict:
    th = current_thresholds()
    month = requested_month()
    filters = ListFilters.from_args(request.args)

    def page_of(number: int):
        return queries.candidates(
            db.session,
            th,
            list_kind,
            month,
            dealer_id=filters.dealer_id,
            undecided_only=filters.undecided_only,
            limit=PER_PAGE,
            offset=(number - 1) * PER_PAGE,
        )

    number = filters.page
    rows, total = page_of(number)
    if not rows and total and number > 1:  # past the end (the list shrank): show its last page
        number = ListPage(1, PER_PAGE, total).pages
        rows, total = page_of(number)
    dealers = db.session.execute(sa.select(Dealer.id, Dealer.code, Dealer.name).order_by(Dealer.code)).all()
    return {
        "list_kind": list_kind,
        "endpoint": LIST_ENDPOINTS[list_kind],
        "th": th,
        "month": month,
        "this_month": queries.month_start(th.today),
        "filters": filters,
        "url_args": filters.url_args(month),
        "row_args": {**filters.url_args(month), **({"page": number} if number > 1 else {})},
        "rows": rows,
        "page": ListPage(number, PER_PAGE, total),
        "dealers": dealers,
        "failed_estate": failed[0] if failed else None,
        "failed_form": failed[1] if failed else None,
    }


@bp.route("/neglected")
@permission_required(Permission.VIEW_COVERAGE)
def neglected():
    return render_template("coverage/list.html", **_list_context(DecisionList.NEGLECTED))


@bp.route("/supported")
@permission_required(Permission.VIEW_COVERAGE)
def supported():
    return render_template("coverage/list.html", **_list_context(DecisionList.SUPPORTED))


def _candidate(th: queries.Thresholds, estate: Estate, list_kind: DecisionList, month: date) -> queries.Candidate:
    """One estate as a row of the month's list, whether it is still on it or not."""
    coverage = queries.estate_coverage(db.session, th, estate.id)
    decision = queries.latest_decisions(db.session, [estate.id], month, list_kind).get(estate.id)
    overdue = None
    if list_kind is DecisionList.NEGLECTED and coverage.targeted_on:
        overdue = (th.today - coverage.targeted_on).days - th.neglect_days
    return queries.Candidate(coverage, estate.dealer.name, estate.dealer.code, estate.city.name, overdue, decision)


@bp.route("/estates/<int:estate_id>/decision", methods=["POST"])
def decide(estate_id: int):
    """罚 / 扶持 / 忽略 on one estate of a month's list: htmx gets the row back, a plain post the list (PRG)."""
    estate = get_or_404(Estate, estate_id)
    require(Permission.DECIDE_COVERAGE)
    form = DecisionForm()
    th = current_thresholds()
    decision = save_form(
        form,
        lambda: service.record_decision(
            db.session,
            th,
            estate,
            form.month.data,
            DecisionList(form.list_kind.data),
            DecisionKind(form.kind.data),
            form.note.data or "",
            current_user,
        ),
    )
    list_kind = DecisionList(form.list_kind.data) if form.list_kind.data in set(DecisionList) else None
    list_kind = list_kind or DecisionList.NEGLECTED
    this_month = queries.month_start(th.today)
    month = min(form.month.data, this_month) if form.month.data else requested_month()
    if htmx:
        return render_template(
            "coverage/_candidate_row.html",
            c=_candidate(th, estate, list_kind, month),
            list_kind=list_kind,
            month=month,
            th=th,
            row_args=request.args.to_dict(),
            form=None if decision else form,
            saved=bool(decision),
        ), (200 if decision else 422)
    if decision:
        flash(
            _("已记录：%(estate)s · %(kind)s", estate=estate.name, kind=decision.kind.label),
            "success",
        )
        return redirect(url_for(LIST_ENDPOINTS[list_kind], **request.args.to_dict()))
    return render_template("coverage/list.html", **_list_context(list_kind, failed=(estate, form))), 422


# ---------------------------------------------------------------- territory conflicts (归属冲突)


def _conflicts_context(form: AssignForm | None = None) -> dict:
    th = current_thresholds()
    items = queries.conflicts(db.session, th)
    estate_ids = [claim.estate_id for conflict in items for claim in conflict.claims]
    facts = {}
    if estate_ids:
        facts = {
            estate_id: (district, households, code)
            for estate_id, district, households, code in db.session.execute(
                sa.select(Estate.id, Estate.district, Estate.households, Dealer.code)
                .join(Dealer, Dealer.id == Estate.dealer_id)
                .where(Estate.id.in_(estate_ids))
            )
        }
    decider_ids = {c.assignment.decided_by_id for c in items if c.assignment and c.assignment.decided_by_id}
    deciders = {}
    if decider_ids:
        deciders = {user.id: user.name for user in db.session.scalars(sa.select(User).where(User.id.in_(decider_ids)))}
    failed_key = (form.city_id.data, (form.name_key.data or "").strip()) if form is not None else None
    return {"th": th, "conflicts": items, "facts": facts, "deciders": deciders, "form": form, "failed_key": failed_key}


@bp.route("/conflicts")
@permission_required(Permission.VIEW_COVERAGE)
def conflicts():
    return render_template("coverage/conflicts.html", **_conflicts_context())


@bp.route("/conflicts/assign", methods=["POST"])
@permission_required(Permission.DECIDE_COVERAGE)
def assign():
    """Give a contested estate to one of the dealers claiming it (the key is in the form, not the URL)."""
    form = AssignForm()
    th = current_thresholds()
    ruling = save_form(
        form,
        lambda: service.assign_territory(
            db.session,
            th,
            form.city_id.data,
            (form.name_key.data or "").strip(),
            form.dealer_id.data,
            form.note.data or "",
            current_user,
        ),
    )
    if htmx:
        context = _conflicts_context(None if ruling else form)
        key = (form.city_id.data, (form.name_key.data or "").strip())
        conflict = next((c for c in context["conflicts"] if (c.city_id, c.name_key) == key), None)
        return render_template("coverage/_conflict.html", conflict=conflict, saved=bool(ruling), **context), (
            200 if ruling else 422
        )
    if ruling:
        flash(_("已划归：%(dealer)s 负责该楼盘", dealer=ruling.dealer.name), "success")
        return redirect(url_for("coverage.conflicts"))
    return render_template("coverage/conflicts.html", **_conflicts_context(form)), 422


# ---------------------------------------------------------------- leaderboards (拉新榜, 成交榜)


@bp.route("/leaderboards")
@permission_required(Permission.VIEW_COVERAGE)
def leaderboards():
    th = current_thresholds()
    month = requested_month()
    return render_template(
        "coverage/leaderboards.html",
        month=month,
        this_month=queries.month_start(th.today),
        boards=queries.leaderboards(db.session, month),
    )


# ---------------------------------------------------------------- base deals (基准成交)


def _rate_fields(form: BaseRateForm) -> service.BaseDealFields:
    return service.BaseDealFields(
        category=form.category.data or "", orders_per_group=form.orders_per_group.data, note=form.note.data or ""
    )


def _rate_form(rate: BaseDealRate, posted: bool = False) -> BaseRateForm:
    """A row's edit form (blank from the row, or what was posted); each row's fields carry its own prefix so
    the page's ids stay unique."""
    if posted:
        return BaseRateForm(prefix=f"rate{rate.id}")
    return BaseRateForm(formdata=None, obj=rate, prefix=f"rate{rate.id}")


def _base_deals_context(add_form: BaseRateForm | None = None, edit_form: BaseRateForm | None = None, edited=None):
    rates = queries.base_deal_rates(db.session)
    edit_forms = {rate.id: edit_form if edited == rate.id else _rate_form(rate) for rate in rates}
    return {
        "rates": rates,
        "categories": queries.product_categories(db.session),
        "comparison": queries.base_deal_comparison(db.session, rates),
        "add_form": add_form or BaseRateForm(formdata=None),
        "edit_forms": edit_forms,
        "edited": edited,
    }


@bp.route("/base-deals")
@permission_required(Permission.VIEW_COVERAGE)
def base_deals():
    return render_template("coverage/base_deals.html", **_base_deals_context())


@bp.route("/base-deals", methods=["POST"])
@permission_required(Permission.DECIDE_COVERAGE)
def add_base_rate():
    form = BaseRateForm()
    rate = save_form(form, lambda: service.save_base_rate(db.session, _rate_fields(form), current_user))
    if rate:
        flash(_("已添加品类基准：%(name)s", name=rate.category), "success")
        return redirect(url_for("coverage.base_deals"))
    return render_template("coverage/base_deals.html", **_base_deals_context(add_form=form)), 422


@bp.route("/base-deals/<int:rate_id>", methods=["POST"])
@permission_required(Permission.DECIDE_COVERAGE)  # HQ's table, not dealer data: the role first
def edit_base_rate(rate_id: int):
    rate = get_or_404(BaseDealRate, rate_id)
    form = _rate_form(rate, posted=True)
    if save_form(form, lambda: service.save_base_rate(db.session, _rate_fields(form), current_user, rate)):
        flash(_("已保存品类基准：%(name)s", name=rate.category), "success")
        return redirect(url_for("coverage.base_deals"))
    return render_template("coverage/base_deals.html", **_base_deals_context(edit_form=form, edited=rate_id)), 422


@bp.route("/base-deals/<int:rate_id>/delete", methods=["POST"])
@permission_required(Permission.DECIDE_COVERAGE)  # HQ's table, not dealer data: the role first
def delete_base_rate(rate_id: int):
    rate = get_or_404(BaseDealRate, rate_id)
    category = rate.category
    service.delete_base_rate(db.session, rate)
    db.session.commit()
    flash(_("已删除品类基准：%(name)s", name=category), "success")
    return redirect(url_for("coverage.base_deals"))


# ---------------------------------------------------------------- thresholds (设置)


def _save_settings(form: SettingsForm):
    brand = brand_id()
    if brand is None:
        raise FieldError("__all__", _("还没有品牌，无法保存设置"))
    data = service.SettingsFields(
        neglect_days=form.neglect_days.data,
        active_days=form.active_days.data,
        conflict_radius_m=form.conflict_radius_m.data,
    )
    return service.save_settings(db.session, brand, data, current_user)


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(Permission.VIEW_COVERAGE)
def settings():
    if request.method == "POST":
        require(Permission.DECIDE_COVERAGE)
    form = SettingsForm()
    if request.method == "GET":
        th = current_thresholds()
        form.neglect_days.data, form.active_days.data, form.conflict_radius_m.data = (
            th.neglect_days,
            th.active_days,
            th.conflict_radius_m,
        )
    if save_form(form, lambda: _save_settings(form)):
        flash(_("已保存覆盖判定设置"), "success")
        return redirect(url_for("coverage.settings"))
    brand = brand_id()
    row = queries.settings_row(db.session, brand) if brand is not None else None
    updated_by = db.session.get(User, row.updated_by_id) if row is not None and row.updated_by_id else None
    return render_template(
        "coverage/settings.html", form=form, th=current_thresholds(), row=row, updated_by=updated_by
    ), form_status()
