"""Import people from CSV/XLSX and export the filtered list to XLSX (masking applied by role).

Import: upload → preview with a correctable column mapping → apply. No model holds the upload:
the file waits under UPLOAD_FOLDER/people-imports/<dealer_id>/ and its token (the stored file's
random name) travels in the URL, the mapping in form fields.
"""

from urllib.parse import quote

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from crm.core.forms import form_status
from crm.core.htmx import render_page_or_partial
from crm.core.i18n import lazy_gettext as _l
from crm.core.models import local_today
from crm.core.roles import Permission, permission_required, require
from crm.core.xlsx import XLSX_MIMETYPE
from crm.extensions import db
from crm.imports.parsing import MAX_FILE_BYTES, ImportFileError
from crm.people import importing

bp = Blueprint("people_io", __name__, url_prefix="/people/io")

# Mapping selects are named after the file column's position: headers can hold anything.
COLUMN_FIELD_PREFIX = "column-"


class PeopleUploadForm(FlaskForm):
    file = FileField(_l("人员名单文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择要导入的文件"))])


def _chosen_mapping(formdata, headers: list[str]) -> dict[int, str]:
    """Column index → field from the form's `column-<index>` selects."""
    chosen = {}
    for key, value in formdata.items():
        suffix = key.removeprefix(COLUMN_FIELD_PREFIX)
        if key.startswith(COLUMN_FIELD_PREFIX) and suffix.isdigit():
            chosen[int(suffix)] = value
    return importing.clean_mapping(chosen, headers)


def _load(token: str):
    """The stored upload a token names in the current user's dealer folder; 404 if it is not there."""
    path = importing.upload_path(current_user.dealer_id, token)
    if path is None:
        abort(404)
    try:
        return path, importing.load_upload(path)
    except ImportFileError:  # it was readable when stored; gone bad since means it is gone
        abort(404)


@bp.route("/import", methods=["GET", "POST"])
@permission_required(Permission.IMPORT_PEOPLE)
def upload():
    """Upload a people list; a readable one goes on to its preview."""
    form = PeopleUploadForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            token = importing.store_upload(current_user.dealer_id, file.filename or "", file.read(MAX_FILE_BYTES + 1))
        except ImportFileError as error:
            form.file.errors = [*form.file.errors, str(error)]
        else:
            return redirect(url_for("people_io.preview", token=token))
    return render_template("people_io/upload.html", form=form), form_status()


@bp.route("/import/<token>", methods=["GET", "POST"])
def preview(token: str):
    """The mapping and the dry run of an upload; a POSTed mapping re-renders the preview (the partial for htmx)."""
    _path, table = _load(token)
    require(Permission.IMPORT_PEOPLE)
    if request.method == "POST":
        mapping = _chosen_mapping(request.form, table.headers)
    else:
        mapping = importing.auto_mapping(table.headers)
    result = importing.preview_people(db.session, current_user.dealer_id, table, mapping, current_user)
    context = {
        "token": token,
        "preview": result,
        "field_choices": [("", _("忽略"))] + [(name, str(label)) for name, label in importing.FIELD_LABELS.items()],
        "RowStatus": importing.RowStatus,
    }
    return render_page_or_partial("people_io/preview.html", "people_io/_preview.html", **context)


@bp.route("/import/<token>/apply", methods=["POST"])
def apply(token: str):
    """Write the previewed rows in one transaction with the mapping the form carries, then forget the file."""
    path, table = _load(token)
    require(Permission.IMPORT_PEOPLE)
    mapping = _chosen_mapping(request.form, table.headers)
    try:
        result = importing.apply_people_import(db.session, current_user.dealer_id, table, mapping, current_user)
    except importing.PeopleImportError as error:
        db.session.rollback()
        flash(_("未导入任何数据：%(reason)s", reason=str(error)), "error")
        return redirect(url_for("people_io.preview", token=token))
    db.session.commit()
    importing.discard_upload(path)
    flash(
        _(
            "导入完成：新增 %(added)d 人，更新 %(updated)d 人，不变 %(unchanged)d 人，跳过有问题的 %(rejected)d 行",
            **result.counts,
        ),
        "success",
    )
    return redirect(url_for("people_io.upload"))


@bp.route("/export.xlsx")
@permission_required(Permission.VIEW_PEOPLE)
def export():
    """The people list, filtered like the list page, as an .xlsx; phones masked as the user sees them."""
    filters = importing.PeopleFilters.from_args(request.args)
    people = importing.people_for_export(db.session, current_user.dealer_id, filters)
    data = importing.export_workbook(people, current_user)
    day = local_today().isoformat()
    response = make_response(data)
    response.mimetype = XLSX_MIMETYPE
    # An ASCII name for old clients, the Chinese one (RFC 5987) for everyone else.
    filename = quote(_("人员名单-%(day)s.xlsx", day=day), safe="")
    response.headers["Content-Disposition"] = f"attachment; filename=\"people-{day}.xlsx\"; filename*=UTF-8''{filename}"
    response.headers["Cache-Control"] = "no-store"  # personal data: no copies in shared caches
    return response
