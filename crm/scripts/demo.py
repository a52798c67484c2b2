"""Demo data for stage scripts: HQ's shipped templates, each dealer's copy, groups running on them.

Runs are laid out from the day the demo is loaded, so a newcomer's 今天 has work in it and the
groups stand at different points of the playbook (铺垫, 信任, 报名, paused). Safe to run again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.core.models import BUSINESS_TIMEZONE, local_today
from crm.core.roles import Role
from crm.estates.models import EstateAge
from crm.groups.models import AccountRole, Group, GroupStatus
from crm.org.models import Dealer, Store, User
from crm.scripts import library, service
from crm.scripts.models import Playbook, ScriptRun, TaskStatus
from crm.scripts.placeholders import fill, run_values

NEW_ESTATE = "new_estate_self_built"
OLD_ESTATE = "old_estate_wakeup"

# (playbook, days since the run started, paused since how many days ago or None, whether {活动日期} is known yet)
QQHR_RUNS = (
    (NEW_ESTATE, 4, None, True),
    (NEW_ESTATE, 0, None, False),
    (NEW_ESTATE, 8, None, True),
    (OLD_ESTATE, 4, 1, True),
)
OTHER_RUNS = ((NEW_ESTATE, 2, None, True),)

# Values only the store knows; the demo leaves {活动日期} open on one group to show the gap.
RUN_VALUES = {"团购价": "木门 1680 元/樘起，衣柜 599 元/㎡起", "到店礼": "五金升级礼包", "报名截止": "本周日 20:00"}


def seed_scripts(session: Session, dealers: list[Dealer], today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    added = {"playbooks": 0, "script_runs": 0}
    hq = session.scalars(sa.select(User).where(User.role == Role.HQ_ADMIN).order_by(User.id)).first()
    templates = {}
    for slug in library.SHIPPED_PLAYBOOKS:
        shipped = library.load(slug)
        template = session.scalars(
            sa.select(Playbook).where(Playbook.dealer_id.is_(None), Playbook.name == shipped["name"])
        ).first()
        if template is None and hq is not None:
            template = service.create_playbook(session, hq, shipped["name"], shipped["description"], shipped["content"])
            service.publish(session, hq, template, "总部标准版")
            added["playbooks"] += 1
        templates[slug] = template
    for dealer in dealers:
        staff = {user.role: user for user in session.scalars(sa.select(User).where(User.dealer_id == dealer.id))}
        lead = staff.get(Role.DEALER_LEAD)
        if lead is None or templates.get(NEW_ESTATE) is None:
            continue
        wanted = (NEW_ESTATE, OLD_ESTATE) if dealer.code == "QQHR" else (NEW_ESTATE,)
        copies = {}
        for slug in wanted:
            copy = session.scalars(
                sa.select(Playbook).where(
                    Playbook.dealer_id == dealer.id, Playbook.copied_from_id == templates[slug].id
                )
            ).first()
            if copy is None:
                copy = service.copy_playbook(session, lead, templates[slug])
                service.publish(session, lead, copy, "从总部模板复制")
                added["playbooks"] += 1
                if dealer.code == "QQHR" and slug == NEW_ESTATE:
                    _adapt(session, lead, copy)
            copies[slug] = copy
        added["script_runs"] += _seed_runs(session, dealer, staff, copies, today)
    return added


def _adapt(session: Session, lead: User, playbook: Playbook) -> None:
    """What a store does with a template: make it its own and publish again (v2)."""
    phase = next(phase for phase in playbook.content["phases"] if phase["name"] == "报名期")
    item = phase["days"][-1]["items"][-1]
    fields = service.ItemFields(
        time=item["time"],
        role=item["role"],
        kind=item["kind"],
        slot=item["slot"],
        intent=item.get("intent", ""),
        text=item["text"] + "\n明早 9 点前在群里接龙的邻居，到店再加送门吸一套。",
    )
    service.update_item(session, playbook, item["key"], fields)
    service.publish(session, lead, playbook, "报名期最后一晚加接龙礼")


def _seed_runs(session: Session, dealer: Dealer, staff: dict, copies: dict[str, Playbook], today: date) -> int:
    groups = session.scalars(
        sa.select(Group).where(Group.dealer_id == dealer.id, Group.status == GroupStatus.OPERATING).order_by(Group.id)
    ).all()
    lead = staff[Role.DEALER_LEAD]
    roles = {
        AccountRole.MAIN_IP: staff.get(Role.OPERATOR, lead).id,
        AccountRole.HELPER: staff.get(Role.ASSISTANT, lead).id,
        AccountRole.SERVICE: staff.get(Role.CONSULTANT, lead).id,
        AccountRole.DESIGNER: staff.get(Role.DESIGNER, lead).id,
    }
    stores = list(session.scalars(sa.select(Store).where(Store.dealer_id == dealer.id).order_by(Store.name)))
    runs = QQHR_RUNS if dealer.code == "QQHR" else OTHER_RUNS
    added = 0
    waiting = [
        group for group in groups if not session.scalar(sa.select(ScriptRun.id).where(ScriptRun.group_id == group.id))
    ]
    if len(waiting) < len(groups):
        return 0  # seeded before
    for slug, days_in, paused_days_ago, event_known in runs:
        playbook = copies.get(slug)
        if playbook is None or not waiting:
            continue
        # a new estate's playbook goes to a new estate's group where there is one, and the other way round
        wanted_age = EstateAge.OLD if slug == OLD_ESTATE else EstateAge.NEW
        group = next((g for g in waiting if g.estate.age == wanted_age), waiting[0])
        waiting.remove(group)
        values = dict(RUN_VALUES, **({"活动日期": _event_day(today)} if event_known else {}))
        starts_on = today - timedelta(days=days_in)
        run = service.apply_playbook(
            session, lead, group, playbook.latest_version, starts_on, roles, values, today=starts_on
        )
        _work_the_past(run, stores, today, late_every=5)
        if paused_days_ago is not None:
            service.pause(session, run, lead, today=today - timedelta(days=paused_days_ago))
        added += 1
    session.flush()
    return added


def _event_day(today: date) -> str:
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    return f"{saturday.month}月{saturday.day}日（周六）"


def _work_the_past(run: ScriptRun, stores: list[Store], today: date, late_every: int) -> None:
    """Mark the days before today as worked: most on time, some late, one skipped with a reason."""
    values = run_values(run, stores)
    count = 0
    for day in run.days:
        if day.on_date >= today:
            break
        for task in day.tasks:
            count += 1
            assignee_id = task.assignee_id
            filled = fill(task.text, values)
            if filled.gaps:
                task.status, task.skip_reason = TaskStatus.SKIPPED, "缺" + "、".join(filled.gaps) + "，没发"
            elif count % 11 == 0:
                task.status, task.skip_reason = TaskStatus.SKIPPED, "群里正在讨论物业收费，没插话"
            else:
                task.status, task.sent_text = TaskStatus.DONE, filled.text
            late = count % late_every == 0
            finished_on = day.on_date + timedelta(days=1 if late else 0)
            sent_at = datetime.combine(finished_on, task.due_time, tzinfo=BUSINESS_TIMEZONE) + timedelta(minutes=7)
            task.finished_on, task.finished_at, task.finished_by_id = finished_on, sent_at, assignee_id
