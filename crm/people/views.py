"""People pages: the list with the ladder funnel, a person's page (ladder, seven moves, interactions), referrals."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import carry_version, form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.roles import Permission, has_permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.validation import FieldError
from crm.extensions import db, htmx
from crm.people import queries, service
from crm.people.forms import InteractionForm, MoveForm, PersonForm, StageForm
from crm.people.masking import can_see_phone, shown_phone
from crm.people.models import PERSON_TAGS, Interaction, InteractionKind, KeyMove, LadderStage, Person

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.context_processor
def _people_helpers():
    """Every people template shows phones through these, so masking holds in pages and partials alike."""
    return {
        "phone_of": lambda person: shown_phone(current_user, person),
        "sees_phone": lambda person: can_see_phone(current_user, person),
        "LadderStage": LadderStage,
        "KeyMove": KeyMove,
        "neighbour_stage": service.neighbour_stage,
        "can_delete_interaction": lambda interaction: service.can_delete_interaction(current_user, interaction),
        "move_hint": queries.move_hint,
    }


@bp.route("/")
@permission_required(Permission.VIEW_PEOPLE)
def index():
    filters = queries.PersonFilters.from_args(request.args)
    query = queries.people_query(filters, sees_full_phones=has_permission(current_user, Permission.SEE_ALL_PHONES))
    page = db.paginate(query, per_page=current_app.config.get("PEOPLE_PER_PAGE", 25), error_out=False, count=True)
    funnel = queries.ladder_funnel(db.session, estate_id=filters.estate_id, group_id=filters.group_id)
    context = {
        "filters": filters,
        "page": page,
        "funnel": funnel,
        "funnel_cumulative": queries.at_or_above(funnel),
        "estates": queries.estates(db.session),
        "groups": queries.groups(db.session),
        "operators": queries.assignable_users(db.session),
        "tags": PERSON_TAGS,
        "stages": list(LadderStage),
        "stage_form": StageForm(),
    }
    return render_page_or_partial("people/index.html", "people/_results.html", **context)


def _person_form(person: Person | None = None) -> PersonForm:
    options = {
        "estates": queries.estates(db.session),
        "floor_plans": queries.floor_plans(db.session),
        "groups": queries.groups(db.session),
        "operators": queries.assignable_users(db.session),
        "referrers": queries.people_for_referral(db.session, exclude_id=person.id if person else None),
    }
    if person is not None and request.method == "GET":
        data = vars(service.PersonFields.from_person(person))
        if not can_see_phone(current_user, person):
            data["phone"] = ""  # never put a number the user may not see into the page
        return PersonForm(data=data, **options)
    return PersonForm(**options)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.EDIT_PEOPLE)
def create():
    form = _person_form()
    if request.method == "GET":
        form.estate_id.data = request.args.get("estate_id", type=int)

    def create():
        return service.create_person(db.session, current_user.dealer_id, service.PersonFields.from_form_data(form.data))

    if person := save_form(form, create):
        flash(_("已登记：%(name)s", name=person.name), "success")
        return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/form.html", form=form, person=None), form_status()


@bp.route("/<int:person_id>")
def detail(person_id: int):
    person = get_or_404(Person, person_id)
    require(Permission.VIEW_PEOPLE)
    return render_template("people/detail.html", **_detail_context(person))


def _detail_context(person: Person) -> dict:
    person = queries.load_person(db.session, person.id)
    return {
        "person": person,
        "stage_form": StageForm(),
        "move_form": MoveForm(),
        "interaction_form": InteractionForm(formdata=None),
        "done_moves": queries.moves_done(person),
        "next_move": queries.next_move(person),
    }


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
def edit(person_id: int):
    person = get_or_404(Person, person_id)
    require(Permission.EDIT_PEOPLE)
    form = _person_form(person)
    hides_phone = not can_see_phone(current_user, person)
    carry_version(form, person)

    def update():
        fields = service.PersonFields.from_form_data(form.data)
        if hides_phone and not fields.phone:
            fields.phone = person.phone  # left blank by someone who cannot see it: keep the number
        if not has_permission(current_user, Permission.SEE_ALL_PHONES):
            fields.operator_id = person.operator_id  # assigning someone to yourself would unmask their phone
        return service.update_person(db.session, person, fields)

    if save_form(form, update, versioned=person):
        flash(_("已保存"), "success")
        return redirect(url_for("people.detail", person_id=person.id))
    return render_template("people/form.html", form=form, person=person, hides_phone=hides_phone), form_status()


@bp.route("/<int:person_id>/stage", methods=["POST"])
def change_stage(person_id: int):
    """Move a person up, down or to any rung; answers htmx with the ladder (detail page) or the list row."""
    person = get_or_404(Person, person_id)
    require(Permission.EDIT_PEOPLE)
    form = StageForm()
    if not form.validate_on_submit():
        abort(400)
    step = request.form.get("step", "set")
    if step in ("up", "down"):
        target = service.neighbour_stage(person.ladder_stage, 1 if step == "up" else -1)
    else:
        target = LadderStage(form.stage.data)
    error = None
    try:
        if target is None:
            raise FieldError("stage", _("已经在阶梯的尽头"))
        service.move_stage(db.session, person, target, by=current_user, reason=form.reason.data)
        db.session.commit()
    except FieldError as refused:
        db.session.rollback()
        error = refused.message
    status = 422 if error else 200
    if htmx:
        if request.form.get("view") == "row":
            return render_template("people/_row.html", person=person, stage_form=StageForm(), error=error), status
        context = _detail_context(person)
        return render_template("people/_ladder.html", **context, error=error), status
    if error:
        flash(error, "error")
    else:
        flash(_("阶段已更新为：%(stage)s", stage=person.ladder_stage.label), "success")
    return redirect(url_for("people.detail", person_id=person.id))


@bp.route("/<int:person_id>/moves/<move>", methods=["POST"])
def toggle_move(person_id: int, move: str):
    """Tick or untick one of the seven moves of a key person."""
    person = get_or_404(Person, person_id)
    require(Permission.EDIT_PEOPLE)
    try:
        key_move = KeyMove(move)
    except ValueError:
        abort(404)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    if not person.is_key_person:
        abort(400)
    done = any(m.move == key_move for m in person.key_moves)
    if request.form.get("done") == "0" or (done and "done" not in request.form):
        service.untick_move(db.session, person, key_move)
    else:
        service.tick_move(db.session, person, key_move, by=current_user, on=form.done_on.data, note=form.note.data)
    db.session.commit()
    if htmx:
        return render_template("people/_moves.html", **_detail_context(person))
    return redirect(url_for("people.detail", person_id=person.id))


@bp.route("/<int:person_id>/interactions", methods=["POST"])
def add_interaction(person_id: int):
    person = get_or_404(Person, person_id)
    require(Permission.EDIT_PEOPLE)
    form = InteractionForm()
    status = 200
    if form.validate_on_submit():
        service.add_interaction(
            db.session, person, InteractionKind(form.kind.data), by=current_user, note=form.note.data
        )
        db.session.commit()
        form = InteractionForm(formdata=None)
    else:
        status = 422
    if htmx:
        context = _detail_context(person) | {"interaction_form": form}
        return render_template("people/_interactions.html", **context), status
    if status == 200:
        flash(_("已记录"), "success")
    return redirect(url_for("people.detail", person_id=person.id))


@bp.route("/interactions/<int:interaction_id>/delete", methods=["POST"])
def delete_interaction(interaction_id: int):
    interaction = get_or_404(Interaction, interaction_id)
    require(Permission.EDIT_PEOPLE)
    if not service.can_delete_interaction(current_user, interaction):
        abort(403)
    person = service.delete_interaction(db.session, interaction)
    db.session.commit()
    if htmx:
        return render_template("people/_interactions.html", **_detail_context(person))
    flash(_("已删除"), "success")
    return redirect(url_for("people.detail", person_id=person.id))


@bp.route("/referrals")
@permission_required(Permission.VIEW_PEOPLE)
def referrals():
    return render_template("people/referrals.html", roots=queries.referral_forest(db.session))
