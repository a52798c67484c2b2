"""Filling a script's placeholders ({楼盘}, {团购价}…) for one group run.

A value no data can give is never left blank: it becomes a visible gap, 【待补：团购价】, that the
page highlights and that refuses to be marked as sent until someone fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from crm.groups.models import AccountRole
from crm.maps.coords import distance_m
from crm.scripts.content import PLACEHOLDER_PATTERN
from crm.scripts.models import ScriptRun

# Placeholders are written in Chinese in every script, whatever language the staff's screen is in.
ROLE_PLACEHOLDERS = {
    AccountRole.MAIN_IP: "主IP",
    AccountRole.HELPER: "马甲",
    AccountRole.SERVICE: "客服",
    AccountRole.DESIGNER: "设计师",
}
GAP_OPEN = "【待补："
GAP_CLOSE = "】"


def gap_marker(name: str) -> str:
    return f"{GAP_OPEN}{name}{GAP_CLOSE}"


def has_gaps(text: str) -> bool:
    return GAP_OPEN in text


@dataclass(frozen=True)
class FilledPart:
    text: str
    gap: str | None = None  # the placeholder's name when this part is a gap


@dataclass(frozen=True)
class FilledText:
    parts: tuple[FilledPart, ...]

    @property
    def text(self) -> str:
        """The text to paste into WeChat, gaps written out as 【待补：…】."""
        return "".join(gap_marker(part.gap) if part.gap else part.text for part in self.parts)

    @property
    def gaps(self) -> list[str]:
        return list(dict.fromkeys(part.gap for part in self.parts if part.gap))


def fill(text: str, values: dict[str, str]) -> FilledText:
    """Split `text` into literal parts, filled placeholders and gaps for the missing ones."""
    parts: list[FilledPart] = []
    position = 0
    for match in PLACEHOLDER_PATTERN.finditer(text):
        if match.start() > position:
            parts.append(FilledPart(text[position : match.start()]))
        name = match.group(1)
        value = (values.get(name) or "").strip()
        parts.append(FilledPart(value) if value else FilledPart("", gap=name))
        position = match.end()
    if position < len(text):
        parts.append(FilledPart(text[position:]))
    return FilledText(tuple(parts))


def _month(value) -> str:
    return f"{value.year}年{value.month}月" if value else ""


WEEKDAYS = "一二三四五六日"


def _day(value) -> str:
    return f"{value.month}月{value.day}日（周{WEEKDAYS[value.weekday()]}）"


def offer_values(offer) -> dict[str, str]:
    """What the estate's group-buy offer says for the placeholders a store would otherwise type in."""
    if offer is None:
        return {}
    values = {"报名截止": _day(offer.ends_on), "到店礼": offer.store_gift}
    if offer.event_on:
        values["活动日期"] = _day(offer.event_on)
    if offer.tiers:
        first = min(offer.tiers, key=lambda tier: tier.min_deposits)
        values["团购价"] = f"满{first.min_deposits}户{first.discount_percent}折起"
    return values


def run_values(run: ScriptRun, stores: list, offer=None) -> dict[str, str]:
    """What each placeholder says for this run: the estate, group, accounts and store, the estate's offer,
    then the run's own values (what the store typed for this group wins)."""
    group = run.group
    estate = group.estate
    values = {
        "楼盘": estate.name,
        "群名": group.name,
        "群主": group.owner.name if group.owner else "",
        "交房时间": _month(estate.delivery_date),
        "户数": str(estate.households) if estate.households else "",
        "区域": estate.district,
        "开发商": estate.developer,
    }
    for role_account in run.roles:
        values[ROLE_PLACEHOLDERS[role_account.role]] = role_account.user.name
    store = _nearest_store(estate, stores)
    if store is not None:
        values.update({"门店": store.name, "门店地址": store.address, "门店电话": store.phone})
    values.update({name: value for name, value in offer_values(offer).items() if value})
    values.update({name: value for name, value in (run.values or {}).items() if value})
    return values


def _nearest_store(estate, stores):
    """The store owners of the estate would go to: the closest positioned one, else the first."""
    if not stores:
        return None
    if estate.has_position:
        positioned = [store for store in stores if store.has_position]
        if positioned:
            return min(positioned, key=lambda store: distance_m(estate.lng, estate.lat, store.lng, store.lat))
    return stores[0]


def marked_placeholders(text: str) -> Markup:
    """`text` escaped, each {占位符} wrapped in a span: page and printout show what gets filled in, still as text."""
    parts = []
    position = 0
    for match in PLACEHOLDER_PATTERN.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<span class="ph">{}</span>').format(match[0]))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
