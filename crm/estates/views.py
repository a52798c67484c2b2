from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import carry_version, form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.uploads import upload_root
from crm.estates import queries, service
from crm.estates.forms import EstateForm, FloorPlanForm, StageForm
from crm.estates.models import Estate, EstateAge, EstateStage, FloorPlan
from crm.extensions import db, htmx
from crm.org.queries import visible_dealers

bp = Blueprint("estates", __name__, url_prefix="/estates")


@bp.route("/")
@permission_required(Permission.VIEW_ESTATES)
def index():
    filters = queries.EstateFilters.from_args(request.args)
    page = db.paginate(
        queries.estates_query(filters),
        per_page=current_app.config["ESTATES_PER_PAGE"],
        error_out=False,
        count=True,
    )
    context = {
        "filters": filters,
        "page": page,
        "cities": queries.cities_with_estates(db.session),
        "districts": queries.districts(db.session, filters.city_id),
        "dealers": visible_dealers(db.session) if current_user.is_hq else [],
        "stages": list(EstateStage),
        "ages": list(EstateAge),
        "stage_form": StageForm(),
    }
    return render_page_or_partial("estates/index.html", "estates/_results.html", **context)


def _estate_form(estate=None) -> EstateForm:
    cities = queries.all_cities(db.session)
    if estate is not None and request.method == "GET":
        data = service.EstateFields.from_estate(estate)
        form = EstateForm(cities=cities, data=_form_data(data))
    else:
        form = EstateForm(cities=cities)
        if request.method == "GET" and current_user.dealer is not None:
            form.city_id.data = current_user.dealer.city_id
    return form


def _form_data(fields: service.EstateFields) -> dict:
    data = dict(vars(fields))
    for key in ("age", "finish", "stage", "coord_system"):
        data[key] = data[key].value if data[key] is not None else ""
    return data


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.EDIT_ESTATES)
def create():
    form = _estate_form()

    def create():
        return service.create_estate(db.session, current_user.dealer_id, service.EstateFields.from_form_data(form.data))

    if estate := save_form(form, create):
        flash(_("已添加楼盘：%(name)s", name=estate.name), "success")
        return redirect(url_for("estates.detail", estate_id=estate.id))
    return render_template("estates/form.html", form=form, estate=None), form_status()


@bp.route("/<int:estate_id>")
def detail(estate_id: int):
    estate = get_or_404(Estate, estate_id)
    require(Permission.VIEW_ESTATES)
    return render_template(
        "estates/detail.html", estate=estate, floor_plan_form=FloorPlanForm(), stage_form=StageForm()
    )


@bp.route("/<int:estate_id>/edit", methods=["GET", "POST"])
def edit(estate_id: int):
    estate = get_or_404(Estate, estate_id)
    require(Permission.EDIT_ESTATES)
    form = _estate_form(estate)
    carry_version(form, estate)

    def update():
        return service.update_estate(db.session, estate, service.EstateFields.from_form_data(form.data))

    if save_form(form, update, versioned=estate):
        flash(_("已保存"), "success")
        return redirect(url_for("estates.detail", estate_id=estate.id))
    return render_template("estates/form.html", form=form, estate=estate), form_status()


@bp.route("/<int:estate_id>/stage", methods=["POST"])
def change_stage(estate_id: int):
    """Inline stage change from the list or the detail page."""
    estate = get_or_404(Estate, estate_id)
    require(Permission.EDIT_ESTATES)
    form = StageForm()
    if not form.validate_on_submit():
        abort(400)
    service.set_stage(db.session, estate, form.stage.data)
    db.session.commit()
    if htmx:
        return render_template("estates/_row.html", estate=estate, stage_form=StageForm())
    flash(_("阶段已更新为：%(stage)s", stage=estate.stage.label), "success")
    return redirect(url_for("estates.detail", estate_id=estate.id))


@bp.route("/<int:estate_id>/floor-plans", methods=["POST"])
def add_floor_plan(estate_id: int):
    estate = get_or_404(Estate, estate_id)
    require(Permission.EDIT_ESTATES)
    form = FloorPlanForm()

    def add():
        fields = service.FloorPlanFields(
            name=form.name.data, area_m2=form.area_m2.data, rooms=form.rooms.data, unit_count=form.unit_count.data
        )
        return service.add_floor_plan(db.session, estate, fields, image=form.image.data)

    saved = save_form(form, add)
    if saved and not htmx:
        flash(_("已添加户型"), "success")
        return redirect(url_for("estates.detail", estate_id=estate.id))
    status = 200 if saved else 422
    if saved:
        form = FloorPlanForm(formdata=None)  # an empty form, ready for the next floor plan
    if htmx:
        db.session.refresh(estate)
        return render_template("estates/_floor_plans.html", estate=estate, floor_plan_form=form), status
    return render_template("estates/detail.html", estate=estate, floor_plan_form=form, stage_form=StageForm()), status


@bp.route("/floor-plans/<int:floor_plan_id>/delete", methods=["POST"])
def delete_floor_plan(floor_plan_id: int):
    plan = get_or_404(FloorPlan, floor_plan_id)
    require(Permission.EDIT_ESTATES)
    estate = plan.estate
    service.delete_floor_plan(db.session, plan)
    db.session.commit()
    if htmx:
        db.session.refresh(estate)
        return render_template("estates/_floor_plans.html", estate=estate, floor_plan_form=FloorPlanForm())
    flash(_("已删除户型"), "success")
    return redirect(url_for("estates.detail", estate_id=estate.id))


@bp.route("/floor-plans/<int:floor_plan_id>/image")
def floor_plan_image(floor_plan_id: int):
    plan = get_or_404(FloorPlan, floor_plan_id)
    require(Permission.VIEW_ESTATES)
    if not plan.image_path:
        abort(404)
    response = send_from_directory(upload_root(), plan.image_path, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
