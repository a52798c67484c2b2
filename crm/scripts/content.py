"""A playbook's content: phases → days → timed script items, plus the group's standing texts.

Content is plain JSON-able data, so a published version is an immutable snapshot, and the same
shape travels through XLSX import/export, copying an HQ template and the shipped library:

    {
      "phases": [
        {"key": "a1b2c3d4", "name": "铺垫期", "goal": "…",
         "days": [
           {"items": [
             {"key": "e5f6a7b8", "time": "09:00", "slot": "早间巡查", "role": "main_ip",
              "kind": "topic", "text": "…{楼盘}…", "intent": "…", "images": ["playbooks/3/x.jpg"]}
           ]}
         ]}
      ],
      "templates": [{"key": "welcome", "name": "入群欢迎语", "text": "…"},
                    {"key": "rules", "name": "群公告/群规", "text": "…"}]
    }

A phase's number of days is the length of its `days` list; a day may have no items.
Keys are short random hex strings that stay put while items move, so edits can target them.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from crm.core.i18n import lazy_gettext as _l
from crm.groups.models import AccountRole

MAX_PHASES = 12
MAX_DAYS_PER_PHASE = 60
MAX_ITEMS_PER_DAY = 40
MAX_TEXT_CHARS = 2000
MAX_NAME_CHARS = 50
MAX_INTENT_CHARS = 500
MAX_TEMPLATES = 10

TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PLACEHOLDER_PATTERN = re.compile(r"\{([^{}\s]{1,20})\}")

# The daily timetable of seed 002: a new item picks its slot name from the time it is given.
DEFAULT_SLOTS = (
    ("09:00", _l("早间巡查")),
    ("12:00", _l("午间活跃")),
    ("15:00", _l("下午推送")),
    ("19:30", _l("晚间活动")),
    ("21:00", _l("夜间值守")),
)


class ScriptKind(StrEnum):
    TOPIC = "topic"
    GAME = "game"
    VALUE = "value"
    CASE = "case"
    POLICY = "policy"
    RED_PACKET = "red_packet"
    INVITATION = "invitation"
    NOTICE = "notice"
    WELCOME = "welcome"
    REPLY = "reply"
    RECAP = "recap"

    @property
    def label(self) -> str:
        return str(SCRIPT_KIND_LABELS[self])


SCRIPT_KIND_LABELS = {
    ScriptKind.TOPIC: _l("话题"),
    ScriptKind.GAME: _l("互动游戏"),
    ScriptKind.VALUE: _l("价值内容"),
    ScriptKind.CASE: _l("案例"),
    ScriptKind.POLICY: _l("政策"),
    ScriptKind.RED_PACKET: _l("红包"),
    ScriptKind.INVITATION: _l("邀约"),
    ScriptKind.NOTICE: _l("群公告"),
    ScriptKind.WELCOME: _l("欢迎新人"),
    ScriptKind.REPLY: _l("答疑回复"),
    ScriptKind.RECAP: _l("总结预告"),
}

# Placeholders the data fills in (estate, group, the run's accounts, the store); any other
# placeholder a script uses is asked for when the playbook is applied to a group.
DATA_PLACEHOLDERS = {
    "楼盘": _l("楼盘名称"),
    "群名": _l("社群名称"),
    "主IP": _l("扮演主IP的账号"),
    "马甲": _l("扮演马甲的账号"),
    "客服": _l("扮演客服的账号"),
    "设计师": _l("扮演设计师的账号"),
    "群主": _l("群主（关键人物）"),
    "交房时间": _l("楼盘交房时间"),
    "户数": _l("楼盘户数"),
    "区域": _l("楼盘所在区"),
    "开发商": _l("开发商"),
    "门店": _l("门店名称"),
    "门店地址": _l("门店地址"),
    "门店电话": _l("门店电话"),
}


def new_key() -> str:
    return uuid.uuid4().hex[:8]


def empty_content() -> dict:
    return {"phases": [], "templates": []}


def placeholders_in(text: str) -> list[str]:
    """Placeholder names in `text`, in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER_PATTERN.findall(text)))


def all_placeholders(content: dict) -> list[str]:
    """Every placeholder the content uses, in order of first appearance."""
    found: dict[str, None] = {}
    for text in _texts(content):
        found.update(dict.fromkeys(placeholders_in(text)))
    return list(found)


def asked_placeholders(content: dict) -> list[str]:
    """The placeholders no data fills: the person applying the playbook supplies them."""
    return [name for name in all_placeholders(content) if name not in DATA_PLACEHOLDERS]


def roles_used(content: dict) -> list[AccountRole]:
    used = {item["role"] for phase in content["phases"] for day in phase["days"] for item in day["items"]}
    return [role for role in AccountRole if role.value in used]


def total_days(content: dict) -> int:
    return sum(len(phase["days"]) for phase in content["phases"])


def item_count(content: dict) -> int:
    return sum(len(day["items"]) for phase in content["phases"] for day in phase["days"])


def _texts(content: dict):
    for phase in content["phases"]:
        for day in phase["days"]:
            for item in day["items"]:
                yield item["text"]
    for template in content.get("templates", []):
        yield template["text"]


def sorted_items(items: list[dict]) -> list[dict]:
    """A day's items in time order; items at the same time keep their written order."""
    return sorted(items, key=lambda item: item["time"])


def copy_content(content: dict, *, new_keys: bool = False) -> dict:
    """A deep copy; with `new_keys`, every phase and item gets a fresh key (for a copied playbook)."""
    copied = copy.deepcopy(content)
    if new_keys:
        for phase in copied["phases"]:
            phase["key"] = new_key()
            for day in phase["days"]:
                for item in day["items"]:
                    item["key"] = new_key()
    return copied


@dataclass(frozen=True)
class ContentProblem:
    """One thing wrong with a playbook's content, said in words a store can act on."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}：{self.message}" if self.where else self.message


def problems(content: dict) -> list[ContentProblem]:
    """Everything that stops this content from being published or imported (empty if none)."""
    found: list[ContentProblem] = []
    phases = content.get("phases") or []
    if not phases:
        found.append(ContentProblem("", str(_l("至少需要一个阶段"))))
    if len(phases) > MAX_PHASES:
        found.append(ContentProblem("", str(_l("阶段不能超过 %(n)d 个", n=MAX_PHASES))))
    names = [phase.get("name", "").strip() for phase in phases]
    for index, phase in enumerate(phases, start=1):
        where = str(_l("第 %(n)d 阶段", n=index))
        name = phase.get("name", "").strip()
        if not name:
            found.append(ContentProblem(where, str(_l("阶段名称不能为空"))))
        elif len(name) > MAX_NAME_CHARS:
            found.append(ContentProblem(where, str(_l("阶段名称不能超过 %(n)d 个字", n=MAX_NAME_CHARS))))
        elif names.count(name) > 1:
            found.append(ContentProblem(where, str(_l("阶段名称“%(name)s”重复", name=name))))
        days = phase.get("days") or []
        if not 1 <= len(days) <= MAX_DAYS_PER_PHASE:
            found.append(ContentProblem(where, str(_l("天数须在 1 到 %(n)d 之间", n=MAX_DAYS_PER_PHASE))))
        for day_number, day in enumerate(days, start=1):
            day_where = str(_l("%(phase)s 第 %(n)d 天", phase=name or where, n=day_number))
            items = day.get("items") or []
            if len(items) > MAX_ITEMS_PER_DAY:
                found.append(ContentProblem(day_where, str(_l("一天最多 %(n)d 条脚本", n=MAX_ITEMS_PER_DAY))))
            for item in items:
                found.extend(
                    ContentProblem(f"{day_where} {item.get('time', '')}", problem) for problem in item_problems(item)
                )
    for template in content.get("templates", []):
        if not template.get("name", "").strip() or not template.get("text", "").strip():
            found.append(ContentProblem(str(_l("常用文案")), str(_l("名称和内容都不能为空"))))
    if len(content.get("templates", [])) > MAX_TEMPLATES:
        found.append(ContentProblem(str(_l("常用文案")), str(_l("最多 %(n)d 条", n=MAX_TEMPLATES))))
    return found


def item_problems(item: dict) -> list[str]:
    """What is wrong with one script item (empty if nothing)."""
    found = []
    if not TIME_PATTERN.match(item.get("time", "")):
        found.append(str(_l("时间须为 24 小时制的 时:分，如 09:00")))
    if item.get("role") not in {role.value for role in AccountRole}:
        found.append(str(_l("角色须为 主IP、马甲、客服 或 设计师")))
    if item.get("kind") not in {kind.value for kind in ScriptKind}:
        found.append(str(_l("未知的脚本类型")))
    text = item.get("text", "").strip()
    if not text:
        found.append(str(_l("脚本内容不能为空")))
    elif len(text) > MAX_TEXT_CHARS:
        found.append(str(_l("脚本内容不能超过 %(n)d 字", n=MAX_TEXT_CHARS)))
    if len(item.get("slot", "")) > MAX_NAME_CHARS:
        found.append(str(_l("时段名称不能超过 %(n)d 个字", n=MAX_NAME_CHARS)))
    if len(item.get("intent", "")) > MAX_INTENT_CHARS:
        found.append(str(_l("意图说明不能超过 %(n)d 字", n=MAX_INTENT_CHARS)))
    return found


def default_slot_name(time: str) -> str:
    """The timetable's name for the slot a time falls in (早间巡查 … 夜间值守)."""
    name = ""
    for start, slot_name in DEFAULT_SLOTS:
        if time >= start:
            name = str(slot_name)
    return name or str(DEFAULT_SLOTS[0][1])
