"""Rules of the group-buy offer: which tier applies for a number of deposits, and where that number comes from;
and the writes for products, offers, tiers, early birds and risk promises (they only flush; the request commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from crm.core.validation import FieldError
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise


def tier_for(tiers: list[OfferTier], deposits: int) -> OfferTier | None:
    """The tier in force at `deposits` deposits: the one with the highest threshold reached (≥)."""
    reached = [tier for tier in tiers if deposits >= tier.min_deposits]
    return max(reached, key=lambda tier: tier.min_deposits) if reached else None


def next_tier(tiers: list[OfferTier], deposits: int) -> OfferTier | None:
    """The next tier to reach, if any (what the group is told to aim for)."""
    ahead = [tier for tier in tiers if tier.min_deposits > deposits]
    return min(ahead, key=lambda tier: tier.min_deposits) if ahead else None


def early_birds_left(early_birds: list[EarlyBird], deposits: int) -> list[EarlyBird]:
    """The early-bird benefits the next depositor still gets (the first N not yet filled)."""
    return [bird for bird in early_birds if deposits < bird.first_n]


def discounted(price: Decimal, tier: OfferTier | None) -> Decimal:
    """`price` at the tier's discount (list price when no tier applies), to the fen."""
    if tier is None:
        return price
    return (price * tier.discount_percent / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def deposit_count(session: Session, offer: GroupOffer, today: date) -> int:
    """Deposits (交定) recorded in the estate's groups during the offer, up to today.

    Until orders exist (issue 8) the groups' daily numbers are where deposits are counted.
    """
    from crm.groups.models import Group, GroupMetric

    until = min(today, offer.ends_on)
    if until < offer.starts_on:
        return 0
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(GroupMetric.deposits), 0))
        .join(Group, Group.id == GroupMetric.group_id)
        .where(Group.estate_id == offer.estate_id, GroupMetric.day.between(offer.starts_on, until))
    )
    return int(total or 0)


@dataclass
class OfferStatus:
    """An offer as it stands today: deposits so far, the tier in force, the next one, early birds left."""

    offer: GroupOffer
    deposits: int
    today: date

    @property
    def tier(self) -> OfferTier | None:
        return tier_for(self.offer.tiers, self.deposits)

    @property
    def next_tier(self) -> OfferTier | None:
        return next_tier(self.offer.tiers, self.deposits)

    @property
    def to_next_tier(self) -> int | None:
        following = self.next_tier
        return following.min_deposits - self.deposits if following else None

    @property
    def early_birds_left(self) -> list[EarlyBird]:
        return early_birds_left(self.offer.early_birds, self.deposits)

    @property
    def is_open(self) -> bool:
        return self.offer.is_active and self.offer.starts_on <= self.today <= self.offer.ends_on

    def price(self, list_price: Decimal) -> Decimal:
        return discounted(list_price, self.tier)


def current_offers(session: Session, estate_ids, today: date) -> dict[int, GroupOffer]:
    """Per estate, its active offer covering today, else its latest active one; in one query (plus loaders)."""
    estate_ids = set(estate_ids)
    if not estate_ids:
        return {}
    offers = session.scalars(
        sa.select(GroupOffer)
        .where(GroupOffer.estate_id.in_(estate_ids), GroupOffer.is_active.is_(True))
        .order_by(GroupOffer.starts_on.desc(), GroupOffer.id.desc())
        .options(
            selectinload(GroupOffer.tiers), selectinload(GroupOffer.early_birds), selectinload(GroupOffer.promises)
        )
    ).all()
    chosen: dict[int, GroupOffer] = {}
    for offer in offers:  # newest first: the first covering today wins, else the first seen
        covers = offer.starts_on <= today <= offer.ends_on
        current = chosen.get(offer.estate_id)
        if current is None or (covers and not current.starts_on <= today <= current.ends_on):
            chosen[offer.estate_id] = offer
    return chosen


def current_offer(session: Session, estate_id: int, today: date) -> GroupOffer | None:
    """The estate's active offer covering today, else its latest active one (none if it has none)."""
    return current_offers(session, {estate_id}, today).get(estate_id)


def offer_status(session: Session, estate_id: int, today: date) -> OfferStatus | None:
    offer = current_offer(session, estate_id, today)
    return OfferStatus(offer, deposit_count(session, offer, today), today) if offer else None


def deposit_counts(session: Session, offers: list[GroupOffer], today: date) -> dict[int, int]:
    """`deposit_count` for many offers in one query: offer id → deposits (0 for an offer without any)."""
    from crm.groups.models import Group, GroupMetric

    offer_ids = [offer.id for offer in offers]
    if not offer_ids:
        return {}
    rows = session.execute(
        sa.select(GroupOffer.id, sa.func.coalesce(sa.func.sum(GroupMetric.deposits), 0))
        .join(Group, Group.estate_id == GroupOffer.estate_id)
        .join(GroupMetric, GroupMetric.group_id == Group.id)
        .where(
            GroupOffer.id.in_(offer_ids),
            GroupMetric.day >= GroupOffer.starts_on,
            GroupMetric.day <= GroupOffer.ends_on,
            GroupMetric.day <= today,
        )
        .group_by(GroupOffer.id)
    ).all()
    counts = {offer_id: 0 for offer_id in offer_ids}
    counts.update({offer_id: int(total or 0) for offer_id, total in rows})
    return counts


# ---------------------------------------------------------------- writes
#
# Every write validates all of its input before touching a row, then only flushes: a refused input
# (FieldError, shown on the form) leaves nothing half-changed, and the request commits once.

MAX_PRICE = Decimal("9999999999.99")  # what Numeric(12, 2) holds
MAX_DEPOSITS = 100_000
PROMISE_MAX_YEARS = 30


def _text(value: str | None, field: str, limit: int, required_message: str | None = None) -> str:
    """Stripped text; FieldError when required and blank, or longer than the column holds."""
    text = (value or "").strip()
    if required_message and not text:
        raise FieldError(field, required_message)
    if len(text) > limit:
        raise FieldError(field, _("不能超过 %(n)d 个字", n=limit))
    return text


def _money(value, field: str, required_message: str | None = None) -> Decimal | None:
    """An amount in yuan, ≥ 0, to the fen (None when blank and not required)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required_message:
            raise FieldError(field, required_message)
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise FieldError(field, _("请输入数字")) from None
    if not amount.is_finite():
        raise FieldError(field, _("请输入数字"))
    if amount < 0:
        raise FieldError(field, _("金额不能小于 0"))
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount > MAX_PRICE:
        raise FieldError(field, _("金额过大"))
    return amount


# ---------------------------------------------------------------- products


@dataclass
class ProductFields:
    name: str
    unit_price: Decimal | str | None
    category: str = ""
    model: str = ""
    colour: str = ""
    unit: str = "件"
    tier: ProductTier = ProductTier.REGULAR


def _apply_product(session: Session, product: Product, dealer_id: int, fields: ProductFields) -> None:
    name = _text(fields.name, "name", 100, _("请填写产品名称"))
    category = _text(fields.category, "category", 50)
    model = _text(fields.model, "model", 50)
    colour = _text(fields.colour, "colour", 50)
    unit = _text(fields.unit, "unit", 10) or "件"
    price = _money(fields.unit_price, "unit_price", _("请填写单价"))
    try:
        tier = ProductTier(fields.tier)
    except ValueError:
        raise FieldError("tier", _("请选择产品定位")) from None
    clash = session.scalar(
        sa.select(Product.id).where(
            Product.dealer_id == dealer_id,
            Product.name == name,
            Product.model == model,
            Product.id != (product.id or 0),
        )
    )
    if clash:
        if model:
            message = _("产品库里已有“%(name)s”（型号 %(model)s），请换个名称或型号", name=name, model=model)
        else:
            message = _("产品库里已有“%(name)s”（无型号），请换个名称或填写型号", name=name)
        raise FieldError("name", message)
    product.name, product.category, product.model, product.colour, product.unit = name, category, model, colour, unit
    product.unit_price = price
    product.tier = tier


def create_product(session: Session, dealer_id: int, fields: ProductFields) -> Product:
    """Add a product to the dealer's catalog (名称+型号 unique per dealer)."""
    product = Product(dealer_id=dealer_id, is_active=True)
    _apply_product(session, product, dealer_id, fields)
    session.add(product)
    session.flush()
    return product


def update_product(session: Session, product: Product, fields: ProductFields) -> Product:
    """Change a product's name, category, model, colour, unit, list price or tier."""
    _apply_product(session, product, product.dealer_id, fields)
    session.flush()
    return product


def set_product_active(session: Session, product: Product, is_active: bool) -> Product:
    """Take a product out of the catalog (kept for the proposals that list it) or put it back."""
    product.is_active = bool(is_active)
    session.flush()
    return product


# ---------------------------------------------------------------- offers


@dataclass
class OfferFields:
    title: str
    starts_on: date | None
    ends_on: date | None
    event_on: date | None = None
    store_gift: str = ""
    deposit_amount: Decimal | str | None = None
    notes: str = ""


def _apply_offer(offer: GroupOffer, fields: OfferFields) -> None:
    title = _text(fields.title, "title", 100, _("请填写方案名称"))
    if fields.starts_on is None:
        raise FieldError("starts_on", _("请填写开始日期"))
    if fields.ends_on is None:
        raise FieldError("ends_on", _("请填写报名截止日期"))
    if fields.ends_on < fields.starts_on:
        raise FieldError("ends_on", _("报名截止不能早于开始日期"))
    if fields.event_on is not None and fields.event_on < fields.starts_on:
        raise FieldError("event_on", _("活动日期不能早于开始日期"))
    store_gift = _text(fields.store_gift, "store_gift", 200)
    deposit = _money(fields.deposit_amount, "deposit_amount")
    notes = _text(fields.notes, "notes", 5000)
    offer.title, offer.store_gift, offer.deposit_amount, offer.notes = title, store_gift, deposit, notes
    offer.starts_on, offer.ends_on, offer.event_on = fields.starts_on, fields.ends_on, fields.event_on


def create_offer(session: Session, estate, fields: OfferFields) -> GroupOffer:
    """Start a group-buy offer for `estate` (of the estate's dealer); tiers, early birds and promises come after."""
    offer = GroupOffer(dealer_id=estate.dealer_id, estate_id=estate.id, is_active=True)
    _apply_offer(offer, fields)
    session.add(offer)
    session.flush()
    return offer


def update_offer(session: Session, offer: GroupOffer, fields: OfferFields) -> GroupOffer:
    """Change an offer's title, period, event date, store gift, deposit or notes."""
    _apply_offer(offer, fields)
    session.flush()
    return offer


def set_offer_active(session: Session, offer: GroupOffer, is_active: bool) -> GroupOffer:
    """Stop an offer (it no longer counts as the estate's current one) or start it again."""
    offer.is_active = bool(is_active)
    session.flush()
    return offer


# ---------------------------------------------------------------- tiers


@dataclass
class TierFields:
    min_deposits: int | None
    discount_percent: int | None
    note: str = ""


def _check_tier(offer: GroupOffer, tier: OfferTier | None, fields: TierFields) -> tuple[int, int, str]:
    """The tier's values once they pass: threshold ≥ 0 and unique in the offer, 1–100 折, and a higher threshold
    never a worse price than a lower one (else "再 N 户升到 X 折" would promise a price rise)."""
    if fields.min_deposits is None:
        raise FieldError("min_deposits", _("请填写交定户数"))
    if not 0 <= fields.min_deposits <= MAX_DEPOSITS:
        raise FieldError("min_deposits", _("交定户数应在 0 到 %(n)d 之间", n=MAX_DEPOSITS))
    if fields.discount_percent is None:
        raise FieldError("discount_percent", _("请填写折扣"))
    if not 1 <= fields.discount_percent <= 100:
        raise FieldError("discount_percent", _("折扣应在 1 到 100 之间（88 即 88折，100 为原价）"))
    note = _text(fields.note, "note", 200)
    others = [other for other in offer.tiers if other is not tier]
    if any(other.min_deposits == fields.min_deposits for other in others):
        raise FieldError("min_deposits", _("已有 %(n)d 户的档位", n=fields.min_deposits))
    deposits, percent = fields.min_deposits, fields.discount_percent
    for other in others:
        fewer_but_cheaper = other.min_deposits < deposits and other.discount_percent <= percent
        more_but_dearer = other.min_deposits > deposits and other.discount_percent >= percent
        if fewer_but_cheaper or more_but_dearer:
            raise FieldError(
                "discount_percent",
                _(
                    "户数越多价格应越低：已有 %(n)d 户 %(label)s 的档位",
                    n=other.min_deposits,
                    label=discount_label(other.discount_percent),
                ),
            )
    return fields.min_deposits, fields.discount_percent, note


def add_tier(session: Session, offer: GroupOffer, fields: TierFields) -> OfferTier:
    """Add a price tier: from `min_deposits` deposits on, `discount_percent` of list price."""
    min_deposits, discount_percent, note = _check_tier(offer, None, fields)
    tier = OfferTier(dealer_id=offer.dealer_id, min_deposits=min_deposits, discount_percent=discount_percent, note=note)
    offer.tiers.append(tier)
    offer.tiers.sort(key=lambda each: each.min_deposits)
    session.flush()
    return tier


def update_tier(session: Session, tier: OfferTier, fields: TierFields) -> OfferTier:
    """Change a tier's threshold, discount or note (same rules as adding one)."""
    tier.min_deposits, tier.discount_percent, tier.note = _check_tier(tier.offer, tier, fields)
    tier.offer.tiers.sort(key=lambda each: each.min_deposits)
    session.flush()
    return tier


def delete_tier(session: Session, tier: OfferTier) -> None:
    """Remove a price tier."""
    tier.offer.tiers.remove(tier)
    session.flush()


# ---------------------------------------------------------------- early birds


@dataclass
class EarlyBirdFields:
    first_n: int | None
    benefit: str


def add_early_bird(session: Session, offer: GroupOffer, fields: EarlyBirdFields) -> EarlyBird:
    """门槛: the first `first_n` depositors get `benefit` (the earlier, the more)."""
    if fields.first_n is None:
        raise FieldError("first_n", _("请填写名额"))
    if not 0 < fields.first_n <= MAX_DEPOSITS:
        raise FieldError("first_n", _("名额应在 1 到 %(n)d 之间", n=MAX_DEPOSITS))
    benefit = _text(fields.benefit, "benefit", 200, _("请填写早鸟礼"))
    bird = EarlyBird(dealer_id=offer.dealer_id, first_n=fields.first_n, benefit=benefit)
    offer.early_birds.append(bird)
    offer.early_birds.sort(key=lambda each: each.first_n)
    session.flush()
    return bird


def delete_early_bird(session: Session, bird: EarlyBird) -> None:
    """Remove an early-bird benefit."""
    bird.offer.early_birds.remove(bird)
    session.flush()


# ---------------------------------------------------------------- risk promises


@dataclass
class PromiseFields:
    item: str
    years: int | None
    remedy: str


def _check_promise(fields: PromiseFields) -> tuple[str, int, str]:
    item = _text(fields.item, "item", 200, _("请填写承诺内容"))
    if fields.years is None:
        raise FieldError("years", _("请填写年限"))
    if not 1 <= fields.years <= PROMISE_MAX_YEARS:
        raise FieldError("years", _("年限应在 1 到 %(n)d 年之间", n=PROMISE_MAX_YEARS))
    remedy = _text(fields.remedy, "remedy", 200, _("请填写处理方式"))
    return item, fields.years, remedy


def _renumber(promises: list[RiskPromise]) -> None:
    for position, promise in enumerate(promises):
        promise.position = position


def add_promise(session: Session, offer: GroupOffer, fields: PromiseFields) -> RiskPromise:
    """风险承诺 at the end of the offer's list, e.g. 5 年内掉漆、门皮起翘、门框变形 → 免费维修."""
    item, years, remedy = _check_promise(fields)
    position = max((promise.position for promise in offer.promises), default=-1) + 1
    promise = RiskPromise(dealer_id=offer.dealer_id, position=position, item=item, years=years, remedy=remedy)
    offer.promises.append(promise)
    session.flush()
    return promise


def update_promise(session: Session, promise: RiskPromise, fields: PromiseFields) -> RiskPromise:
    """Change a promise's wording, years or remedy."""
    promise.item, promise.years, promise.remedy = _check_promise(fields)
    session.flush()
    return promise


def delete_promise(session: Session, promise: RiskPromise) -> None:
    """Remove a promise; the rest close ranks."""
    offer = promise.offer
    offer.promises.remove(promise)
    _renumber(offer.promises)
    session.flush()


def move_promise(session: Session, promise: RiskPromise, offset: int) -> None:
    """Move a promise up (-1) or down (+1) the offer's list (stops at either end)."""
    promises = sorted(promise.offer.promises, key=lambda each: (each.position, each.id or 0))
    index = promises.index(promise)
    target = min(max(index + offset, 0), len(promises) - 1)
    promises.insert(target, promises.pop(index))
    _renumber(promises)
    promise.offer.promises.sort(key=lambda each: each.position)
    session.flush()


# ---------------------------------------------------------------- words for the deal


def discount_label(percent: int | None) -> str:
    """How a discount is said: 88 → 88折, 90 → 9折, 100 → 原价."""
    if percent is None or percent >= 100:
        return _("原价")
    zhe = str(percent // 10) if percent % 10 == 0 else str(percent)
    return _("%(zhe)s折", zhe=zhe)


@dataclass
class PriceLine:
    """One product at list price, at the tier in force and at every tier of the offer."""

    product: Product
    current: Decimal
    by_tier: list[tuple[OfferTier, Decimal]]

    @property
    def saving(self) -> Decimal:
        return self.product.unit_price - self.current


def price_lines(products: list[Product], tiers: list[OfferTier], tier: OfferTier | None) -> list[PriceLine]:
    """Each product's group price at the tier in force (`tier`, None = list price) and at each of `tiers`."""
    ordered = sorted(tiers, key=lambda each: each.min_deposits)
    return [
        PriceLine(
            product,
            discounted(product.unit_price, tier),
            [(each, discounted(product.unit_price, each)) for each in ordered],
        )
        for product in products
    ]
