"""Contracts on paper: the sales contract of an order and the 群主合作协议 with a key person, A4 portrait in the
shipped font. A draft is rendered live from the order; signing renders once more (without the draft mark) and the
stored bytes are the contract from then on (crm.orders.service.sign_contract)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.orders.models import Contract, ContractKind
from crm.orders.queries import cooperation_terms, sales_terms
from crm.org.models import Dealer, Store
from crm.proposals.printing import plain_number, yuan

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
GROUPS = ("", "万", "亿", "万亿")


def _four_digits(number: int) -> str:
    """1..9999 in capitals: 1001 → 壹仟零壹."""
    out, zero = "", False
    for place, unit in PLACES:
        digit = number // place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[digit] + unit
    return out


def _integer_capitals(number: int) -> str:
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    out, gap = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += _four_digits(group) + GROUPS[index]
        gap = False
    return out


def rmb_capitals(amount: Decimal) -> str:
    """An amount in yuan as written on contracts (人民币大写): 5227.20 → 伍仟贰佰贰拾柒元贰角整."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + rmb_capitals(-amount)
    fen_total = int(amount * 100)
    yuan_part, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if fen_total == 0:
        return "零元整"
    out = _integer_capitals(yuan_part) + "元" if yuan_part else ""
    if rest == 0:
        return out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan_part:
        out += "零"
    return out + (DIGITS[fen] + "分" if fen else "整")


def contract_number(contract: Contract) -> str:
    """XS-000012 (销售) or HZ-000013 (合作): the series, the same for every version."""
    prefix = "XS" if contract.kind == ContractKind.SALES else "HZ"
    return f"{prefix}-{contract.series_id or contract.id:06d}"


def contract_filename(contract: Contract) -> str:
    """销售合同-XS-000012-第2版.pdf"""
    number = contract_number(contract)
    return _("%(title)s-%(number)s-第%(n)d版.pdf", title=contract.title, number=number, n=contract.version)


def dealer_store(session: Session, dealer_id: int, estate=None) -> Store | None:
    """The store that signs for the dealer: the nearest to the estate when both are placed, else the first by name."""
    stores = session.scalars(sa.select(Store).where(Store.dealer_id == dealer_id).order_by(Store.name, Store.id)).all()
    if not stores:
        return None
    placed = [store for store in stores if store.has_position]
    if estate is not None and estate.has_position and placed:
        from crm.maps.coords import distance_m

        return min(placed, key=lambda store: distance_m(estate.lng, estate.lat, store.lng, store.lat))
    return stores[0]


def render_contract(session: Session, contract: Contract, *, is_draft: bool) -> bytes:
    """The contract as an A4 portrait PDF (needs an app context); `is_draft` prints the draft mark."""
    from crm.pdf.engine import render_pdf

    dealer = session.get(Dealer, contract.dealer_id)
    common = {
        "page_size": "A4",
        "landscape": False,
        "title": contract.title,
        "dealer_name": dealer.name,
        "contract": contract,
        "number": contract_number(contract),
        "dealer": dealer,
        "is_draft": is_draft,
        "yuan": yuan,
        "plain_number": plain_number,
        "rmb_capitals": rmb_capitals,
    }
    if contract.kind == ContractKind.SALES:
        order = contract.order
        return render_pdf(
            "pdf/contract_sales.html",
            order=order,
            owner=order.person,
            estate=order.estate,
            store=dealer_store(session, contract.dealer_id, order.estate),
            items=list(order.items),
            terms=sales_terms(contract),
            **common,
        )
    group = contract.group
    return render_pdf(
        "pdf/contract_cooperation.html",
        person=contract.person,
        group=group,
        estate=group.estate if group else contract.person.estate,
        store=dealer_store(session, contract.dealer_id, group.estate if group else None),
        terms=cooperation_terms(contract),
        **common,
    )
