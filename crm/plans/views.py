from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.urls import safe_next
from crm.core.validation import FieldError
from crm.estates.models import Estate, EstateStage
from crm.estates.queries import all_cities
from crm.extensions import db, htmx
from crm.plans import queries, service
from crm.plans.forms import AddEstateForm, PlanForm, TargetsForm, TeamForm, TemplateForm
from crm.plans.models import TARGET_FIELDS, TARGET_LABELS, BattlePlan, PhaseTemplate, PlanEstate, PlanPhase

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.route("/")
@permission_required(Permission.VIEW_PLANS)
def index():
    plans = db.session.scalars(queries.plans_query()).all()
    return render_template("plans/index.html", plans=plans)


def _plan_fields(form: PlanForm) -> service.PlanFields:
    return service.PlanFields(
        title=form.title.data or "",
        city_id=form.city_id.data,
        period=form.period.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        status=form.status.data,
        notes=form.notes.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PLANS)
def create():
    form = PlanForm(cities=all_cities(db.session))
    if request.method == "GET":
        form.city_id.data = current_user.dealer.city_id

    def create_plan():
        return service.create_plan(db.session, current_user.dealer_id, _plan_fields(form), current_user)

    if plan := save_form(form, create_plan):
        flash(_("已创建规划：%(title)s", title=plan.title), "success")
        return redirect(url_for("plans.detail", plan_id=plan.id))
    return render_template("plans/form.html", form=form, plan=None), form_status()


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
def edit(plan_id: int):
    plan = get_or_404(BattlePlan, plan_id)
    require(Permission.MANAGE_PLANS)
    form = PlanForm(obj=plan, cities=all_cities(db.session))
    if request.method == "GET":
        form.status.data = plan.status.value
    if save_form(form, lambda: service.update_plan(db.session, plan, _plan_fields(form)), versioned=plan):
        flash(_("已保存"), "success")
        return redirect(url_for("plans.detail", plan_id=plan.id))
    return render_template("plans/form.html", form=form, plan=plan), form_status()


def _body_context(plan_id: int, message: str | None = None, error: str | None = None) -> dict:
    plan = queries.load_plan(db.session, plan_id)
    in_plan = {item.estate_id for item in plan.estates}
    addable = db.session.scalars(
        db.select(Estate)
        .where(Estate.city_id == plan.city_id, Estate.stage != EstateStage.ABANDONED)
        .order_by(Estate.stage, Estate.name_key)
    ).all()
    candidates = _team_candidates(plan.dealer_id)
    from crm.plans.printing import plan_map_svg

    return {
        "plan": plan,
        "totals": queries.totals(plan),
        "timeline": queries.timeline(plan),
        "conflicts": queries.conflicts(db.session, plan),
        "add_form": AddEstateForm(estates=[e for e in addable if e.id not in in_plan]),
        "team_forms": {item.id: _team_form(item, candidates) for item in plan.estates},
        "target_fields": TARGET_FIELDS,
        "target_labels": TARGET_LABELS,
        "map_svg": plan_map_svg(db.session, plan),
        "message": message,
        "error": error,
    }


def _team_candidates(dealer_id: int) -> dict[str, list]:
    by_role = queries.team_choices(db.session, dealer_id)
    return {
        seat: [user for role in roles for user in by_role.get(role, [])] for seat, roles in service.TEAM_ROLES.items()
    }


def _team_form(item: PlanEstate, candidates) -> TeamForm:
    form = TeamForm(formdata=None, candidates=candidates, prefix=f"team-{item.id}", meta={"csrf": False})
    form.lead_id.data = item.lead_id
    form.operator_id.data = item.operator_id
    form.designer_id.data = item.designer_id
    form.consultant_id.data = item.consultant_id
    form.assistant_ids.data = [user.id for user in item.assistants]
    return form


def _body(plan_id: int, message: str | None = None, error: str | None = None):
    """The editable part of the plan page (what every htmx edit answers with)."""
    context = _body_context(plan_id, message, error)
    if htmx:
        return render_template("plans/_body.html", **context), 422 if error else 200
    if error:
        flash(error, "error")
    elif message:
        flash(message, "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/<int:plan_id>")
def detail(plan_id: int):
    get_or_404(BattlePlan, plan_id)
    require(Permission.VIEW_PLANS)
    return render_template("plans/detail.html", **_body_context(plan_id))


def _run(plan_id: int, action, message: str):
    """Run a plan edit and commit; a refused edit answers with the same body and the reason."""
    try:
        action()
    except FieldError as error:
        db.session.rollback()
        return _body(plan_id, error=error.message)
    db.session.commit()
    return _body(plan_id, message=message)


@bp.route("/<int:plan_id>/estates", methods=["POST"])
def add_estate(plan_id: int):
    plan = get_or_404(BattlePlan, plan_id)
    require(Permission.MANAGE_PLANS)
    estate_id = request.form.get("estate_id", type=int)
    estate = db.session.get(Estate, estate_id) if estate_id else None
    if estate is None or estate.dealer_id != plan.dealer_id:
        return _body(plan_id, error=_("请选择楼盘"))
    return _run(plan_id, lambda: service.add_estate(db.session, plan, estate), _("已加入：%(name)s", name=estate.name))


@bp.route("/<int:plan_id>/reorder", methods=["POST"])
def reorder(plan_id: int):
    plan = get_or_404(BattlePlan, plan_id)
    require(Permission.MANAGE_PLANS)
    ordered = [int(v) for v in request.form.getlist("plan_estate_id") if v.isdigit()]
    return _run(plan_id, lambda: service.reorder_estates(db.session, plan, ordered), _("已调整优先顺序"))


@bp.route("/items/<int:plan_estate_id>/move", methods=["POST"])
def move_estate(plan_estate_id: int):
    item = get_or_404(PlanEstate, plan_estate_id)
    require(Permission.MANAGE_PLANS)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    return _run(item.plan_id, lambda: service.move_estate(db.session, item, offset), _("已调整优先顺序"))


@bp.route("/items/<int:plan_estate_id>/remove", methods=["POST"])
def remove_estate(plan_estate_id: int):
    item = get_or_404(PlanEstate, plan_estate_id)
    require(Permission.MANAGE_PLANS)
    name = item.estate.name
    return _run(item.plan_id, lambda: service.remove_estate(db.session, item), _("已移出：%(name)s", name=name))


@bp.route("/items/<int:plan_estate_id>/team", methods=["POST"])
def assign_team(plan_estate_id: int):
    item = get_or_404(PlanEstate, plan_estate_id)
    require(Permission.MANAGE_PLANS)
    # CSRFProtect checks every POST app-wide; these per-row forms need no token of their own.
    form = TeamForm(candidates=_team_candidates(item.dealer_id), prefix=f"team-{item.id}", meta={"csrf": False})
    if not form.validate_on_submit():
        return _body(item.plan_id, error=_("所选人员不能担任该角色"))
    data = service.TeamFields(
        lead_id=form.lead_id.data,
        operator_id=form.operator_id.data,
        designer_id=form.designer_id.data,
        consultant_id=form.consultant_id.data,
        assistant_ids=tuple(form.assistant_ids.data or ()),
    )
    name = item.estate.name
    return _run(item.plan_id, lambda: service.assign_team(db.session, item, data), _("已保存团队：%(name)s", name=name))


@bp.route("/items/<int:plan_estate_id>/targets", methods=["POST"])
def update_targets(plan_estate_id: int):
    item = get_or_404(PlanEstate, plan_estate_id)
    require(Permission.MANAGE_PLANS)
    form = TargetsForm(prefix=f"targets-{item.id}", meta={"csrf": False})
    if not form.validate_on_submit():
        return _body(item.plan_id, error=_("目标必须是不小于 0 的整数"))
    targets = {name: getattr(form, name).data for name in TARGET_FIELDS}
    name = item.estate.name
    return _run(
        item.plan_id, lambda: service.update_targets(db.session, item, targets), _("已保存目标：%(name)s", name=name)
    )


@bp.route("/phases/<int:phase_id>/shift", methods=["POST"])
def shift_phase(phase_id: int):
    phase = get_or_404(PlanPhase, phase_id)
    require(Permission.MANAGE_PLANS)
    plan_id = phase.plan_estate.plan_id
    days = request.form.get("days", type=int)
    length = request.form.get("length", type=int)
    if length is not None:
        return _run(plan_id, lambda: service.resize_phase(db.session, phase, length), _("已调整阶段天数，后续阶段顺延"))
    if days is None or not -365 <= days <= 365:
        abort(400)
    return _run(plan_id, lambda: service.shift_phase(db.session, phase, days), _("已移动阶段，后续阶段随之移动"))


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
def edit_template(template_id: int):
    template = get_or_404(PhaseTemplate, template_id)
    require(Permission.MANAGE_PLANS)
    form = TemplateForm()
    if request.method == "GET":
        form.name.data = template.name
        form.steps.data = "\n".join(f"{step['name']} {step['days']}" for step in template.steps)

    def save():
        return service.update_template(db.session, template, form.name.data, service.parse_steps(form.steps.data))

    if save_form(form, save):
        flash(_("已保存阶段模板（新加入规划的楼盘按新模板排期）"), "success")
        return redirect(safe_next(request.args.get("next"), "plans.index"))
    return render_template("plans/template_form.html", form=form, template=template), form_status()


@bp.route("/<int:plan_id>/print.pdf")
def battle_map_pdf(plan_id: int):
    """The battle map to pin on the store wall (A3 landscape)."""
    get_or_404(BattlePlan, plan_id)
    require(Permission.VIEW_PLANS)
    from crm.jobs.service import should_defer
    from crm.jobs.views import start_job
    from crm.pdf.engine import pdf_response
    from crm.plans.printing import battle_map_pdf as render

    plan = queries.load_plan(db.session, plan_id)
    if should_defer(len(plan.estates), "JOB_THRESHOLD_PLAN_ESTATES"):
        return start_job("plans.battle_pdf", {"plan_id": plan.id}, _("作战规划图：%(title)s", title=plan.title))
    return pdf_response(render(db.session, plan), f"{plan.title}.pdf")
