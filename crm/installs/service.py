"""Writes for installation jobs and the five-step inspection (安装社群监管五步流程): scheduling, the dealer's
standard, attempts in fixed order, defects and rework, the owner's signature, acceptance with the warranty it
starts, and warranty claims. Functions only flush; the request commits once.

Who records what (checked here, so a direct POST cannot skip it; views answer 403 before calling):
- step 1 (自检) and defect fixes: an installer of the job, or the dealer lead;
- step 2 (抽检): a consultant (顾问导购) or the lead;
- steps 3–5 (群检, 邻里互检, 业主验收): any dealer staff except installers — the people who fitted the doors
  do not record the checks of their own work; they see them and fix what is found.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from crm.core.models import local_today, utcnow
from crm.core.roles import Role
from crm.core.uploads import UploadError, delete_upload, save_image
from crm.core.validation import FieldError
from crm.installs.models import (
    DEFAULT_CHECKLIST,
    Defect,
    InspectionAttempt,
    InspectionPhoto,
    InspectionStandard,
    InstallationJob,
    JobStatus,
    Step,
    WarrantyClaim,
    WarrantyItem,
)
from crm.orders.models import Order, OrderStatus
from crm.orders.service import change_status
from crm.org.models import User
from crm.people.models import Person

MAX_STANDARD_ITEMS = 30
MAX_ITEM_CHARS = 30
MAX_NOTE_CHARS = 200  # a checklist item's note
MAX_DEFECTS_PER_ATTEMPT = 20
MAX_PHOTOS_PER_ATTEMPT = 12
MAX_SIGNATURE_BYTES = 1024 * 1024
MAX_SIGNATURE_PIXELS = 4_000_000
SIGNATURE_PREFIX = "data:image/png;base64,"
# An order can be scheduled once it is signed; inspections run while it waits for or is in installation.
SCHEDULABLE = frozenset(
    {OrderStatus.SIGNED, OrderStatus.PRODUCTION, OrderStatus.AWAITING_INSTALL, OrderStatus.INSTALLING}
)
INSPECTABLE = frozenset({OrderStatus.AWAITING_INSTALL, OrderStatus.INSTALLING})
STAFF_ROLES = frozenset({Role.DEALER_LEAD, Role.OPERATOR, Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT})
INSPECTOR_ROLES = frozenset({Role.CONSULTANT, Role.DEALER_LEAD})


class NotAllowed(Exception):
    """The user's role may not record this (views check `may_record`/`may_fix` first and answer 403)."""


def _text(value: str | None, field_name: str, limit: int, required_message: str | None = None) -> str:
    text = (value or "").strip()
    if required_message and not text:
        raise FieldError(field_name, required_message)
    if len(text) > limit:
        raise FieldError(field_name, _("不能超过 %(n)d 个字", n=limit))
    return text


# ---------------------------------------------------------------- the standard


def standard_items(session: Session, dealer_id: int) -> list[str]:
    """The items every step checks: the dealer's standard, or DEFAULT_CHECKLIST until they edit it (no write)."""
    query = sa.select(InspectionStandard.items).where(InspectionStandard.dealer_id == dealer_id)
    items = session.scalars(query).first()
    return list(items) if items else list(DEFAULT_CHECKLIST)


def standard_for(session: Session, dealer_id: int) -> InspectionStandard:
    """The dealer's checklist standard, created from DEFAULT_CHECKLIST the first time it is asked for."""
    standard = session.scalars(sa.select(InspectionStandard).where(InspectionStandard.dealer_id == dealer_id)).first()
    if standard is None:
        standard = InspectionStandard(dealer_id=dealer_id, items=list(DEFAULT_CHECKLIST))
        session.add(standard)
        session.flush()
    return standard


def update_standard(session: Session, standard: InspectionStandard, items: Iterable[str]) -> InspectionStandard:
    """Replace the checklist (one item per entry, blanks dropped); past attempts keep the items they were checked on."""
    cleaned: list[str] = []
    for raw in items:
        item = (raw or "").strip()
        if not item:
            continue
        if len(item) > MAX_ITEM_CHARS:
            raise FieldError("items", _("每项不能超过 %(n)d 个字：%(item)s", n=MAX_ITEM_CHARS, item=item[:40]))
        if item in cleaned:
            raise FieldError("items", _("检查项重复：%(item)s", item=item))
        cleaned.append(item)
    if not cleaned:
        raise FieldError("items", _("验收标准至少要有一项"))
    if len(cleaned) > MAX_STANDARD_ITEMS:
        raise FieldError("items", _("验收标准最多 %(n)d 项", n=MAX_STANDARD_ITEMS))
    standard.items = cleaned
    session.flush()
    return standard


# ---------------------------------------------------------------- jobs


@dataclass
class JobFields:
    scheduled_on: date | None
    installer_ids: list[int] = field(default_factory=list)
    building: str = ""
    unit: str = ""
    room: str = ""


def _apply_job(session: Session, job: InstallationJob, order: Order, fields: JobFields) -> None:
    ids = sorted({int(i) for i in fields.installer_ids if i})
    if not ids:
        raise FieldError("installer_ids", _("请至少选择一位安装工"))
    installers = session.scalars(sa.select(User).where(User.id.in_(ids))).all()
    valid = [u for u in installers if u.dealer_id == order.dealer_id and u.role == Role.INSTALLER]
    if len(valid) != len(ids):
        raise FieldError("installer_ids", _("只能选择本店角色为“安装工”的账号"))
    building = _text(fields.building, "building", 20) or order.building
    unit = _text(fields.unit, "unit", 20) or order.unit
    room = _text(fields.room, "room", 20) or order.room
    job.scheduled_on = fields.scheduled_on
    job.building, job.unit, job.room = building, unit, room
    job.installers = sorted(valid, key=lambda u: u.username)


def create_job(session: Session, order: Order, fields: JobFields) -> InstallationJob:
    """Schedule the installation of an order: installers of the dealer, a date, the flat (defaults: the order's)."""
    existing = session.scalars(sa.select(InstallationJob.id).where(InstallationJob.order_id == order.id)).first()
    if existing is not None:
        raise FieldError("order_id", _("这个订单已经有安装单了"))
    if order.status not in SCHEDULABLE:
        raise FieldError("order_id", _("订单状态为“%(status)s”，不能安排安装", status=order.status.label))
    job = InstallationJob(dealer_id=order.dealer_id, order_id=order.id, status=JobStatus.SCHEDULED)
    _apply_job(session, job, order, fields)
    session.add(job)
    session.flush()
    return job


def update_job(session: Session, job: InstallationJob, fields: JobFields) -> InstallationJob:
    """Reschedule a job, change its installers or the flat (not once it is accepted)."""
    if job.status == JobStatus.ACCEPTED:
        raise FieldError("scheduled_on", _("已验收的安装单不能再修改"))
    _apply_job(session, job, job.order, fields)
    session.flush()
    return job


# ---------------------------------------------------------------- where the inspection stands


def next_step(job: InstallationJob) -> Step | None:
    """The step to record next (None once step 5 has passed).

    Steps pass in order; a failed attempt sends the job to rework and, once its defects are fixed, the same
    step is attempted again: the steps before it stay passed.
    """
    current = Step.SELF_CHECK
    for attempt in sorted(job.attempts, key=lambda a: a.id or 0):
        if attempt.step != current:
            continue  # not reachable through record_attempt; ignore rather than guess
        if attempt.passed:
            if current == Step.OWNER_ACCEPTANCE:
                return None
            current = Step(current + 1)
    return current


def open_defects(job: InstallationJob) -> list[Defect]:
    """Defects found and not yet fixed (while any is open the job is in rework)."""
    return [defect for defect in job.defects if defect.is_open]


@dataclass
class StepState:
    """One step of the stepper: where it stands and its attempts so far."""

    step: Step
    state: str  # passed | failed (in rework) | next | waiting
    attempts: list[InspectionAttempt]

    @property
    def label(self) -> str:
        return self.step.label

    @property
    def last(self) -> InspectionAttempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def passing(self) -> InspectionAttempt | None:
        return next((a for a in reversed(self.attempts) if a.passed), None)


def step_states(job: InstallationJob) -> list[StepState]:
    """The five steps with their state (passed, failed and in rework, next, waiting) and attempts."""
    upcoming = next_step(job)
    in_rework = bool(open_defects(job))
    states = []
    for step in Step:
        attempts = [a for a in sorted(job.attempts, key=lambda a: a.id or 0) if a.step == step]
        if upcoming is None or step < upcoming:
            state = "passed"
        elif step == upcoming:
            state = "failed" if in_rework and attempts and not attempts[-1].passed else "next"
        else:
            state = "waiting"
        states.append(StepState(step, state, attempts))
    return states


def _is_job_installer(user: User, job: InstallationJob) -> bool:
    return user.role == Role.INSTALLER and any(u.id == user.id for u in job.installers)


def may_record(user: User, job: InstallationJob, step: Step | int) -> bool:
    """Whether `user` may record `step` of `job` (see the module docstring)."""
    if getattr(user, "dealer_id", None) != job.dealer_id:
        return False
    role = Role(user.role)
    if role == Role.DEALER_LEAD:
        return True
    if step == Step.SELF_CHECK:
        return _is_job_installer(user, job)
    if step == Step.SPOT_CHECK:
        return role == Role.CONSULTANT
    return role in STAFF_ROLES


def may_fix(user: User, job: InstallationJob) -> bool:
    """Whether `user` may record a defect's fix: an installer of the job or the lead."""
    if getattr(user, "dealer_id", None) != job.dealer_id:
        return False
    return Role(user.role) == Role.DEALER_LEAD or _is_job_installer(user, job)


# ---------------------------------------------------------------- recording a step


@dataclass
class ChecklistResult:
    item: str
    passed: bool | None  # None: nobody chose 合格 or 不合格
    note: str = ""


@dataclass
class AttemptFields:
    checklist: list[ChecklistResult]
    performer_user_id: int | None = None
    performer_person_id: int | None = None
    performer_name: str = ""  # step 3: the group whose members checked the photos
    notes: str = ""
    defects: str | list[str] = ""  # one per line: defects found beyond the checklist
    photos: list = field(default_factory=list)  # FileStorage
    photo_caption: str = ""
    signature: str = ""  # step 5: the owner's signature as a PNG data URL


def person_label(person: Person) -> str:
    """A person as the job shows them: name and flat, never a phone number."""
    flat = "-".join(part for part in (person.building, person.unit, person.room) if part)
    return f"{person.name}（{flat}）" if flat else person.name


def _checklist(session: Session, job: InstallationJob, results: list[ChecklistResult]) -> list[dict]:
    by_item = {result.item: result for result in results}
    checked = []
    for item in standard_items(session, job.dealer_id):
        result = by_item.get(item)
        if result is None or result.passed is None:
            raise FieldError("checklist", _("请为“%(item)s”选择合格或不合格", item=item))
        note = (result.note or "").strip()
        if len(note) > MAX_NOTE_CHARS:
            raise FieldError("checklist", _("“%(item)s”的说明不能超过 %(n)d 个字", item=item, n=MAX_NOTE_CHARS))
        if not result.passed and not note:
            raise FieldError("checklist", _("“%(item)s”不合格：请写明问题", item=item))
        checked.append({"item": item, "passed": bool(result.passed), "note": note})
    return checked


def _performer(session: Session, job: InstallationJob, step: Step, user: User, fields: AttemptFields):
    """(user id, person id, name) of who performed the step, checked against the step's rule."""
    order = job.order
    if step == Step.SELF_CHECK:
        performer_id = fields.performer_user_id
        if performer_id is None and _is_job_installer(user, job):
            performer_id = user.id
        if performer_id is None and len(job.installers) == 1:
            performer_id = job.installers[0].id
        performer = next((u for u in job.installers if u.id == performer_id), None)
        if performer is None:
            raise FieldError("performer_user_id", _("自检须由这单的安装工完成：请选择安装工"))
        return performer.id, None, performer.name
    if step == Step.SPOT_CHECK:
        performer_id = fields.performer_user_id
        if performer_id is None and Role(user.role) in INSPECTOR_ROLES:
            performer_id = user.id
        performer = session.get(User, performer_id) if performer_id else None
        if performer is None or performer.dealer_id != job.dealer_id or performer.role not in INSPECTOR_ROLES:
            raise FieldError("performer_user_id", _("抽检须由顾问导购或社群负责人带队：请选择抽检人"))
        return performer.id, None, performer.name
    if step == Step.GROUP_CHECK:
        name = _text(fields.performer_name, "performer_name", 64, _("请填写在哪个群里检查的（群名）"))
        return None, None, name
    if step == Step.NEIGHBOUR_CHECK:
        person = session.get(Person, fields.performer_person_id) if fields.performer_person_id else None
        if person is None or person.dealer_id != job.dealer_id or person.estate_id != order.estate_id:
            raise FieldError("performer_person_id", _("邻里互检须选择同一楼盘登记过的邻居"))
        if person.id == order.person_id:
            raise FieldError("performer_person_id", _("邻里互检须由邻居来检查，不能是业主本人"))
        return None, person.id, person_label(person)[:64]
    owner = order.person
    return None, owner.id, person_label(owner)[:64]


def _defect_lines(value: str | list[str]) -> list[str]:
    lines = value.splitlines() if isinstance(value, str) else list(value)
    found = [line.strip() for line in lines if line and line.strip()]
    if len(found) > MAX_DEFECTS_PER_ATTEMPT:
        raise FieldError("defects", _("一次最多记录 %(n)d 个缺陷", n=MAX_DEFECTS_PER_ATTEMPT))
    for line in found:
        if len(line) > 500:
            raise FieldError("defects", _("每个缺陷的描述不能超过 %(n)d 个字", n=500))
    return found


def _uploads(files) -> list:
    return [f for f in (files or []) if f is not None and getattr(f, "filename", "")]


def signature_png(data_url: str | None) -> bytes:
    """The owner's signature from the pad's PNG data URL; FieldError when missing, not a PNG, or blank."""
    text = (data_url or "").strip()
    if not text:
        raise FieldError("signature", _("请业主在屏幕上签名"))
    if not text.startswith(SIGNATURE_PREFIX):
        raise FieldError("signature", _("签名格式不正确，请清除后重新签名"))
    payload = text[len(SIGNATURE_PREFIX) :]
    if len(payload) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise FieldError("signature", _("签名图片过大，请清除后重新签名"))
    try:
        data = base64.b64decode(payload, validate=True)
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "PNG" or probe.width * probe.height > MAX_SIGNATURE_PIXELS:
                raise ValueError("not a signature PNG")
            probe.load()
            drawing = probe.convert("RGBA")
    except (binascii.Error, UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise FieldError("signature", _("签名格式不正确，请清除后重新签名")) from None
    if not has_ink(drawing):
        raise FieldError("signature", _("签名是空白的，请业主在屏幕上签名"))
    return data


def has_ink(image: Image.Image) -> bool:
    """True if anything is drawn: strokes on a transparent or white canvas."""
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    paper.alpha_composite(image.convert("RGBA"))
    ink = ImageOps.invert(paper.convert("L")).point(lambda value: 255 if value > 48 else 0)
    return ink.getbbox() is not None


def _store_signature(data: bytes, dealer_id: int) -> str:
    try:
        return save_image(FileStorage(io.BytesIO(data), "signature.png", "image/png"), f"signatures/{dealer_id}")
    except UploadError as error:
        raise FieldError("signature", str(error)) from None


def _store_photos(files: list, folder: str, field_name: str) -> list[str]:
    """Verify and store each photo; if one is refused, the ones stored before it are removed."""
    stored: list[str] = []
    try:
        for upload in files:
            try:
                stored.append(save_image(upload, folder))
            except UploadError as error:
                raise FieldError(field_name, _("%(name)s：%(reason)s", name=upload.filename, reason=error)) from None
    except Exception:
        for path in stored:
            delete_upload(path)
        raise
    return stored


def check_due(job: InstallationJob, step: Step) -> None:
    """FieldError("step", …) unless `step` may be recorded now: the job is not accepted, `step` is the one due,
    no defect is open, and the order waits for or is in installation."""
    due = next_step(job)
    if due is None or job.status == JobStatus.ACCEPTED:
        raise FieldError("step", _("这单已验收完成，不能再记录验收步骤"))
    if step != due:
        raise FieldError(
            "step", _("现在应进行第 %(n)d 步“%(label)s”：五步须按顺序进行，不能跳过或重复", n=due, label=due.label)
        )
    still_open = open_defects(job)
    if still_open:
        raise FieldError(
            "step", _("还有 %(n)d 个缺陷未整改：整改并拍照后，再从第 %(step)d 步继续", n=len(still_open), step=due)
        )
    if job.order.status not in INSPECTABLE:
        raise FieldError("step", _("订单状态为“%(status)s”，不能进行安装验收", status=job.order.status.label))


def record_attempt(
    session: Session, job: InstallationJob, step: int, user: User, fields: AttemptFields, today: date | None = None
) -> InspectionAttempt:
    """Record one pass or fail of the step that is due, with its checklist, photos and (step 5) signature.

    Refuses a step out of order, a step while defects are open, and performers the step does not allow. A failed
    checklist item or a described defect fails the attempt and opens a Defect for each; the job goes to rework.
    The first attempt moves the order 待安装 → 安装中; a passed step 5 accepts the job (see `accept`).
    """
    try:
        step = Step(int(step))
    except (TypeError, ValueError):
        raise FieldError("step", _("验收步骤不正确")) from None
    if not may_record(user, job, step):
        raise NotAllowed(step)
    check_due(job, step)
    order = job.order
    checklist = _checklist(session, job, fields.checklist)
    performer_user_id, performer_person_id, performer_name = _performer(session, job, step, user, fields)
    notes = _text(fields.notes, "notes", 5000)
    described = _defect_lines(fields.defects)
    photos = _uploads(fields.photos)
    caption = _text(fields.photo_caption, "photo_caption", 100)
    if len(photos) > MAX_PHOTOS_PER_ATTEMPT:
        raise FieldError("photos", _("每一步最多上传 %(n)d 张照片", n=MAX_PHOTOS_PER_ATTEMPT))
    if step == Step.GROUP_CHECK:
        if not notes:
            raise FieldError("notes", _("请记录群里业主的反馈"))
        if not photos:
            raise FieldError("photos", _("群检要上传发到群里的安装照片"))
    signature = signature_png(fields.signature) if step == Step.OWNER_ACCEPTANCE else None

    failed_items = [f"{row['item']}：{row['note']}" for row in checklist if not row["passed"]]
    defect_texts = failed_items + described
    passed = not defect_texts

    stored = _store_photos(photos, f"inspections/{job.dealer_id}", "photos")
    try:
        signature_path = _store_signature(signature, job.dealer_id) if signature is not None else None
    except Exception:
        for path in stored:
            delete_upload(path)
        raise
    try:
        attempt = InspectionAttempt(
            dealer_id=job.dealer_id,
            step=int(step),
            passed=passed,
            performer_user_id=performer_user_id,
            performer_person_id=performer_person_id,
            performer_name=performer_name,
            checklist=checklist,
            notes=notes,
            signature_path=signature_path,
            recorded_by_id=user.id,
            at=utcnow(),
        )
        for path in stored:
            attempt.photos.append(InspectionPhoto(dealer_id=job.dealer_id, path=path, caption=caption))
        job.attempts.append(attempt)
        session.flush()
        for text in defect_texts:
            job.defects.append(
                Defect(dealer_id=job.dealer_id, attempt_id=attempt.id, step=int(step), description=text[:500])
            )
        if order.status == OrderStatus.AWAITING_INSTALL:
            change_status(session, order, OrderStatus.INSTALLING, user, _("开始安装验收"))
        job.updated_at = utcnow()  # always an UPDATE: two people recording the same step meet the version guard
        if not passed:
            job.status = JobStatus.REWORK
        elif step == Step.OWNER_ACCEPTANCE:
            accept(session, job, user, today or local_today())
        else:
            job.status = JobStatus.INSPECTING
        session.flush()
    except Exception:
        for path in [*stored, signature_path]:
            delete_upload(path)
        raise
    return attempt


def add_photos(
    session: Session, attempt: InspectionAttempt, user: User, files, caption: str = ""
) -> list[InspectionPhoto]:
    """Add photos to a recorded attempt (e.g. ones the group posted later); same checks as any upload."""
    job = attempt.job
    if not may_record(user, job, attempt.step):
        raise NotAllowed(attempt.step)
    uploads = _uploads(files)
    if not uploads:
        raise FieldError("photos", _("请选择或拍摄照片"))
    if len(attempt.photos) + len(uploads) > MAX_PHOTOS_PER_ATTEMPT:
        raise FieldError("photos", _("每一步最多上传 %(n)d 张照片", n=MAX_PHOTOS_PER_ATTEMPT))
    caption = _text(caption, "caption", 100)
    stored = _store_photos(uploads, f"inspections/{job.dealer_id}", "photos")
    photos = [InspectionPhoto(dealer_id=job.dealer_id, path=path, caption=caption) for path in stored]
    attempt.photos.extend(photos)
    session.flush()
    return photos


# ---------------------------------------------------------------- rework


def fix_defect(session: Session, defect: Defect, user: User, note: str, photo) -> Defect:
    """The installer's fix of a defect, with a note and a photo; with none left open the inspection resumes."""
    job = defect.job
    if not may_fix(user, job):
        raise NotAllowed("fix")
    if not defect.is_open:
        raise FieldError("fix_note", _("这个缺陷已经整改过了"))
    note = _text(note, "fix_note", 500, _("请写明怎么整改的"))
    if photo is None or not getattr(photo, "filename", ""):
        raise FieldError("fix_photo", _("请拍一张整改后的照片"))
    (path,) = _store_photos([photo], f"inspections/{job.dealer_id}", "fix_photo")
    defect.fixed_at = utcnow()
    defect.fixed_by_id = user.id
    defect.fix_note = note
    defect.fix_photo_path = path
    if not open_defects(job) and job.status == JobStatus.REWORK:
        job.status = JobStatus.INSPECTING
    session.flush()
    return defect


# ---------------------------------------------------------------- acceptance and the warranty


def warranty_end(starts_on: date, years: int) -> date:
    """The last day covered by `years` years from `starts_on` (inclusive).

    The day before the anniversary; a 29 February start has its anniversary on 1 March in common years, so
    the cover runs to 28 February (never a day short).
    """
    try:
        anniversary = starts_on.replace(year=starts_on.year + years)
    except ValueError:  # 29 February → a year without one
        anniversary = date(starts_on.year + years, 3, 1)
    return anniversary - timedelta(days=1)


def start_warranty(session: Session, order: Order, starts_on: date) -> list[WarrantyItem]:
    """A warranty item per risk promise of the order's offer, from `starts_on` (once per order)."""
    existing = session.scalars(sa.select(WarrantyItem).where(WarrantyItem.order_id == order.id)).all()
    if existing:
        return list(existing)
    items = [
        WarrantyItem(
            dealer_id=order.dealer_id,
            order_id=order.id,
            item=promise.item,
            years=promise.years,
            remedy=promise.remedy,
            starts_on=starts_on,
            ends_on=warranty_end(starts_on, promise.years),
        )
        for promise in (order.offer.promises if order.offer else [])
    ]
    session.add_all(items)
    session.flush()
    return items


def accept(session: Session, job: InstallationJob, user: User, today: date) -> list[WarrantyItem]:
    """The owner accepted: the job is done, the order goes 已验收 → 质保中 and the promises' warranty starts."""
    job.status = JobStatus.ACCEPTED
    job.accepted_at = utcnow()
    order = job.order
    if order.status == OrderStatus.INSTALLING:
        change_status(session, order, OrderStatus.ACCEPTED, user, _("业主验收签字"))
    if order.status == OrderStatus.ACCEPTED:
        change_status(session, order, OrderStatus.WARRANTY, user, _("质保开始"))
    return start_warranty(session, order, today)


def log_claim(
    session: Session,
    item: WarrantyItem,
    user: User,
    description: str,
    reported_on: date | None = None,
    today: date | None = None,
) -> WarrantyClaim:
    """A warranty claim (e.g. 门皮起翘) against a warranty item, only within its period."""
    today = today or local_today()
    reported_on = reported_on or today
    description = _text(description, "description", 500, _("请描述报修的问题"))
    if reported_on > today:
        raise FieldError("reported_on", _("报修日期不能晚于今天"))
    if reported_on < item.starts_on:
        raise FieldError("reported_on", _("报修日期早于质保开始日 %(date)s", date=item.starts_on.isoformat()))
    if reported_on > item.ends_on:
        raise FieldError(
            "reported_on",
            _(
                "“%(item)s”的质保已于 %(date)s 到期，不能再登记质保报修（可按付费维修另行处理）",
                item=item.item,
                date=item.ends_on.isoformat(),
            ),
        )
    claim = WarrantyClaim(
        dealer_id=item.dealer_id, reported_on=reported_on, description=description, recorded_by_id=user.id
    )
    item.claims.append(claim)
    session.flush()
    return claim


def resolve_claim(
    session: Session,
    claim: WarrantyClaim,
    user: User,
    resolution: str,
    resolved_on: date | None = None,
    today: date | None = None,
) -> WarrantyClaim:
    """Close a claim with what was done. A claim logged within the period may be resolved after it ends."""
    today = today or local_today()
    resolved_on = resolved_on or today
    if claim.resolved_on is not None:
        raise FieldError("resolution", _("这条报修已经处理完了"))
    resolution = _text(resolution, "resolution", 500, _("请写明怎么处理的"))
    if resolved_on > today:
        raise FieldError("resolved_on", _("处理日期不能晚于今天"))
    if resolved_on < claim.reported_on:
        raise FieldError("resolved_on", _("处理日期不能早于报修日期 %(date)s", date=claim.reported_on.isoformat()))
    claim.resolution = resolution
    claim.resolved_on = resolved_on
    session.flush()
    return claim
