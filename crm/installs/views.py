"""Installation jobs on the tablet: the list, a job with its five-step inspection (安装社群监管五步流程), defects and
their fixes, the owner's signature, the warranty and its claims, the dealer's standard and the acceptance report."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.i18n import lazy_gettext as _l
from crm.core.models import local_today
from crm.core.roles import Permission, has_permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.uploads import upload_root
from crm.core.validation import FieldError
from crm.extensions import db
from crm.installs import queries, service
from crm.installs.forms import (
    ClaimForm,
    FixForm,
    JobForm,
    PhotosForm,
    ResolveClaimForm,
    StandardForm,
    attempt_form,
)
from crm.installs.models import (
    Defect,
    InspectionAttempt,
    InspectionPhoto,
    InstallationJob,
    JobStatus,
    Step,
    WarrantyClaim,
    WarrantyItem,
)
from crm.orders.models import Order

bp = Blueprint("installs", __name__, url_prefix="/installs")

PER_PAGE = 50

# What the performer select is called at each step that has one.
PERFORMER_LABELS = {Step.SELF_CHECK: _l("自检安装工"), Step.SPOT_CHECK: _l("带队抽检人")}


# ---------------------------------------------------------------- the list


@bp.route("/")
@permission_required(Permission.VIEW_PEOPLE)
def index():
    filters = queries.JobFilters.from_args(request.args)
    page = db.paginate(queries.jobs_query(filters, current_user), per_page=PER_PAGE, error_out=False, count=True)
    context = {
        "filters": filters,
        "page": page,
        "jobs": page.items,
        "next_step": service.next_step,
        "open_defects": service.open_defects,
        "statuses": list(JobStatus),
    }
    return render_page_or_partial("installs/index.html", "installs/_results.html", **context)


# ---------------------------------------------------------------- scheduling


def _job_fields(form: JobForm) -> service.JobFields:
    return service.JobFields(
        scheduled_on=form.scheduled_on.data,
        installer_ids=[i for i in (form.installer_ids.data or []) if i],
        building=form.building.data or "",
        unit=form.unit.data or "",
        room=form.room.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INSTALLS)
def create():
    """Schedule an installation (`?order_id=` preselects the order)."""
    orders = queries.schedulable_orders(db.session)
    installers = queries.installer_choices(db.session, current_user.dealer_id)
    form = JobForm(orders=orders, installers=installers)
    if request.method == "GET":
        order_id = request.args.get("order_id", type=int)
        form.order_id.data = order_id if any(o.id == order_id for o in orders) else None
        if len(installers) == 1:
            form.installer_ids.data = [installers[0].id]

    def schedule():
        order = next((o for o in orders if o.id == form.order_id.data), None)
        if order is None:
            raise FieldError("order_id", _("请选择要安装的订单"))
        return service.create_job(db.session, order, _job_fields(form))

    job = save_form(form, schedule)
    if job:
        flash(_("已安排安装"), "success")
        return redirect(url_for("installs.detail", job_id=job.id))
    return render_template("installs/form.html", form=form, job=None, orders=orders), form_status()


@bp.route("/<int:job_id>/edit", methods=["GET", "POST"])
def edit(job_id: int):
    job = get_or_404(InstallationJob, job_id)
    require(Permission.MANAGE_INSTALLS)
    installers = queries.installer_choices(db.session, job.dealer_id)
    for user in job.installers:  # keep a deactivated installer who is on the job selectable
        if user not in installers:
            installers.append(user)
    form = JobForm(orders=(), installers=installers)
    del form.order_id
    if request.method == "GET":
        form.scheduled_on.data = job.scheduled_on
        form.installer_ids.data = [u.id for u in job.installers]
        form.building.data, form.unit.data, form.room.data = job.building, job.unit, job.room
        form.version.data = job.version
    if save_form(form, lambda: service.update_job(db.session, job, _job_fields(form)), versioned=job):
        flash(_("已保存"), "success")
        return redirect(url_for("installs.detail", job_id=job.id))
    return render_template("installs/form.html", form=form, job=job, orders=()), form_status()


# ---------------------------------------------------------------- the job page


def _attempt_form(job: InstallationJob, step: Step | None, formdata=True):
    if step is None:
        return None
    items = service.standard_items(db.session, job.dealer_id)
    users = ()
    if step == Step.SELF_CHECK:
        users = job.installers
    elif step == Step.SPOT_CHECK:
        users = queries.inspector_choices(db.session, job.dealer_id)
    people = queries.neighbour_choices(db.session, job) if step == Step.NEIGHBOUR_CHECK else ()
    kwargs = {} if formdata else {"formdata": None}
    form = attempt_form(items, users=users, people=people, **kwargs)
    if not formdata:
        form.step.data = str(int(step))
        if step in (Step.SELF_CHECK, Step.SPOT_CHECK):
            mine = any(u.id == current_user.id for u in users)
            only = users[0].id if len(users) == 1 else None
            form.performer_user_id.data = current_user.id if mine else only
        if step == Step.GROUP_CHECK:
            names = queries.group_names(db.session, job.order.estate_id)
            form.performer_name.data = names[0] if names else ""
    if step in PERFORMER_LABELS:
        form.performer_user_id.label.text = str(PERFORMER_LABELS[step])
    if step == Step.GROUP_CHECK:
        form.notes.label.text = _("群里业主的反馈")
        form.photos.label.text = _("发到群里的安装照片")
    return form


def _detail_context(job_id: int, **overrides) -> dict:
    job = queries.load_job(db.session, job_id)
    upcoming = service.next_step(job)
    open_defects = service.open_defects(job)
    accepted = job.status == JobStatus.ACCEPTED
    items = queries.warranty_items(db.session, job.order_id)
    can_record = upcoming is not None and not open_defects and service.may_record(current_user, job, upcoming)
    fix_forms = overrides.pop("fix_forms", {})
    claim_forms = overrides.pop("claim_forms", {})
    resolve_forms = overrides.pop("resolve_forms", {})
    signature = next((a for a in reversed(job.attempts) if a.passed and a.step == Step.OWNER_ACCEPTANCE), None)
    context = {
        "job": job,
        "order": job.order,
        "states": service.step_states(job),
        "upcoming": upcoming,
        "open_defects": open_defects,
        "defects_by_attempt": queries.defect_attempts(job),
        "can_record": can_record,
        "can_fix": service.may_fix(current_user, job),
        "may_record": lambda step: service.may_record(current_user, job, step),
        "can_manage": has_permission(current_user, Permission.MANAGE_INSTALLS),
        "attempt_form": overrides.pop("attempt_form", None)
        or (_attempt_form(job, upcoming, formdata=False) if can_record else None),
        "fix_form": lambda defect: fix_forms.get(defect.id) or FixForm(formdata=None, prefix=f"d{defect.id}"),
        "claim_form": lambda item: claim_forms.get(item.id) or ClaimForm(formdata=None, prefix=f"w{item.id}"),
        "resolve_form": lambda claim: (
            resolve_forms.get(claim.id) or ResolveClaimForm(formdata=None, prefix=f"c{claim.id}")
        ),
        "photos_form": lambda attempt: PhotosForm(formdata=None, prefix=f"a{attempt.id}"),
        "group_names": queries.group_names(db.session, job.order.estate_id) if upcoming == Step.GROUP_CHECK else [],
        "warranty": items,
        "accepted": accepted,
        "names": queries.user_names(db.session, job, items),
        "thumbnail": queries.thumbnail_data_url,
        "signature_url": queries.thumbnail_data_url(signature.signature_path, 800) if signature else None,
        "today": local_today(),
        "Step": Step,
        "error": overrides.pop("error", None),
    }
    context.update(overrides)
    return context


@bp.route("/<int:job_id>")
def detail(job_id: int):
    get_or_404(InstallationJob, job_id)
    require(Permission.VIEW_PEOPLE)
    return render_template("installs/detail.html", **_detail_context(job_id))


def _refused(job_id: int, **failed):
    return render_template("installs/detail.html", **_detail_context(job_id, **failed)), 422


@bp.route("/<int:job_id>/attempts", methods=["POST"])
def record(job_id: int):
    """Record the step that is due (the form says which step it meant; another step is refused)."""
    job = get_or_404(InstallationJob, job_id)
    require(Permission.VIEW_PEOPLE)
    step = request.form.get("step", type=int)
    if step not in {s.value for s in Step}:
        abort(400)
    if not service.may_record(current_user, job, step):
        abort(403)
    try:
        service.check_due(job, Step(step))
    except FieldError as refusal:  # out of order, accepted, defects open: say so above the form that is due
        return _refused(job_id, error=refusal.message)
    form = _attempt_form(job, Step(step))

    def save():
        fields = service.AttemptFields(
            checklist=form.checklist(),
            performer_user_id=form.performer_user_id.data,
            performer_person_id=form.performer_person_id.data,
            performer_name=form.performer_name.data or "",
            notes=form.notes.data or "",
            defects=form.defects.data or "",
            photos=form.photos.data or [],
            photo_caption=form.photo_caption.data or "",
            signature=form.signature.data or "",
        )
        return service.record_attempt(db.session, job, step, current_user, fields)

    attempt = save_form(form, save, versioned=job)
    if attempt is None:
        form.signature.data = ""  # the pad comes back empty (as do file inputs): the owner signs again
        return _refused(job_id, attempt_form=form)
    label = Step(attempt.step).label
    if not attempt.passed:
        flash(_("第 %(n)d 步“%(label)s”未通过：已记录缺陷，整改后从这一步继续", n=attempt.step, label=label), "error")
    elif attempt.step == Step.OWNER_ACCEPTANCE:
        flash(_("业主已验收签字，质保开始"), "success")
    else:
        flash(_("第 %(n)d 步“%(label)s”已通过", n=attempt.step, label=label), "success")
    return redirect(url_for("installs.detail", job_id=job_id) + "#steps")


@bp.route("/attempts/<int:attempt_id>/photos", methods=["POST"])
def add_photos(attempt_id: int):
    attempt = get_or_404(InspectionAttempt, attempt_id)
    require(Permission.VIEW_PEOPLE)
    if not service.may_record(current_user, attempt.job, attempt.step):
        abort(403)
    form = PhotosForm(prefix=f"a{attempt.id}")
    saved = save_form(
        form, lambda: service.add_photos(db.session, attempt, current_user, form.photos.data, form.caption.data)
    )
    if not saved:
        message = "；".join(e for errors in form.errors.values() for e in errors) or _("照片未保存")
        return _refused(attempt.job_id, error=message)
    flash(_("已添加 %(n)d 张照片", n=len(saved)), "success")
    return redirect(url_for("installs.detail", job_id=attempt.job_id) + f"#attempt-{attempt.id}")


@bp.route("/photos/<int:photo_id>")
def photo(photo_id: int):
    found = get_or_404(InspectionPhoto, photo_id)
    require(Permission.VIEW_PEOPLE)
    response = send_from_directory(upload_root(), found.path, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/defects/<int:defect_id>/fix", methods=["POST"])
def fix(defect_id: int):
    defect = get_or_404(Defect, defect_id)
    require(Permission.VIEW_PEOPLE)
    if not service.may_fix(current_user, defect.job):
        abort(403)
    form = FixForm(prefix=f"d{defect.id}")
    if save_form(
        form, lambda: service.fix_defect(db.session, defect, current_user, form.fix_note.data, form.fix_photo.data)
    ):
        flash(_("已记录整改"), "success")
        return redirect(url_for("installs.detail", job_id=defect.job_id) + "#defects")
    return _refused(defect.job_id, fix_forms={defect.id: form})


# ---------------------------------------------------------------- warranty claims


@bp.route("/warranty/<int:warranty_item_id>/claims", methods=["POST"])
def log_claim(warranty_item_id: int):
    item = get_or_404(WarrantyItem, warranty_item_id)
    require(Permission.VIEW_PEOPLE)
    job = _job_of_order(item.order_id)
    form = ClaimForm(prefix=f"w{item.id}")
    saved = save_form(
        form,
        lambda: service.log_claim(db.session, item, current_user, form.description.data, form.reported_on.data),
    )
    if job is None:  # a warranty without an installation job (not made by this module): back to the list
        flash(_("已登记报修") if saved else _("报修未登记"), "success" if saved else "error")
        return redirect(url_for("installs.index"))
    if saved:
        flash(_("已登记报修"), "success")
        return redirect(url_for("installs.detail", job_id=job.id) + "#warranty")
    return _refused(job.id, claim_forms={item.id: form})


@bp.route("/claims/<int:claim_id>/resolve", methods=["POST"])
def resolve_claim(claim_id: int):
    claim = get_or_404(WarrantyClaim, claim_id)
    require(Permission.VIEW_PEOPLE)
    order_id = claim.warranty_item.order_id
    job = _job_of_order(order_id)
    form = ResolveClaimForm(prefix=f"c{claim.id}")
    saved = save_form(
        form,
        lambda: service.resolve_claim(db.session, claim, current_user, form.resolution.data, form.resolved_on.data),
    )
    if job is None:
        flash(_("已处理报修") if saved else _("报修未处理"), "success" if saved else "error")
        return redirect(url_for("installs.index"))
    if saved:
        flash(_("已处理报修"), "success")
        return redirect(url_for("installs.detail", job_id=job.id) + "#warranty")
    return _refused(job.id, resolve_forms={claim.id: form})


# ---------------------------------------------------------------- the standard


@bp.route("/standard", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INSTALLS)
def standard():
    form = StandardForm()
    if request.method == "GET":
        form.items.data = "\n".join(service.standard_items(db.session, current_user.dealer_id))

    def save():
        current = service.standard_for(db.session, current_user.dealer_id)
        return service.update_standard(db.session, current, (form.items.data or "").splitlines())

    if save_form(form, save):
        flash(_("已保存验收标准"), "success")
        return redirect(url_for("installs.standard"))
    return render_template("installs/standard.html", form=form), form_status()


# ---------------------------------------------------------------- the acceptance report


@bp.route("/<int:job_id>/report.pdf")
def report(job_id: int):
    """A4: the five steps with who/when/results, photos, defects and fixes, the signature, the warranty terms."""
    get_or_404(InstallationJob, job_id)
    require(Permission.VIEW_PEOPLE)
    from crm.installs.printing import acceptance_pdf
    from crm.pdf.engine import pdf_response

    job = queries.load_job(db.session, job_id)
    pdf = acceptance_pdf(db.session, job, local_today())
    owner = job.order.person.name if job.order.person else ""
    return pdf_response(pdf, _("安装验收报告-%(owner)s.pdf", owner=owner))


def _job_of_order(order_id: int) -> InstallationJob | None:
    return db.session.scalars(sa.select(InstallationJob).where(InstallationJob.order_id == order_id)).first()


@bp.app_template_global("installation_job_of")
def _installation_job_of(order: Order):
    """For the order page's link: the job of `order`, if any (None for roles that may not see jobs)."""
    if not has_permission(current_user, Permission.VIEW_PEOPLE):
        return None
    return _job_of_order(order.id)
