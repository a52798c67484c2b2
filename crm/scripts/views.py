"""Stage scripts: 今天 on the tablet, the playbook library and editor, and running a group on a playbook."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.models import local_today
from crm.core.roles import Permission, has_permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.core.uploads import UploadError, save_image, upload_root
from crm.core.urls import safe_next
from crm.core.validation import FieldError, attach_to_form
from crm.core.xlsx import XLSX_MIMETYPE
from crm.extensions import db, htmx
from crm.groups.models import AccountRole, Group
from crm.groups.queries import dealer_users
from crm.scripts import content as c
from crm.scripts import queries, service
from crm.scripts.forms import (
    ROLE_FIELDS,
    ApplyForm,
    ImageForm,
    ImportForm,
    ItemForm,
    NoteForm,
    PhaseForm,
    PlaybookForm,
    PublishForm,
    ReassignForm,
    ShiftForm,
    SkipDayForm,
    TaskDoneForm,
    TaskSkipForm,
    TemplateForm,
)
from crm.scripts.models import Playbook, PlaybookVersion, RunStatus, ScriptRun, ScriptTask
from crm.scripts.placeholders import marked_placeholders

bp = Blueprint("scripts", __name__, url_prefix="/scripts")


@bp.app_template_global("group_script_progress")
def _group_script_progress(group):
    """Where a group stands on its playbook (the group page calls this; None without a live run)."""
    if not has_permission(current_user, Permission.VIEW_GROUPS):
        return None
    return queries.group_progress(db.session, [group.id], local_today()).get(group.id)


# ---------------------------------------------------------------- 今天


@bp.route("/today")
@permission_required(Permission.DO_SCRIPT_TASKS)
def today():
    today = queries.today_for(db.session, current_user)
    return render_template("scripts/today.html", today=today, older_days=queries.OVERDUE_DAYS_SHOWN)


def _load_task(task_id: int) -> ScriptTask:
    get_or_404(ScriptTask, task_id)
    require(Permission.DO_SCRIPT_TASKS)
    return queries.load_task(db.session, task_id)


def _task_response(task: ScriptTask, done_form=None, skip_form=None, status: int = 200):
    if htmx:
        card = queries.task_card(db.session, task)
        return render_template("scripts/_task.html", card=card, done_form=done_form, skip_form=skip_form), status
    if status != 200:
        flash(next(iter((done_form or skip_form).errors.values()), [_("操作未成功")])[0], "error")
    return redirect(safe_next(request.form.get("next"), "scripts.today"))


@bp.route("/tasks/<int:task_id>/done", methods=["POST"])
def complete_task(task_id: int):
    task = _load_task(task_id)
    form = TaskDoneForm()
    if save_form(form, lambda: service.complete_task(db.session, task, current_user, form.sent_text.data)) is None:
        if form.errors or form.form_errors:
            return _task_response(task, done_form=form, status=422)
    return _task_response(task)


@bp.route("/tasks/<int:task_id>/skip", methods=["POST"])
def skip_task(task_id: int):
    task = _load_task(task_id)
    form = TaskSkipForm()
    if save_form(form, lambda: service.skip_task(db.session, task, current_user, form.reason.data)) is None:
        if form.errors or form.form_errors:
            return _task_response(task, skip_form=form, status=422)
    return _task_response(task)


# ---------------------------------------------------------------- the library


def _load_playbook(playbook_id: int, *, edit: bool = False) -> Playbook:
    playbook = queries.visible_playbook(db.session, current_user, playbook_id)
    if playbook is None:
        abort(404)
    require(Permission.VIEW_PLAYBOOKS)
    if edit and not service.can_edit(current_user, playbook):
        abort(403)
    return playbook


@bp.route("/playbooks")
@permission_required(Permission.VIEW_PLAYBOOKS)
def playbooks():
    return render_template(
        "scripts/playbooks.html",
        library=queries.library(db.session, current_user),
        form=PlaybookForm(formdata=None),
        import_form=ImportForm(formdata=None),
        c=c,
    )


@bp.route("/playbooks/new", methods=["POST"])
@permission_required(Permission.EDIT_PLAYBOOKS)
def create_playbook():
    form = PlaybookForm()
    playbook = save_form(
        form, lambda: service.create_playbook(db.session, current_user, form.name.data, form.description.data)
    )
    if playbook:
        flash(_("已新建剧本：%(name)s", name=playbook.name), "success")
        return redirect(url_for("scripts.playbook", playbook_id=playbook.id))
    library = queries.library(db.session, current_user)
    page = render_template(
        "scripts/playbooks.html", library=library, form=form, import_form=ImportForm(formdata=None), c=c
    )
    return page, form_status()


@bp.route("/playbooks/import", methods=["POST"])
@permission_required(Permission.EDIT_PLAYBOOKS)
def import_playbook():
    from crm.scripts import io

    form = ImportForm()
    if form.validate_on_submit():
        try:
            parsed = io.parse_xlsx(form.file.data.read())
            name = service.available_name(db.session, current_user.dealer_id, parsed.name)
            playbook = service.create_playbook(db.session, current_user, name, parsed.description, parsed.content)
        except io.PlaybookFileError as error:
            form.file.errors = list(error.problems)
        except FieldError as error:
            db.session.rollback()
            form.file.errors = [error.message]
        else:
            db.session.commit()
            flash(_("已导入剧本：%(name)s（草稿，检查后发布）", name=playbook.name), "success")
            return redirect(url_for("scripts.playbook", playbook_id=playbook.id))
    library = queries.library(db.session, current_user)
    page = render_template(
        "scripts/playbooks.html", library=library, form=PlaybookForm(formdata=None), import_form=form, c=c
    )
    return page, 422


def _selected_day(playbook: Playbook) -> tuple[dict | None, int]:
    phases = playbook.content["phases"]
    phase = next((p for p in phases if p["key"] == request.args.get("phase")), phases[0] if phases else None)
    day = request.args.get("day", 1, type=int)
    if phase is None:
        return None, 0
    return phase, min(max(day, 1), len(phase["days"]))


def _editor_context(playbook: Playbook, **forms) -> dict:
    phase, day = _selected_day(playbook)
    return {
        "playbook": playbook,
        "can_edit": service.can_edit(current_user, playbook),
        "can_copy": has_permission(current_user, Permission.EDIT_PLAYBOOKS) and current_user.dealer_id is not None,
        "phase": phase,
        "day": day,
        "items": c.sorted_items(phase["days"][day - 1]["items"]) if phase else [],
        "problems": c.problems(playbook.content),
        "runs": queries.runs_per_version(db.session, playbook),
        "details_form": forms.get("details_form")
        or PlaybookForm(formdata=None, data={"name": playbook.name, "description": playbook.description}),
        "phase_form": forms.get("phase_form") or PhaseForm(formdata=None, data={"days": 1}),
        "item_form": forms.get("item_form") or ItemForm(formdata=None, data={"time": "09:00"}),
        "item_forms": _item_forms(phase, day, forms.get("item_key"), forms.get("edit_item_form")),
        "phase_forms": _phase_forms(playbook, forms.get("phase_key"), forms.get("edit_phase_form")),
        "template_form": forms.get("template_form") or TemplateForm(formdata=None),
        "publish_form": forms.get("publish_form") or PublishForm(formdata=None),
        "image_form": ImageForm(formdata=None),
        "c": c,
    }


def _item_forms(phase, day, failed_key=None, failed_form=None) -> dict[str, ItemForm]:
    if phase is None:
        return {}
    forms = {}
    for item in phase["days"][day - 1]["items"]:
        if item["key"] == failed_key:
            forms[item["key"]] = failed_form
        else:
            forms[item["key"]] = ItemForm(formdata=None, prefix=item["key"], data=item)
    return forms


def _phase_forms(playbook, failed_key=None, failed_form=None) -> dict[str, PhaseForm]:
    forms = {}
    for phase in playbook.content["phases"]:
        data = {"name": phase["name"], "goal": phase.get("goal", ""), "days": len(phase["days"])}
        forms[phase["key"]] = (
            failed_form if phase["key"] == failed_key else PhaseForm(formdata=None, prefix=phase["key"], data=data)
        )
    return forms


def _back(playbook: Playbook, phase_key: str | None = None, day: int | None = None, anchor: str = ""):
    args = {"playbook_id": playbook.id}
    if phase_key:
        args["phase"] = phase_key
    if day:
        args["day"] = day
    return redirect(url_for("scripts.playbook", **args) + (f"#{anchor}" if anchor else ""))


@bp.route("/playbooks/<int:playbook_id>")
def playbook(playbook_id: int):
    return render_template("scripts/playbook.html", **_editor_context(_load_playbook(playbook_id)))


def _edit_failed(playbook: Playbook, **forms):
    db.session.rollback()
    return render_template("scripts/playbook.html", **_editor_context(playbook, **forms)), 422


def _run_edit(playbook: Playbook, form, action, form_name: str, **extra):
    """Validate `form`, run the draft edit, commit; on failure re-show the editor with the errors."""
    if form.validate_on_submit():
        try:
            result = action()
        except FieldError as error:
            attach_to_form(form, error)
        else:
            db.session.commit()
            return result
    return _edit_failed(playbook, **{form_name: form}, **extra)


@bp.route("/playbooks/<int:playbook_id>/details", methods=["POST"])
def update_playbook(playbook_id: int):
    playbook = _load_playbook(playbook_id, edit=True)
    form = PlaybookForm()
    result = _run_edit(
        playbook,
        form,
        lambda: service.update_details(db.session, playbook, form.name.data, form.description.data) or _back(playbook),
        "details_form",
    )
    return result


@bp.route("/playbooks/<int:playbook_id>/phases", methods=["POST"])
def add_phase(playbook_id: int):
    playbook = _load_playbook(playbook_id, edit=True)
    form = PhaseForm()

    def add():
        key = service.add_phase(
            db.session, playbook, service.PhaseFields(form.name.data, form.goal.data, form.days.data)
        )
        return _back(playbook, key, 1)

    return _run_edit(playbook, form, add, "phase_form")


@bp.route("/playbooks/<int:playbook_id>/phases/<phase_key>", methods=["POST"])
def update_phase(playbook_id: int, phase_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    form = PhaseForm(prefix=phase_key)

    def update():
        fields = service.PhaseFields(form.name.data, form.goal.data, form.days.data)
        service.update_phase(db.session, playbook, phase_key, fields)
        return _back(playbook, phase_key, 1)

    return _run_edit(playbook, form, update, "edit_phase_form", phase_key=phase_key)


@bp.route("/playbooks/<int:playbook_id>/phases/<phase_key>/move", methods=["POST"])
def move_phase(playbook_id: int, phase_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    step = -1 if request.form.get("direction") == "up" else 1
    return _simple_edit(playbook, lambda: service.move_phase(db.session, playbook, phase_key, step), phase_key)


@bp.route("/playbooks/<int:playbook_id>/phases/<phase_key>/delete", methods=["POST"])
def delete_phase(playbook_id: int, phase_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    return _simple_edit(playbook, lambda: service.delete_phase(db.session, playbook, phase_key))


def _simple_edit(playbook: Playbook, action, phase_key: str | None = None, day: int | None = None, anchor: str = ""):
    """A one-click draft edit (move, delete): commit, or say why not, then back to the editor."""
    try:
        action()
    except FieldError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    return _back(playbook, phase_key, day, anchor)


def _item_fields(form: ItemForm) -> service.ItemFields:
    return service.ItemFields(
        time=form.time.data,
        role=form.role.data,
        kind=form.kind.data,
        text=form.text.data,
        slot=form.slot.data,
        intent=form.intent.data,
    )


@bp.route("/playbooks/<int:playbook_id>/phases/<phase_key>/days/<int:day>/items", methods=["POST"])
def add_item(playbook_id: int, phase_key: str, day: int):
    playbook = _load_playbook(playbook_id, edit=True)
    form = ItemForm()

    def add():
        key = service.add_item(db.session, playbook, phase_key, day, _item_fields(form))
        return _back(playbook, phase_key, day, f"item-{key}")

    return _run_edit(playbook, form, add, "item_form")


@bp.route("/playbooks/<int:playbook_id>/items/<item_key>", methods=["POST"])
def update_item(playbook_id: int, item_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    form = ItemForm(prefix=item_key)
    phase_key, day = request.args.get("phase"), request.args.get("day", type=int)

    def update():
        service.update_item(db.session, playbook, item_key, _item_fields(form))
        return _back(playbook, phase_key, day, f"item-{item_key}")

    return _run_edit(playbook, form, update, "edit_item_form", item_key=item_key)


@bp.route("/playbooks/<int:playbook_id>/items/<item_key>/delete", methods=["POST"])
def delete_item(playbook_id: int, item_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    phase_key, day = request.args.get("phase"), request.args.get("day", type=int)
    return _simple_edit(playbook, lambda: service.delete_item(db.session, playbook, item_key), phase_key, day)


@bp.route("/playbooks/<int:playbook_id>/items/<item_key>/images", methods=["POST"])
def add_item_image(playbook_id: int, item_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    phase_key, day = request.args.get("phase"), request.args.get("day", type=int)
    form = ImageForm()
    if not form.validate_on_submit():
        flash(_("请选择图片"), "error")
        return _back(playbook, phase_key, day, f"item-{item_key}")
    try:
        path = save_image(form.image.data, f"playbooks/{playbook.id}")
        service.add_item_image(db.session, playbook, item_key, path)
    except (UploadError, FieldError) as error:
        db.session.rollback()
        flash(str(getattr(error, "message", error)), "error")
    else:
        db.session.commit()
    return _back(playbook, phase_key, day, f"item-{item_key}")


@bp.route("/playbooks/<int:playbook_id>/items/<item_key>/images/remove", methods=["POST"])
def remove_item_image(playbook_id: int, item_key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    phase_key, day = request.args.get("phase"), request.args.get("day", type=int)
    path = request.form.get("path", "")
    return _simple_edit(
        playbook, lambda: service.remove_item_image(db.session, playbook, item_key, path), phase_key, day
    )


@bp.route("/playbooks/<int:playbook_id>/images/<name>")
def image(playbook_id: int, name: str):
    """An image attached to a script: shown to whoever may open the playbook it was uploaded to."""
    _load_playbook(playbook_id)
    folder = (upload_root() / "playbooks" / str(playbook_id)).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        abort(404)
    return send_file(path, max_age=3600)


@bp.route("/playbooks/<int:playbook_id>/templates", methods=["POST"])
def save_template(playbook_id: int):
    playbook = _load_playbook(playbook_id, edit=True)
    key = request.args.get("key") or None
    form = TemplateForm(prefix=key or "")

    def save():
        service.set_template(db.session, playbook, key, form.name.data, form.text.data)
        return _back(playbook, anchor="templates")

    return _run_edit(playbook, form, save, "template_form")


@bp.route("/playbooks/<int:playbook_id>/templates/<key>/delete", methods=["POST"])
def delete_template(playbook_id: int, key: str):
    playbook = _load_playbook(playbook_id, edit=True)
    return _simple_edit(playbook, lambda: service.delete_template(db.session, playbook, key), anchor="templates")


@bp.route("/playbooks/<int:playbook_id>/publish", methods=["POST"])
def publish(playbook_id: int):
    playbook = _load_playbook(playbook_id, edit=True)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            version = service.publish(db.session, current_user, playbook, form.note.data)
        except service.PublishError:
            db.session.rollback()
            form.form_errors.append(_("还有问题没解决，不能发布：见上方列表"))
        else:
            db.session.commit()
            flash(_("已发布 %(label)s", label=version.label), "success")
            return _back(playbook)
    return _edit_failed(playbook, publish_form=form)


@bp.route("/playbooks/<int:playbook_id>/copy", methods=["POST"])
def copy_playbook(playbook_id: int):
    source = _load_playbook(playbook_id)
    require(Permission.EDIT_PLAYBOOKS)
    if current_user.dealer_id is None:
        abort(403)
    try:
        copy = service.copy_playbook(db.session, current_user, source)
    except FieldError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("scripts.playbooks"))
    db.session.commit()
    flash(_("已复制为本店剧本：%(name)s", name=copy.name), "success")
    return redirect(url_for("scripts.playbook", playbook_id=copy.id))


@bp.route("/playbooks/<int:playbook_id>/delete", methods=["POST"])
def delete_playbook(playbook_id: int):
    playbook = _load_playbook(playbook_id, edit=True)
    try:
        service.delete_playbook(db.session, playbook)
    except FieldError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back(playbook)
    db.session.commit()
    flash(_("已删除剧本"), "success")
    return redirect(url_for("scripts.playbooks"))


def _content_to_print(playbook: Playbook) -> tuple[dict, str]:
    """The version asked for (?version=N), else the draft."""
    number = request.args.get("version", type=int)
    if number is None:
        return playbook.content, _("草稿")
    version = next((v for v in playbook.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version.content, version.label


def _attachment(data: bytes, filename: str, mimetype: str):
    response = make_response(data)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@bp.route("/playbooks/<int:playbook_id>/export.xlsx")
def export_playbook(playbook_id: int):
    from crm.scripts import io

    playbook = _load_playbook(playbook_id)
    content, label = _content_to_print(playbook)
    data = io.export_xlsx(playbook.name, playbook.description, content, label)
    return _attachment(data, f"{playbook.name}-{label}.xlsx", XLSX_MIMETYPE)


@bp.route("/playbooks/<int:playbook_id>/print.pdf")
def print_playbook(playbook_id: int):
    from crm.scripts import printing

    playbook = _load_playbook(playbook_id)
    content, label = _content_to_print(playbook)
    dealer_name = current_user.dealer.name if current_user.dealer else _("总部")
    data = printing.playbook_pdf(playbook.name, label, dealer_name, content)
    return _attachment(data, f"{playbook.name}-{label}.pdf", "application/pdf")


# ---------------------------------------------------------------- a group on a playbook


def _load_group(group_id: int) -> Group:
    group = get_or_404(Group, group_id)
    require(Permission.VIEW_GROUPS)
    return group


def _value_fields(version: PlaybookVersion | None, run: ScriptRun | None = None) -> list[tuple[str, str, str]]:
    """(form field name, placeholder, current value) for each placeholder the data cannot fill."""
    if version is None:
        return []
    current = (run.values if run else None) or {}
    names = c.asked_placeholders(version.content)
    return [(f"value_{i}", name, request.form.get(f"value_{i}", current.get(name, ""))) for i, name in enumerate(names)]


def _posted_values(version: PlaybookVersion | None) -> dict[str, str]:
    return {name: value for _field, name, value in _value_fields(version)}


def _apply_form(group: Group, formdata=None) -> ApplyForm:
    versions = queries.applicable_versions(db.session, group.dealer_id)
    users = dealer_users(db.session, group.dealer_id)
    if formdata is not None:
        return ApplyForm(versions=versions, users=users)
    data = {"starts_on": local_today(), "version_id": request.args.get("version_id", type=int)}
    for account in group.accounts:  # who already plays what in this group
        data.setdefault(ROLE_FIELDS[account.role], account.user_id)
    return ApplyForm(formdata=None, versions=versions, users=users, data=data)


def _group_page(group: Group, apply_form: ApplyForm | None = None, field_errors: dict | None = None, **forms):
    run = service.live_run(db.session, group.id)
    run = queries.load_run(db.session, run.id) if run else None
    context = {
        "group": group,
        "run": run,
        "past_runs": [r for r in queries.group_runs(db.session, group.id) if r is not run],
        "can_run": has_permission(current_user, Permission.RUN_SCRIPTS),
        "today": local_today(),
        "field_errors": field_errors or {},
    }
    if run:
        context.update(
            progress=queries.group_progress(db.session, [group.id], local_today())[group.id],
            calendar=queries.run_calendar(db.session, run),
            standing=queries.standing_texts(db.session, run),
            value_fields=_value_fields(run.version, run),
            filled_values=queries.placeholder_values(db.session, run),
            shift_form=forms.get("shift_form")
            or ShiftForm(formdata=None, data={"from_date": local_today(), "days": 1}),
            skip_form=forms.get("skip_form") or SkipDayForm(formdata=None, data={"on_date": local_today()}),
            note_form=NoteForm(formdata=None),
            staff=dealer_users(db.session, group.dealer_id),
        )
    else:
        apply_form = apply_form or _apply_form(group)
        version = db.session.get(PlaybookVersion, apply_form.version_id.data) if apply_form.version_id.data else None
        context.update(
            apply_form=apply_form,
            chosen_version=version,
            roles_needed=c.roles_used(version.content) if version else [],
            value_fields=_value_fields(version),
        )
    return context


@bp.route("/groups/<int:group_id>")
def group_script(group_id: int):
    group = _load_group(group_id)
    context = _group_page(group)
    if htmx and request.args.get("version_id") is not None and context["run"] is None:
        return render_template("scripts/_apply.html", **context)
    return render_template("scripts/group.html", **context)


@bp.route("/groups/<int:group_id>/apply", methods=["POST"])
def apply(group_id: int):
    group = _load_group(group_id)
    require(Permission.RUN_SCRIPTS)
    form = _apply_form(group, formdata=request.form)
    version = db.session.get(PlaybookVersion, form.version_id.data) if form.version_id.data else None
    field_errors = {}
    if form.validate_on_submit():
        if version is None:
            form.version_id.errors = [_("请选择剧本")]
        else:
            try:
                service.apply_playbook(
                    db.session,
                    current_user,
                    group,
                    version,
                    form.starts_on.data,
                    form.role_users(),
                    _posted_values(version),
                )
            except FieldError as error:
                db.session.rollback()
                if error.field.startswith("value_"):
                    field_errors[error.field] = error.message
                else:
                    attach_to_form(form, error)
            else:
                db.session.commit()
                flash(_("已按剧本安排：%(name)s", name=version.playbook.name), "success")
                return redirect(url_for("scripts.group_script", group_id=group.id))
    return render_template("scripts/group.html", **_group_page(group, form, field_errors)), 422


def _load_run(run_id: int) -> ScriptRun:
    get_or_404(ScriptRun, run_id)
    require(Permission.RUN_SCRIPTS)
    return queries.load_run(db.session, run_id)


def _run_action(run: ScriptRun, form, action, form_name: str | None = None, message: str = ""):
    if form.validate_on_submit():
        try:
            action()
        except FieldError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            if message:
                flash(message, "success")
            return redirect(url_for("scripts.group_script", group_id=run.group_id))
    if not form_name:  # a one-click action: say why not at the top of the page
        for error in dict.fromkeys([*form.form_errors, *(e for errors in form.errors.values() for e in errors)]):
            flash(error, "error")
        return redirect(url_for("scripts.group_script", group_id=run.group_id))
    group = db.session.get(Group, run.group_id)
    return render_template("scripts/group.html", **_group_page(group, **{form_name: form})), 422


@bp.route("/runs/<int:run_id>/pause", methods=["POST"])
def pause_run(run_id: int):
    run = _load_run(run_id)
    return _run_action(run, NoteForm(), lambda: service.pause(db.session, run, current_user), message=_("已暂停"))


@bp.route("/runs/<int:run_id>/resume", methods=["POST"])
def resume_run(run_id: int):
    run = _load_run(run_id)
    return _run_action(run, NoteForm(), lambda: service.resume(db.session, run, current_user), message=_("已恢复"))


@bp.route("/runs/<int:run_id>/stop", methods=["POST"])
def stop_run(run_id: int):
    run = _load_run(run_id)
    form = NoteForm()
    return _run_action(
        run, form, lambda: service.stop(db.session, run, current_user, form.note.data or ""), message=_("剧本已停止")
    )


@bp.route("/runs/<int:run_id>/shift", methods=["POST"])
def shift_run(run_id: int):
    run = _load_run(run_id)
    form = ShiftForm()

    def shift():
        service.shift(db.session, run, current_user, form.from_date.data, form.days.data, form.note.data or "")

    return _run_action(run, form, shift, "shift_form", _("已调整日程"))


@bp.route("/runs/<int:run_id>/skip-day", methods=["POST"])
def skip_run_day(run_id: int):
    run = _load_run(run_id)
    form = SkipDayForm()

    def skip():
        service.skip_day(db.session, run, current_user, form.on_date.data, form.note.data or "")

    return _run_action(run, form, skip, "skip_form", _("已跳过这一天，之后的安排顺延一天"))


@bp.route("/runs/<int:run_id>/roles", methods=["POST"])
def reassign_role(run_id: int):
    run = _load_run(run_id)
    form = ReassignForm()

    def reassign():
        service.reassign_role(db.session, run, AccountRole(form.role.data), form.user_id.data, current_user)

    return _run_action(run, form, reassign, message=_("已换人，未完成的话术已转给新账号"))


@bp.route("/runs/<int:run_id>/values", methods=["POST"])
def set_run_values(run_id: int):
    run = _load_run(run_id)
    try:
        service.set_values(db.session, run, _posted_values(run.version))
    except FieldError as error:
        db.session.rollback()
        group = db.session.get(Group, run.group_id)
        return render_template(
            "scripts/group.html", **_group_page(group, field_errors={error.field: error.message})
        ), 422
    db.session.commit()
    flash(_("已保存"), "success")
    return redirect(url_for("scripts.group_script", group_id=run.group_id))


def image_url(path: str) -> str:
    """The URL of a script image stored as playbooks/<playbook id>/<file>."""
    parts = Path(path).parts
    if len(parts) != 3 or parts[0] != "playbooks" or not parts[1].isdigit():
        return ""
    return url_for("scripts.image", playbook_id=int(parts[1]), name=parts[2])


bp.add_app_template_global(image_url, "script_image_url")
bp.add_app_template_global(RunStatus, "RunStatus")
bp.add_app_template_filter(marked_placeholders, "placeholders")
