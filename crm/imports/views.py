"""Estate-list import: upload a file → check the column mapping against a preview → apply it."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.htmx import render_page_or_partial
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.validation import FieldError
from crm.estates.queries import all_cities
from crm.extensions import db, htmx
from crm.imports import queries, service
from crm.imports.forms import ColumnMappingForm, ImportUploadForm, chosen_fields, field_choices
from crm.imports.models import EstateImport
from crm.imports.parsing import MAX_FILE_BYTES
from crm.jobs.service import should_defer
from crm.jobs.views import start_job

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.IMPORT_ESTATES)
def new():
    form = ImportUploadForm(cities=all_cities(db.session))
    if request.method == "GET":
        form.city_id.data = current_user.dealer.city_id

    def upload():
        upload = form.file.data
        return service.create_import(
            db.session,
            dealer_id=current_user.dealer_id,
            city_id=form.city_id.data,
            coord_system=form.coord_system.data,
            filename=upload.filename or "",
            data=upload.read(MAX_FILE_BYTES + 1),
            created_by_id=current_user.id,
        )

    if estate_import := save_form(form, upload):
        return redirect(url_for("imports.detail", import_id=estate_import.id))
    recent = queries.recent_imports(db.session)
    return render_template("imports/new.html", form=form, recent_imports=recent), form_status()


def _preview_context(estate_import: EstateImport, preview: service.ImportPreview | None) -> dict:
    return {
        "estate_import": estate_import,
        "preview": preview,
        "mapping_form": ColumnMappingForm(formdata=None, coord_system=estate_import.coord_system.value),
        "field_choices": field_choices(),
        "RowStatus": service.RowStatus,
        "display_value": service.display_value,
    }


@bp.route("/<int:import_id>")
def detail(import_id: int):
    """The mapping and the preview of an upload (or, once applied, what it did)."""
    estate_import = get_or_404(EstateImport, import_id)
    require(Permission.IMPORT_ESTATES)
    preview = None if estate_import.applied_at else service.preview_import(db.session, estate_import)
    context = _preview_context(estate_import, preview)
    return render_page_or_partial("imports/detail.html", "imports/_preview.html", **context)


@bp.route("/<int:import_id>/mapping", methods=["POST"])
def mapping(import_id: int):
    """Save a corrected column mapping or coordinate system; htmx gets the re-rendered preview."""
    estate_import = get_or_404(EstateImport, import_id)
    require(Permission.IMPORT_ESTATES)
    form = ColumnMappingForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        preview = service.remap_import(db.session, estate_import, chosen_fields(request.form), form.coord_system.data)
    except FieldError as error:  # already applied: the partial shows what the import did instead
        db.session.rollback()
        preview = None
        if not htmx:
            flash(error.message, "error")
    else:
        db.session.commit()
    if htmx:
        return render_template("imports/_preview.html", **_preview_context(estate_import, preview))
    return redirect(url_for("imports.detail", import_id=import_id))


@bp.route("/<int:import_id>/apply", methods=["POST"])
def apply(import_id: int):
    """Write the previewed rows in one transaction, then show the estate list."""
    estate_import = get_or_404(EstateImport, import_id)
    require(Permission.IMPORT_ESTATES)
    if estate_import.applied_at is None and should_defer(
        len(service.load_table(estate_import).rows), "JOB_THRESHOLD_IMPORT_ROWS"
    ):
        title = _("导入楼盘表：%(name)s", name=estate_import.original_filename)
        return start_job("imports.apply", {"import_id": estate_import.id}, title)
    try:
        preview = service.apply_import(db.session, estate_import)
    except service.ImportApplyError as error:
        db.session.rollback()
        flash(_("未导入任何数据：%(reason)s", reason=str(error)), "error")
        return redirect(url_for("imports.detail", import_id=import_id))
    db.session.commit()
    flash(
        _(
            "导入完成：新增 %(added)d 个，更新 %(updated)d 个，不变 %(unchanged)d 个，跳过有问题的 %(rejected)d 行",
            **preview.counts,
        ),
        "success",
    )
    return redirect(url_for("estates.index"))
