"""Groups (社群): per-estate group pages, daily numbers, the deal formula and the progress board."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.models import local_today
from crm.core.roles import Permission, has_permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.urls import url_pattern
from crm.estates.models import Estate, EstateStage
from crm.extensions import db, htmx
from crm.groups import queries, service
from crm.groups.forms import AccountForm, FormulaCheckForm, GroupForm, MetricForm
from crm.groups.models import (
    METRIC_FIELDS,
    AccountRole,
    FormulaPart,
    Group,
    GroupAccount,
    GroupKind,
    GroupOrigin,
    GroupStatus,
    Platform,
)
from crm.people.masking import shown_phone

bp = Blueprint("groups", __name__, url_prefix="/groups")


@bp.app_template_global("board_urls")
def _board_urls() -> SimpleNamespace:
    """The board's per-row links, each built once per page (see url_pattern)."""
    return SimpleNamespace(
        estate=url_pattern("estates.detail", "estate_id"),
        add_group=url_pattern("groups.create", "estate_id"),
        group=url_pattern("groups.detail", "group_id"),
        metric_form=url_pattern("groups.board_metric_form", "group_id"),
    )


@bp.app_template_global("estate_group_lines")
def _estate_group_lines(estate):
    """The estate page's list of groups (its template calls this; empty for roles that may not see groups)."""
    if not has_permission(current_user, Permission.VIEW_GROUPS):
        return []
    return queries.estate_groups(db.session, estate)


def metric_form(group: Group, formdata=None) -> MetricForm:
    """The quick metrics form of one group; the prefix keeps ids unique when many groups share a page."""
    if formdata is None:
        return MetricForm(formdata=None, prefix=f"g{group.id}", day=local_today())
    return MetricForm(prefix=f"g{group.id}")


def _group_fields(form: GroupForm) -> service.GroupFields:
    return service.GroupFields(
        name=form.name.data,
        kind=GroupKind(form.kind.data),
        origin=GroupOrigin(form.origin.data) if form.origin.data else None,
        platform=Platform(form.platform.data),
        owner_person_id=form.owner_person_id.data,
        started_on=form.started_on.data,
        status=GroupStatus(form.status.data),
    )


# ---------------------------------------------------------------- the board


@bp.route("/board")
@permission_required(Permission.VIEW_GROUPS)
def board():
    filters = queries.BoardFilters.from_args(request.args)
    today = local_today()
    sections = queries.board(db.session, filters, today)
    context = {
        "filters": filters,
        "sections": sections,
        "today": today,
        "cities": queries.board_cities(db.session),
        "operators": queries.dealer_users(db.session, current_user.dealer_id),
        "stages": list(EstateStage),
    }
    if htmx and not htmx.boosted:
        return render_template("groups/_board.html", **context)
    return render_template("groups/board.html", **context)


# ---------------------------------------------------------------- group CRUD


@bp.route("/new", methods=["GET", "POST"])
def create():
    estate = get_or_404(Estate, request.args.get("estate_id", type=int))
    require(Permission.EDIT_GROUPS)
    form = GroupForm(people=queries.owner_choices(db.session, estate.id))
    if request.method == "GET" and not form.started_on.data:
        form.started_on.data = local_today()
    group = save_form(form, lambda: service.create_group(db.session, estate, _group_fields(form)))
    if group:
        flash(_("已添加社群：%(name)s", name=group.name), "success")
        return redirect(url_for("groups.detail", group_id=group.id))
    return render_template("groups/form.html", form=form, estate=estate, group=None), form_status()


@bp.route("/<int:group_id>")
def detail(group_id: int):
    get_or_404(Group, group_id)
    require(Permission.VIEW_GROUPS)
    group = queries.load_group(db.session, group_id)
    return render_template("groups/detail.html", **_detail_context(group))


def _detail_context(group: Group, **overrides) -> dict:
    today = local_today()
    context = {
        "group": group,
        "today": today,
        "line": queries.GroupLine(
            group, queries.latest_metrics(db.session, [group.id]).get(group.id), group.estate.households
        ),
        "estate_penetration": queries.estate_penetration(db.session, group.estate),
        "trend": queries.trend(db.session, group, today),
        "funnel": queries.funnel(db.session, [group.id], today - timedelta(days=queries.FUNNEL_DAYS - 1), today),
        "recent": queries.recent_metrics(db.session, group),
        "health": queries.formula_health(db.session, group),
        "metric_form": metric_form(group),
        "shown_phone": shown_phone,
        "account_form": AccountForm(users=queries.dealer_users(db.session, group.dealer_id), formdata=None),
    }
    context.update(overrides)
    return context


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
def edit(group_id: int):
    group = get_or_404(Group, group_id)
    require(Permission.EDIT_GROUPS)
    people = queries.owner_choices(db.session, group.estate_id, group.owner_person_id)
    if request.method == "GET":
        form = GroupForm(
            people=people,
            data={
                "name": group.name,
                "kind": group.kind.value,
                "origin": group.origin.value if group.origin else "",
                "platform": group.platform.value,
                "owner_person_id": group.owner_person_id,
                "started_on": group.started_on,
                "status": group.status.value,
                "version": group.version,
            },
        )
    else:
        form = GroupForm(people=people)
    if save_form(form, lambda: service.update_group(db.session, group, _group_fields(form)), versioned=group):
        flash(_("已保存"), "success")
        return redirect(url_for("groups.detail", group_id=group.id))
    return render_template("groups/form.html", form=form, estate=group.estate, group=group), form_status()


@bp.route("/<int:group_id>/delete", methods=["POST"])
def delete(group_id: int):
    group = get_or_404(Group, group_id)
    require(Permission.EDIT_GROUPS)
    estate_id, name = group.estate_id, group.name
    service.delete_group(db.session, group)
    db.session.commit()
    flash(_("已删除社群：%(name)s", name=name), "success")
    return redirect(url_for("estates.detail", estate_id=estate_id))


# ---------------------------------------------------------------- our accounts


@bp.route("/<int:group_id>/accounts", methods=["POST"])
def add_account(group_id: int):
    group = get_or_404(Group, group_id)
    require(Permission.EDIT_GROUPS)
    form = AccountForm(users=queries.dealer_users(db.session, group.dealer_id))
    saved = save_form(
        form,
        lambda: service.add_account(
            db.session, group, form.user_id.data, AccountRole(form.role.data or AccountRole.MAIN_IP)
        ),
    )
    return _accounts_response(group, None if saved else form, 200 if saved else 422)


@bp.route("/accounts/<int:account_id>/delete", methods=["POST"])
def remove_account(account_id: int):
    account = get_or_404(GroupAccount, account_id)
    require(Permission.EDIT_GROUPS)
    group = account.group
    service.remove_account(db.session, account)
    db.session.commit()
    return _accounts_response(group, None, 200)


def _accounts_response(group: Group, form: AccountForm | None, status: int):
    group = queries.load_group(db.session, group.id)
    users = queries.dealer_users(db.session, group.dealer_id)
    if form is None:
        form = AccountForm(users=users, formdata=None)
    if htmx:
        return render_template("groups/_accounts.html", group=group, account_form=form), status
    if status == 200:
        flash(_("已保存"), "success")
        return redirect(url_for("groups.detail", group_id=group.id))
    return render_template("groups/detail.html", **_detail_context(group, account_form=form)), status


# ---------------------------------------------------------------- daily numbers


@bp.route("/<int:group_id>/metrics", methods=["POST"])
def record_metrics(group_id: int):
    group = get_or_404(Group, group_id)
    require(Permission.EDIT_GROUPS)
    form = metric_form(group, formdata=request.form)

    def record():
        values = {name: getattr(form, name).data for name in METRIC_FIELDS}
        return service.record_metrics(db.session, group, form.day.data, values, current_user)

    saved = save_form(form, record)
    status = 200 if saved else 422
    if saved:
        form = metric_form(group)
    today = local_today()
    if htmx and request.args.get("view") == "board":
        entry = queries.board_estate(db.session, group.estate, today)
        line = next(line for line in entry.groups if line.group.id == group.id)
        return render_template(
            "groups/_board_group_row.html",
            entry=entry,
            line=line,
            today=today,
            refused_form=None if saved else form,
            estate_oob=True,
            saved=bool(saved),
        ), status
    if htmx:
        return render_template("groups/_metrics.html", **_detail_context(group, metric_form=form)), status
    if saved:
        flash(_("已保存 %(day)s 的数据", day=saved.day.isoformat()), "success")
        return redirect(url_for("groups.detail", group_id=group.id))
    return render_template("groups/detail.html", **_detail_context(group, metric_form=form)), status


@bp.route("/<int:group_id>/metrics/board-form")
def board_metric_form(group_id: int):
    """The quick metrics form of one board row, fetched when the row's 录入数据 is opened."""
    group = get_or_404(Group, group_id)
    require(Permission.EDIT_GROUPS)
    return render_template("groups/_board_metric_form.html", group=group, form=metric_form(group))


# ---------------------------------------------------------------- the deal formula


@bp.route("/<int:group_id>/formula", methods=["POST"])
def toggle_formula(group_id: int):
    """Tick or untick one hand-checked part of the deal formula (the part comes in the form)."""
    group = get_or_404(Group, group_id)
    require(Permission.EDIT_GROUPS)
    form = FormulaCheckForm()
    if not form.validate_on_submit():
        abort(400)
    part = FormulaPart(form.part.data)
    try:
        service.set_formula_check(db.session, group, part, form.is_done.data, form.note.data, current_user)
    except ValueError:
        db.session.rollback()
        abort(400)
    db.session.commit()
    if htmx:
        return render_template("groups/_formula.html", group=group, health=queries.formula_health(db.session, group))
    flash(_("已保存"), "success")
    return redirect(url_for("groups.detail", group_id=group.id))
