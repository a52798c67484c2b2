"""Building playbooks and runs for tests through the real services."""

from __future__ import annotations

from datetime import date

from crm.core.roles import Role
from crm.extensions import db
from crm.groups.models import AccountRole, Group
from crm.org.models import User
from crm.scripts import service
from crm.scripts.content import new_key


def item(time: str, role: str, text: str, kind: str = "topic", key: str | None = None) -> dict:
    return {
        "key": key or new_key(),
        "time": time,
        "slot": "",
        "role": role,
        "kind": kind,
        "text": text,
        "intent": "",
        "images": [],
    }


def phase(name: str, *days: list[dict]) -> dict:
    return {"key": new_key(), "name": name, "goal": "", "days": [{"items": d} for d in days]}


def small_content() -> dict:
    """铺垫期 2 days, 信任期 3 days (its 2nd day empty): five tasks over five days."""
    return {
        "phases": [
            phase(
                "铺垫期",
                [item("09:00", "main_ip", "欢迎来到{群名}，我是{主IP}"), item("19:30", "helper", "{楼盘}几号交房？")],
                [item("12:00", "main_ip", "团购价 {团购价}，活动 {活动日期}")],
            ),
            phase(
                "信任期",
                [item("15:00", "main_ip", "{门店}在{门店地址}")],
                [],
                [item("21:00", "helper", "晚安，{楼盘}的邻居们")],
            ),
        ],
        "templates": [{"key": "welcome", "name": "入群欢迎语", "text": "欢迎加入{群名}！"}],
    }


def published_playbook(session, dealer_id: int, content: dict | None = None, name: str = "测试剧本"):
    lead = session.query(User).filter_by(dealer_id=dealer_id, role=Role.DEALER_LEAD).one()
    playbook = service.create_playbook(session, lead, name, "", content or small_content())
    version = service.publish(session, lead, playbook)
    return playbook, version


def run_group(session, world_dealer, starts_on: date, content: dict | None = None, values=None, today=None):
    """world_dealer's group run on a fresh playbook from `starts_on` (主IP = operator, 马甲 = assistant)."""
    _, version = published_playbook(session, world_dealer.dealer_id, content)
    group = db.session.get(Group, world_dealer.group_id)
    existing = service.live_run(session, group.id)  # the world's own run
    if existing is not None:
        service.stop(session, existing, None, today=starts_on)
    roles = {
        AccountRole.MAIN_IP: world_dealer.user_ids[Role.OPERATOR],
        AccountRole.HELPER: world_dealer.user_ids[Role.ASSISTANT],
    }
    return service.apply_playbook(
        session, None, group, version, starts_on, roles, values or {}, today=today or starts_on
    )
