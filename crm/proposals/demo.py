"""Demo data for value and offers: each dealer's product catalog, group-buy offers on the estates it
works, and design proposals per floor plan — general ones in several styles, personal ones with the
owner's consent, shared to the group, with neighbours' comments and flaws. Safe to run again."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from crm.core.models import local_today
from crm.core.roles import Role
from crm.core.uploads import save_image
from crm.estates.models import Estate, FloorPlan
from crm.groups.models import Group
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise
from crm.org.models import Dealer, User
from crm.people.models import Person
from crm.proposals import service
from crm.proposals.models import ConsentChannel, Proposal, ProposalKind

FONT = Path(__file__).resolve().parent.parent.parent / "static" / "fonts" / "NotoSansSC-Regular.ttf"

# name, category, model, colour, unit, list price, tier
PRODUCTS = (
    ("实木复合门", "木门", "SM-801", "胡桃木色", "樘", "2380", ProductTier.BAIT),
    ("静音免漆套装门", "木门", "JY-320", "奶咖色", "樘", "1680", ProductTier.REGULAR),
    ("极简隐形门", "木门", "YX-102", "哑光白", "樘", "3280", ProductTier.REGULAR),
    ("整体衣柜", "全屋定制", "YG-E0", "暖白+木纹", "㎡", "699", ProductTier.REGULAR),
    ("橱柜（石英石台面）", "全屋定制", "CG-Q5", "浅灰", "延米", "2680", ProductTier.REGULAR),
    ("榻榻米储物床", "全屋定制", "TT-08", "原木色", "㎡", "980", ProductTier.REGULAR),
    ("上门量尺出图", "服务", "", "", "次", "0", ProductTier.SERVICE),
    ("老带新智能门锁", "裂变礼", "ZN-S1", "", "套", "0", ProductTier.REFERRAL),
)

TIERS = ((10, 92, "10 户成团"), (30, 88, "30 户升级"), (50, 85, "50 户封顶价"))
EARLY_BIRDS = ((20, "前 20 户交定：五金全部升级为静音款"), (50, "前 50 户交定：免费上门安装门吸和挡水条"))
PROMISES = (
    ("掉漆、门皮起翘、门框变形", 5, "免费上门维修，修不好免费换新"),
    ("柜体变形、开裂", 10, "免费更换柜体板件"),
    ("铰链、滑轨等五金损坏", 2, "免费更换"),
)

# style → (wall colour, accent colour, lines of the concept)
STYLES = {
    "现代简约": ((236, 236, 232), (64, 64, 64), "浅色墙面 · 极简门线 · 隐藏收纳"),
    "新中式": ((232, 222, 205), (120, 62, 40), "胡桃木色 · 格栅元素 · 对称布局"),
    "原木": ((240, 228, 208), (150, 110, 70), "原木色 · 暖光 · 自然材质"),
    "奶油风": ((246, 238, 226), (196, 160, 120), "奶咖色 · 圆角 · 柔和灯光"),
}


def seed_proposals(session: Session, dealers: list[Dealer], today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    added = {"products": 0, "offers": 0, "proposals": 0}
    for dealer in dealers:
        staff = {user.role: user for user in session.scalars(sa.select(User).where(User.dealer_id == dealer.id))}
        lead = staff.get(Role.DEALER_LEAD)
        if lead is None:
            continue
        products = _seed_products(session, dealer, added)
        estates = session.scalars(
            sa.select(Estate)
            .where(Estate.id.in_(sa.select(Group.estate_id).where(Group.dealer_id == dealer.id)))
            .order_by(Estate.id)
        ).all()
        for estate in estates[: 3 if dealer.code == "QQHR" else 1]:
            _seed_offer(session, dealer, estate, today, added)
        designer = staff.get(Role.DESIGNER, lead)
        rng = random.Random(f"pantu-demo-proposals-{dealer.code}")
        for estate in estates[: 2 if dealer.code == "QQHR" else 1]:
            _seed_estate_proposals(session, dealer, estate, designer, products, rng, added)
    session.flush()
    return added


def _seed_products(session: Session, dealer: Dealer, added: dict) -> dict[str, Product]:
    existing = {p.name: p for p in session.scalars(sa.select(Product).where(Product.dealer_id == dealer.id))}
    for name, category, model, colour, unit, price, tier in PRODUCTS:
        if name not in existing:
            product = Product(
                dealer_id=dealer.id,
                name=name,
                category=category,
                model=model,
                colour=colour,
                unit=unit,
                unit_price=Decimal(price),
                tier=tier,
            )
            session.add(product)
            existing[name] = product
            added["products"] += 1
    session.flush()
    return existing


def _seed_offer(session: Session, dealer: Dealer, estate: Estate, today: date, added: dict) -> None:
    if session.scalar(sa.select(GroupOffer.id).where(GroupOffer.estate_id == estate.id)):
        return
    offer = GroupOffer(
        dealer_id=dealer.id,
        estate_id=estate.id,
        title=f"{estate.name}业主团购",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=20),
        event_on=today + timedelta(days=(5 - today.weekday()) % 7 or 7),
        store_gift="到店交定送全屋五金升级礼包",
        deposit_amount=Decimal("500"),
        notes="团购价只对本小区业主，群内价格请勿外传。",
    )
    for min_deposits, discount, note in TIERS:
        offer.tiers.append(
            OfferTier(dealer_id=dealer.id, min_deposits=min_deposits, discount_percent=discount, note=note)
        )
    for first_n, benefit in EARLY_BIRDS:
        offer.early_birds.append(EarlyBird(dealer_id=dealer.id, first_n=first_n, benefit=benefit))
    for position, (item, years, remedy) in enumerate(PROMISES):
        offer.promises.append(
            RiskPromise(dealer_id=dealer.id, position=position, item=item, years=years, remedy=remedy)
        )
    session.add(offer)
    added["offers"] += 1


def _seed_estate_proposals(session, dealer, estate, designer, products, rng, added) -> None:
    plans = session.scalars(sa.select(FloorPlan).where(FloorPlan.estate_id == estate.id).order_by(FloorPlan.id)).all()
    if not plans or session.scalar(sa.select(Proposal.id).where(Proposal.estate_id == estate.id)):
        return
    owners = session.scalars(
        sa.select(Person).where(Person.estate_id == estate.id, Person.dealer_id == dealer.id).order_by(Person.id)
    ).all()
    styles = list(STYLES)
    for plan_index, plan in enumerate(plans[:2]):
        for style in styles[plan_index : plan_index + 2]:
            proposal = service.create_proposal(
                session,
                estate,
                service.ProposalFields(
                    title=f"{plan.name} · {style}全屋方案",
                    floor_plan_id=plan.id,
                    style=style,
                    description=f"{STYLES[style][2]}。门和柜子一起设计，颜色统一，预算可控。",
                    designer_id=designer.id,
                ),
            )
            _fill(session, proposal, plan, style, products, rng)
            service.publish_share(session, proposal)
            proposal.view_count = rng.randint(12, 140)
            added["proposals"] += 1
            if style == styles[plan_index]:
                _review(session, proposal, designer)
    if owners:
        owner, plan = owners[1 % len(owners)], plans[0]
        personal = service.create_proposal(
            session,
            estate,
            service.ProposalFields(
                title=f"{owner.name}家 · {plan.name}个性方案",
                floor_plan_id=plan.id,
                kind=ProposalKind.PERSONAL,
                style="原木",
                description="业主到店沟通后定稿：次卧改书房，玄关加高柜，主卧衣柜做到顶。",
                person_id=owner.id,
                designer_id=designer.id,
            ),
        )
        _fill(session, personal, plan, "原木", products, rng)
        service.record_consent(session, personal, designer, ConsentChannel.IN_STORE, "到店看完效果图后同意分享到业主群")
        service.publish_share(session, personal)
        personal.view_count = rng.randint(30, 90)
        service.add_staff_comment(
            session, personal, designer, "6栋-王哥", "书房的柜子能不能留出插座位置？", is_flaw=True
        )
        added["proposals"] += 1
    if len(owners) > 2:
        waiting = service.create_proposal(
            session,
            estate,
            service.ProposalFields(
                title=f"{owners[2].name}家 · {plans[-1].name}个性方案",
                floor_plan_id=plans[-1].id,
                kind=ProposalKind.PERSONAL,
                style="奶油风",
                person_id=owners[2].id,
                designer_id=designer.id,
                description="初稿，等业主确认后再征求是否分享。",
            ),
        )
        _fill(session, waiting, plans[-1], "奶油风", products, rng)
        added["proposals"] += 1


def _fill(session, proposal: Proposal, plan: FloorPlan, style: str, products: dict, rng) -> None:
    for view in ("客餐厅", "主卧"):
        upload = FileStorage(
            io.BytesIO(_render(plan.name, style, view)), filename=f"{view}.png", content_type="image/png"
        )
        service.add_image(session, proposal, save_image(upload, "proposals"), caption=f"{view} · {style}")
    doors = rng.randint(4, 7)
    lines = (
        ("实木复合门" if style in ("新中式", "原木") else "静音免漆套装门", doors),
        ("整体衣柜", Decimal(rng.randint(80, 160)) / 10),
        ("橱柜（石英石台面）", Decimal(rng.randint(30, 55)) / 10),
        ("上门量尺出图", 1),
    )
    for name, quantity in lines:
        service.add_item(session, proposal, service.ItemFields(product_id=products[name].id, quantity=str(quantity)))


def _review(session, proposal: Proposal, designer: User) -> None:
    service.add_staff_comment(
        session, proposal, designer, "3栋-李姐", "这个颜色很耐看，想问下同户型能不能把阳台也做收纳？"
    )
    flaw = service.add_staff_comment(
        session, proposal, designer, "11栋-张哥", "入户门开启方向和鞋柜冲突了，开门会撞到柜门。", is_flaw=True
    )
    service.resolve_flaw(session, flaw, designer, "鞋柜改为 35 cm 浅柜并右移 20 cm，已更新效果图。")


def _render(plan_name: str, style: str, view: str) -> bytes:
    """A simple rendering of a room in the style's colours: a real image, with its label in Chinese."""
    wall, accent, concept = STYLES[style]
    image = Image.new("RGB", (1200, 800), wall)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 600, 1200, 800), fill=tuple(max(c - 40, 0) for c in wall))  # floor
    draw.rectangle((120, 180, 300, 600), fill=accent)  # a door
    draw.ellipse((270, 380, 285, 395), fill=wall)
    draw.rectangle((420, 220, 900, 600), outline=accent, width=8)  # a wardrobe
    for x in range(540, 900, 120):
        draw.line((x, 220, x, 600), fill=accent, width=4)
    draw.rectangle((960, 260, 1120, 480), fill=(205, 225, 235), outline=accent, width=6)  # a window
    try:
        font = ImageFont.truetype(str(FONT), 44)
        small = ImageFont.truetype(str(FONT), 28)
    except OSError:
        font = small = ImageFont.load_default()
    draw.text((60, 40), f"{view} · {style}", fill=accent, font=font)
    draw.text((60, 110), f"{plan_name}  {concept}", fill=(90, 90, 90), font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
