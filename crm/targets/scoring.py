"""Scoring estates for the traffic pool (圈定流量池): which estates are worth working first.

Each factor maps an estate to 0..1 (1 = most attractive); the dealer lead weighs the factors.
The curves follow the playbook: big estates, about to be handed over (owners decorate in the
first months), delivered as shells (毛坯 owners buy everything), well-off, near a store (65 %
of customers live within 3 km), few competitors already working them, and a group we are in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crm.core.i18n import lazy_gettext as _l
from crm.estates.models import Estate, EstateFinish

FACTORS = ("households", "delivery", "finish", "price", "distance", "competitors", "groups")
FACTOR_LABELS = {
    "households": _l("户数"),
    "delivery": _l("交房时间"),
    "finish": _l("毛坯/精装"),
    "price": _l("价格档次"),
    "distance": _l("离门店距离"),
    "competitors": _l("竞品"),
    "groups": _l("已进群"),
}
FULL_HOUSEHOLDS = 2000  # an estate this big (or bigger) scores full marks on size
NEAR_STORE_M = 3000
FAR_STORE_M = 10000


@dataclass
class FactorScore:
    value: float  # 0..1
    detail: str  # what the dealer sees, e.g. "3 个月后交房"


@dataclass
class EstateScore:
    estate: Estate
    total: float  # 0..100
    factors: dict[str, FactorScore] = field(default_factory=dict)
    store_distance_m: float | None = None


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (negative when `end` is earlier)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def households_factor(households: int | None) -> FactorScore:
    if not households:
        return FactorScore(0.0, str(_l("未知")))
    return FactorScore(min(households / FULL_HOUSEHOLDS, 1.0), str(_l("%(n)s 户", n=f"{households:,}")))


def delivery_factor(delivery: date | None, today: date) -> FactorScore:
    """Hottest from 3 months before to 6 months after handover; delivered years ago is cold."""
    if delivery is None:
        return FactorScore(0.3, str(_l("未知")))
    months = months_between(today, delivery)
    if months > 24:
        value = 0.2
    elif months > 12:
        value = 0.4
    elif months > 6:
        value = 0.7
    elif months >= -3:
        value = 1.0
    elif months >= -24:
        value = 0.8 - (abs(months) - 3) * (0.6 / 21)  # decorating fades over the first two years
    else:
        value = 0.1
    if months > 0:
        detail = str(_l("%(n)d 个月后交房", n=months))
    elif months == 0:
        detail = str(_l("本月交房"))
    else:
        detail = str(_l("已交房 %(n)d 个月", n=-months))
    return FactorScore(value, detail)


def finish_factor(finish: EstateFinish | None) -> FactorScore:
    if finish is EstateFinish.ROUGH:
        return FactorScore(1.0, finish.label)
    if finish is EstateFinish.FINISHED:
        return FactorScore(0.3, finish.label)
    return FactorScore(0.5, str(_l("未知")))


def price_factor(price: int | None, low: int | None, high: int | None) -> FactorScore:
    """Position of the estate's average price among the scored estates (the city's range)."""
    if price is None or low is None or high is None:
        return FactorScore(0.5, str(_l("未知")))
    value = 1.0 if high == low else (price - low) / (high - low)
    return FactorScore(value, str(_l("%(price)s 元/㎡", price=f"{price:,}")))


def distance_factor(distance_m: float | None) -> FactorScore:
    if distance_m is None:
        return FactorScore(0.3, str(_l("未定位")))
    if distance_m <= NEAR_STORE_M:
        value = 1.0
    elif distance_m >= FAR_STORE_M:
        value = 0.1
    else:
        value = 1.0 - 0.8 * (distance_m - NEAR_STORE_M) / (FAR_STORE_M - NEAR_STORE_M)
    return FactorScore(value, str(_l("%(km).1f 公里", km=distance_m / 1000)))


def competitors_factor(names: list[str]) -> FactorScore:
    value = {0: 1.0, 1: 0.6, 2: 0.4}.get(len(names), 0.2)
    return FactorScore(value, "、".join(names) if names else str(_l("无")))


def groups_factor(group_count: int) -> FactorScore:
    if group_count:
        return FactorScore(1.0, str(_l("%(n)d 个群", n=group_count)))
    return FactorScore(0.0, str(_l("未进群")))


def weighted_total(factors: dict[str, FactorScore], weights: dict[str, int]) -> float:
    """0..100: the factors' values averaged with the dealer's weights."""
    total_weight = sum(max(int(weights.get(name, 0)), 0) for name in FACTORS)
    if total_weight == 0:
        return 0.0
    points = sum(factors[name].value * max(int(weights.get(name, 0)), 0) for name in FACTORS)
    return round(100 * points / total_weight, 1)
