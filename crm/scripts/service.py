"""Writes for stage scripts: the playbook library, running a group on a playbook, and its tasks.

Functions here change state and only flush; the request commits once. A playbook's draft is a
JSON document: every edit locks the row, copies the document, changes the copy and stores it
back, so two people editing at once never lose each other's change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.models import local_today, utcnow
from crm.core.roles import Permission, has_permission
from crm.core.validation import FieldError
from crm.groups.models import AccountRole, Group
from crm.org.models import User
from crm.scripts import content as c
from crm.scripts.models import (
    Playbook,
    PlaybookVersion,
    RunEventKind,
    RunStatus,
    ScriptRun,
    ScriptRunDay,
    ScriptRunEvent,
    ScriptRunRole,
    ScriptTask,
    TaskStatus,
)
from crm.scripts.placeholders import has_gaps

MAX_SHIFT_DAYS = 60
MAX_START_DAYS_AGO = 30
MAX_VALUE_CHARS = 100


# --- the library ---------------------------------------------------------------------------


def can_edit(user: User, playbook: Playbook) -> bool:
    """HQ admins edit HQ's templates, a dealer's writers their dealer's playbooks; nobody edits across."""
    return has_permission(user, Permission.EDIT_PLAYBOOKS) and playbook.dealer_id == user.dealer_id


def _check_name(session: Session, dealer_id: int | None, name: str, playbook_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise FieldError("name", _("请填写剧本名称"))
    if len(name) > c.MAX_NAME_CHARS:
        raise FieldError("name", _("剧本名称不能超过 %(n)d 个字", n=c.MAX_NAME_CHARS))
    owner = Playbook.dealer_id.is_(None) if dealer_id is None else Playbook.dealer_id == dealer_id
    clash = session.scalar(
        sa.select(Playbook.id).where(owner, Playbook.name == name, Playbook.id != (playbook_id or 0))
    )
    if clash:
        raise FieldError("name", _("已有同名剧本“%(name)s”", name=name))
    return name


def create_playbook(
    session: Session, user: User, name: str, description: str = "", content: dict | None = None
) -> Playbook:
    """A new draft playbook of the user's dealer (or an HQ template when the user is HQ)."""
    playbook = Playbook(
        dealer_id=user.dealer_id,
        name=_check_name(session, user.dealer_id, name),
        description=(description or "").strip(),
        content=c.copy_content(content) if content else c.empty_content(),
        created_by_id=user.id,
    )
    session.add(playbook)
    session.flush()
    return playbook


def available_name(session: Session, dealer_id: int | None, name: str) -> str:
    """`name`, or `name（2）`, `name（3）`… whichever the dealer has not used yet."""
    base = (name or "").strip()[: c.MAX_NAME_CHARS - 4]
    candidate, number = base, 1
    while True:
        try:
            return _check_name(session, dealer_id, candidate)
        except FieldError:
            if not base:
                raise
            number += 1
            candidate = f"{base}（{number}）"


def copy_playbook(session: Session, user: User, source: Playbook) -> Playbook:
    """A dealer's own draft from a playbook's latest published version (an HQ template, or its own)."""
    version = source.latest_version
    if version is None:
        raise FieldError("", _("该剧本还没有发布过版本，无法复制"))
    playbook = Playbook(
        dealer_id=user.dealer_id,
        name=available_name(session, user.dealer_id, source.name.replace("（总部标准版）", "")),
        description=source.description,
        content=c.copy_content(version.content, new_keys=True),
        copied_from_id=source.id,
        created_by_id=user.id,
    )
    session.add(playbook)
    session.flush()
    return playbook


def update_details(session: Session, playbook: Playbook, name: str, description: str) -> None:
    playbook.name = _check_name(session, playbook.dealer_id, name, playbook.id)
    playbook.description = (description or "").strip()
    session.flush()


@contextmanager
def editing(session: Session, playbook: Playbook) -> Iterator[dict]:
    """Yield a copy of the draft to change; store it back (marked unpublished) if the block succeeds."""
    session.execute(sa.select(Playbook.id).where(Playbook.id == playbook.id).with_for_update())
    session.refresh(playbook, ["content"])
    draft = c.copy_content(playbook.content)
    yield draft
    playbook.content = draft
    playbook.has_unpublished_changes = True
    session.flush()


def _phase(draft: dict, phase_key: str) -> dict:
    for phase in draft["phases"]:
        if phase["key"] == phase_key:
            return phase
    raise FieldError("", _("这个阶段已被删除，请刷新页面"))


def _item(draft: dict, item_key: str) -> tuple[dict, dict, dict]:
    """The item with `item_key` and the day and phase that hold it."""
    for phase in draft["phases"]:
        for day in phase["days"]:
            for item in day["items"]:
                if item["key"] == item_key:
                    return phase, day, item
    raise FieldError("", _("这条脚本已被删除，请刷新页面"))


@dataclass
class PhaseFields:
    name: str
    goal: str = ""
    days: int = 1


def _clean_phase(draft: dict, fields: PhaseFields, phase_key: str | None = None) -> PhaseFields:
    name = (fields.name or "").strip()
    if not name:
        raise FieldError("name", _("请填写阶段名称"))
    if len(name) > c.MAX_NAME_CHARS:
        raise FieldError("name", _("阶段名称不能超过 %(n)d 个字", n=c.MAX_NAME_CHARS))
    if any(phase["name"] == name and phase["key"] != phase_key for phase in draft["phases"]):
        raise FieldError("name", _("已有同名阶段“%(name)s”", name=name))
    if not 1 <= (fields.days or 0) <= c.MAX_DAYS_PER_PHASE:
        raise FieldError("days", _("天数须在 1 到 %(n)d 之间", n=c.MAX_DAYS_PER_PHASE))
    return PhaseFields(name=name, goal=(fields.goal or "").strip()[:500], days=fields.days)


def add_phase(session: Session, playbook: Playbook, fields: PhaseFields) -> str:
    with editing(session, playbook) as draft:
        if len(draft["phases"]) >= c.MAX_PHASES:
            raise FieldError("", _("阶段不能超过 %(n)d 个", n=c.MAX_PHASES))
        clean = _clean_phase(draft, fields)
        key = c.new_key()
        draft["phases"].append(
            {"key": key, "name": clean.name, "goal": clean.goal, "days": [{"items": []} for _ in range(clean.days)]}
        )
    return key


def update_phase(session: Session, playbook: Playbook, phase_key: str, fields: PhaseFields) -> None:
    """Rename a phase, change its goal or its number of days (days still holding scripts are not cut)."""
    with editing(session, playbook) as draft:
        phase = _phase(draft, phase_key)
        clean = _clean_phase(draft, fields, phase_key)
        days = phase["days"]
        cut = days[clean.days :]
        if any(day["items"] for day in cut):
            first = clean.days + 1 + next(i for i, day in enumerate(cut) if day["items"])
            raise FieldError("days", _("第 %(n)d 天还有脚本，请先删除或移走再减少天数", n=first))
        kept = days[: clean.days] + [{"items": []} for _ in range(clean.days - len(days))]
        phase.update(name=clean.name, goal=clean.goal, days=kept)


def move_phase(session: Session, playbook: Playbook, phase_key: str, step: int) -> None:
    with editing(session, playbook) as draft:
        phases = draft["phases"]
        index = phases.index(_phase(draft, phase_key))
        target = index + step
        if 0 <= target < len(phases):
            phases[index], phases[target] = phases[target], phases[index]


def delete_phase(session: Session, playbook: Playbook, phase_key: str) -> None:
    with editing(session, playbook) as draft:
        draft["phases"].remove(_phase(draft, phase_key))


@dataclass
class ItemFields:
    time: str
    role: str
    kind: str
    text: str
    slot: str = ""
    intent: str = ""


def _clean_item(fields: ItemFields) -> dict:
    time_text = (fields.time or "").strip()
    if len(time_text) == 4 and time_text[1] == ":":  # 9:00 → 09:00
        time_text = "0" + time_text
    item = {
        "time": time_text,
        "slot": (fields.slot or "").strip() or c.default_slot_name(time_text),
        "role": fields.role,
        "kind": fields.kind,
        "text": (fields.text or "").strip(),
        "intent": (fields.intent or "").strip(),
    }
    problems = c.item_problems(item)
    if problems:
        raise FieldError("text" if "内容" in problems[0] else "", problems[0])
    return item


def add_item(session: Session, playbook: Playbook, phase_key: str, day_number: int, fields: ItemFields) -> str:
    with editing(session, playbook) as draft:
        phase = _phase(draft, phase_key)
        if not 1 <= day_number <= len(phase["days"]):
            raise FieldError("", _("这一天已不在阶段里，请刷新页面"))
        day = phase["days"][day_number - 1]
        if len(day["items"]) >= c.MAX_ITEMS_PER_DAY:
            raise FieldError("", _("一天最多 %(n)d 条脚本", n=c.MAX_ITEMS_PER_DAY))
        key = c.new_key()
        day["items"].append({"key": key, **_clean_item(fields), "images": []})
        day["items"] = c.sorted_items(day["items"])
    return key


def update_item(session: Session, playbook: Playbook, item_key: str, fields: ItemFields) -> None:
    with editing(session, playbook) as draft:
        _, day, item = _item(draft, item_key)
        item.update(_clean_item(fields))
        day["items"] = c.sorted_items(day["items"])


def delete_item(session: Session, playbook: Playbook, item_key: str) -> None:
    with editing(session, playbook) as draft:
        _, day, item = _item(draft, item_key)
        day["items"].remove(item)


MAX_IMAGES_PER_ITEM = 6


def add_item_image(session: Session, playbook: Playbook, item_key: str, image_path: str) -> None:
    with editing(session, playbook) as draft:
        _, _day, item = _item(draft, item_key)
        if len(item["images"]) >= MAX_IMAGES_PER_ITEM:
            raise FieldError("image", _("每条脚本最多 %(n)d 张图片", n=MAX_IMAGES_PER_ITEM))
        item["images"].append(image_path)


def remove_item_image(session: Session, playbook: Playbook, item_key: str, image_path: str) -> None:
    """Drop an image from the draft (the file stays: published versions and tasks may show it)."""
    with editing(session, playbook) as draft:
        _, _day, item = _item(draft, item_key)
        if image_path in item["images"]:
            item["images"].remove(image_path)


def set_template(session: Session, playbook: Playbook, key: str | None, name: str, text: str) -> str:
    """Add (no key) or change one of the standing texts: the welcome message, the group rules…"""
    name, text = (name or "").strip(), (text or "").strip()
    if not name or not text:
        raise FieldError("text", _("名称和内容都不能为空"))
    if len(text) > c.MAX_TEXT_CHARS or len(name) > c.MAX_NAME_CHARS:
        raise FieldError("text", _("内容过长"))
    with editing(session, playbook) as draft:
        templates = draft.setdefault("templates", [])
        if key is None:
            if len(templates) >= c.MAX_TEMPLATES:
                raise FieldError("", _("最多 %(n)d 条", n=c.MAX_TEMPLATES))
            key = c.new_key()
            templates.append({"key": key, "name": name, "text": text})
        else:
            template = next((t for t in templates if t["key"] == key), None)
            if template is None:
                raise FieldError("", _("这条文案已被删除，请刷新页面"))
            template.update(name=name, text=text)
    return key


def delete_template(session: Session, playbook: Playbook, key: str) -> None:
    with editing(session, playbook) as draft:
        draft["templates"] = [t for t in draft.get("templates", []) if t["key"] != key]


class PublishError(ValueError):
    def __init__(self, problems: list[c.ContentProblem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def publish(session: Session, user: User, playbook: Playbook, note: str = "") -> PlaybookVersion:
    """Freeze the draft as the next version; groups applied from now on run on it."""
    session.execute(sa.select(Playbook.id).where(Playbook.id == playbook.id).with_for_update())
    session.refresh(playbook, ["content"])
    problems = c.problems(playbook.content)
    if problems:
        raise PublishError(problems)
    number = (
        session.scalar(sa.select(sa.func.max(PlaybookVersion.number)).where(PlaybookVersion.playbook_id == playbook.id))
        or 0
    ) + 1
    version = PlaybookVersion(
        dealer_id=playbook.dealer_id,
        playbook_id=playbook.id,
        number=number,
        content=c.copy_content(playbook.content),
        note=(note or "").strip()[:200],
        published_by_id=user.id if user else None,
    )
    session.add(version)
    playbook.has_unpublished_changes = False
    session.flush()
    session.expire(playbook, ["versions"])
    return version


def delete_playbook(session: Session, playbook: Playbook) -> None:
    """Remove a playbook no group has ever run on (a run keeps its version for the record)."""
    used = session.scalar(
        sa.select(sa.func.count(ScriptRun.id))
        .join(PlaybookVersion, PlaybookVersion.id == ScriptRun.version_id)
        .where(PlaybookVersion.playbook_id == playbook.id)
    )
    if used:
        raise FieldError("", _("已有社群按这个剧本执行过，不能删除"))
    session.execute(sa.update(Playbook).where(Playbook.copied_from_id == playbook.id).values(copied_from_id=None))
    session.delete(playbook)
    session.flush()


# --- running a group on a playbook ---------------------------------------------------------


def live_run(session: Session, group_id: int) -> ScriptRun | None:
    return session.scalar(
        sa.select(ScriptRun).where(ScriptRun.group_id == group_id, ScriptRun.status != RunStatus.STOPPED)
    )


def _event(session: Session, run: ScriptRun, kind: RunEventKind, user: User | None, on: date, days=0, note=""):
    session.add(
        ScriptRunEvent(
            dealer_id=run.dealer_id, run=run, kind=kind, on_date=on, days=days, note=note[:200], by_id=user and user.id
        )
    )


def apply_playbook(
    session: Session,
    user: User | None,
    group: Group,
    version: PlaybookVersion,
    starts_on: date | None,
    role_users: dict[AccountRole, int | None],
    values: dict[str, str],
    today: date | None = None,
) -> ScriptRun:
    """Run `group` on `version` from `starts_on`: lay its days on the calendar, one task per script item."""
    today = today or local_today()
    if version.dealer_id != group.dealer_id:
        raise FieldError("version_id", _("请先把总部模板复制为本店剧本再使用"))
    session.execute(sa.select(Group.id).where(Group.id == group.id).with_for_update())
    if live_run(session, group.id) is not None:
        raise FieldError("", _("这个社群已有正在执行的剧本，请先停止它"))
    if starts_on is None:
        raise FieldError("starts_on", _("请选择开始日期"))
    if starts_on < today - timedelta(days=MAX_START_DAYS_AGO):
        raise FieldError("starts_on", _("开始日期最早只能是 %(n)d 天前", n=MAX_START_DAYS_AGO))
    content = version.content
    users = _role_users(session, group, content, role_users)
    run = ScriptRun(
        dealer_id=group.dealer_id,
        group_id=group.id,
        version_id=version.id,
        starts_on=starts_on,
        values=_clean_values(content, values),
        created_by_id=user and user.id,
    )
    session.add(run)
    for role, account in users.items():
        run.roles.append(ScriptRunRole(dealer_id=group.dealer_id, role=role, user_id=account.id))
    number = 0
    for phase_position, phase in enumerate(content["phases"]):
        for day_in_phase, day_content in enumerate(phase["days"], start=1):
            number += 1
            day = ScriptRunDay(
                dealer_id=group.dealer_id,
                number=number,
                phase_position=phase_position,
                phase_name=phase["name"],
                day_in_phase=day_in_phase,
                phase_days=len(phase["days"]),
                on_date=starts_on + timedelta(days=number - 1),
            )
            run.days.append(day)
            for item in c.sorted_items(day_content["items"]):
                role = AccountRole(item["role"])
                day.tasks.append(
                    ScriptTask(
                        dealer_id=group.dealer_id,
                        run=run,
                        item_key=item["key"],
                        due_time=time.fromisoformat(item["time"]),
                        slot=item.get("slot", ""),
                        role=role,
                        assignee_id=users[role].id,
                        kind=c.ScriptKind(item["kind"]),
                        text=item["text"],
                        intent=item.get("intent", ""),
                        images=list(item.get("images", [])),
                    )
                )
    _event(session, run, RunEventKind.STARTED, user, starts_on, note=version.playbook.name + " " + version.label)
    session.flush()
    return run


def _role_users(session: Session, group: Group, content: dict, role_users: dict) -> dict[AccountRole, User]:
    users = {}
    for role in c.roles_used(content):
        user_id = role_users.get(role)
        account = session.get(User, user_id) if user_id else None
        if account is None or account.dealer_id != group.dealer_id or not account.is_active_account:
            raise FieldError(f"role_{role.value}", _("请为“%(role)s”选择本店在职的账号", role=role.label))
        users[role] = account
    return users


def _clean_values(content: dict, values: dict[str, str]) -> dict[str, str]:
    asked = c.asked_placeholders(content)
    clean = {}
    for name in asked:
        value = (values.get(name) or "").strip()
        if len(value) > MAX_VALUE_CHARS:
            raise FieldError(
                f"value_{asked.index(name)}", _("“%(name)s”不能超过 %(n)d 字", name=name, n=MAX_VALUE_CHARS)
            )
        if value:
            clean[name] = value
    return clean


def reassign_role(session: Session, run: ScriptRun, role: AccountRole, user_id: int | None, by: User | None) -> int:
    """Hand a role to another account (someone left, or swaps shifts): its open tasks follow; return how many."""
    _require_live(run)
    account = session.get(User, user_id) if user_id else None
    if account is None or account.dealer_id != run.dealer_id or not account.is_active_account:
        raise FieldError("user_id", _("请为“%(role)s”选择本店在职的账号", role=role.label))
    current = next((r for r in run.roles if r.role == role), None)
    if current is None:
        raise FieldError("role", _("这个剧本没有用到“%(role)s”", role=role.label))
    current.user_id = account.id
    moved = session.execute(
        sa.update(ScriptTask)
        .where(ScriptTask.run_id == run.id, ScriptTask.role == role, ScriptTask.status == TaskStatus.PENDING)
        .values(assignee_id=account.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    note = f"{role.label} → {account.name}"
    _event(session, run, RunEventKind.REASSIGNED, by, local_today(), note=note)
    session.flush()
    return moved


def set_values(session: Session, run: ScriptRun, values: dict[str, str]) -> None:
    """Fill in or correct the run's own placeholder values (tasks already sent keep their text)."""
    run.values = _clean_values(run.version.content, values)
    session.flush()


def _move_days(session: Session, run: ScriptRun, from_date: date, days: int) -> int:
    """Move the run's days on or after `from_date` by `days`; return how many moved."""
    moving = [day for day in run.days if day.on_date >= from_date]
    for day in moving:
        day.on_date += timedelta(days=days)
    return len(moving)


def _require_live(run: ScriptRun) -> None:
    if run.status == RunStatus.STOPPED:
        raise FieldError("", _("这个剧本已停止"))


def pause(session: Session, run: ScriptRun, user: User | None, today: date | None = None) -> None:
    """Stop showing the run's tasks from today; resuming moves what is left by the days paused."""
    _require_live(run)
    if run.status == RunStatus.PAUSED:
        raise FieldError("", _("已经暂停了"))
    today = today or local_today()
    run.status, run.paused_on = RunStatus.PAUSED, today
    _event(session, run, RunEventKind.PAUSED, user, today)
    session.flush()


def resume(session: Session, run: ScriptRun, user: User | None, today: date | None = None) -> int:
    """Start again today; the days from the pause on move later by the days it lasted."""
    if run.status != RunStatus.PAUSED:
        raise FieldError("", _("剧本没有暂停"))
    today = today or local_today()
    paused_days = max((today - run.paused_on).days, 0)
    if paused_days:
        _move_days(session, run, run.paused_on, paused_days)
    _event(session, run, RunEventKind.RESUMED, user, today, days=paused_days)
    run.status, run.paused_on = RunStatus.RUNNING, None
    session.flush()
    return paused_days


def shift(
    session: Session, run: ScriptRun, user: User | None, from_date: date, days: int, note: str = "", today=None
) -> None:
    """Move every day from `from_date` on by `days` (later if positive, earlier if negative)."""
    _require_live(run)
    today = today or local_today()
    if from_date is None or from_date < today:
        raise FieldError("from_date", _("只能调整今天及以后的安排"))
    if not days or abs(days) > MAX_SHIFT_DAYS:
        raise FieldError("days", _("顺延天数须在 -%(n)d 到 %(n)d 之间，且不为 0", n=MAX_SHIFT_DAYS))
    moving = [day for day in run.days if day.on_date >= from_date]
    if not moving:
        raise FieldError("from_date", _("这一天之后没有剧本安排"))
    if days < 0:
        staying = [day.on_date for day in run.days if day.on_date < from_date]
        earliest = moving[0].on_date + timedelta(days=days)
        if earliest < today or (staying and earliest <= max(staying)):
            raise FieldError("days", _("提前后会与已有的安排重叠或落在今天之前"))
    _move_days(session, run, from_date, days)
    _event(session, run, RunEventKind.SHIFTED, user, from_date, days=days, note=note)
    session.flush()


def skip_day(session: Session, run: ScriptRun, user: User | None, on_date: date, note: str = "", today=None) -> None:
    """Take `on_date` off: that day's script and everything after it move one day later."""
    _require_live(run)
    today = today or local_today()
    if on_date is None or on_date < today:
        raise FieldError("on_date", _("只能跳过今天及以后的日子"))
    if not any(day.on_date >= on_date for day in run.days):
        raise FieldError("on_date", _("这一天之后没有剧本安排"))
    _move_days(session, run, on_date, 1)
    _event(session, run, RunEventKind.DAY_SKIPPED, user, on_date, days=1, note=note)
    session.flush()


def stop(session: Session, run: ScriptRun, user: User | None, note: str = "", today=None) -> None:
    """End the run for good; its open tasks leave everyone's 今天 list, the record stays."""
    _require_live(run)
    today = today or local_today()
    run.status, run.paused_on = RunStatus.STOPPED, None
    _event(session, run, RunEventKind.STOPPED, user, today, note=note)
    session.flush()


# --- tasks ---------------------------------------------------------------------------------


def _check_task_open(task: ScriptTask, user: User) -> None:
    if task.run.status != RunStatus.RUNNING:
        raise FieldError("", _("剧本已暂停或停止，不能处理这条任务"))
    if task.status != TaskStatus.PENDING:
        raise FieldError("", _("这条任务已经处理过了"))
    if task.assignee_id != user.id and not has_permission(user, Permission.RUN_SCRIPTS):
        raise FieldError("", _("这条任务不是你的"))


def complete_task(session: Session, task: ScriptTask, user: User, sent_text: str, today: date | None = None) -> None:
    """Mark a task done, keeping exactly the text that was posted."""
    _check_task_open(task, user)
    sent_text = (sent_text or "").strip()
    if not sent_text:
        raise FieldError("sent_text", _("请填写实际发送的内容"))
    if has_gaps(sent_text):
        raise FieldError("sent_text", _("内容里还有【待补】的地方，请先补全再标记完成"))
    task.status = TaskStatus.DONE
    task.sent_text = sent_text[: c.MAX_TEXT_CHARS * 2]
    task.finished_at, task.finished_on, task.finished_by_id = utcnow(), today or local_today(), user.id
    session.flush()


def skip_task(session: Session, task: ScriptTask, user: User, reason: str, today: date | None = None) -> None:
    """Leave a task out, saying why (the reason stays on the record)."""
    _check_task_open(task, user)
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("请写明跳过的原因"))
    task.status = TaskStatus.SKIPPED
    task.skip_reason = reason[:200]
    task.finished_at, task.finished_on, task.finished_by_id = utcnow(), today or local_today(), user.id
    session.flush()
