"""Demo data for orders, contracts and installation: in QQHR's first offer estate one order installed and
accepted through all five steps (a defect found at the spot check and fixed, the owner's signature,
warranty running, one claim), one signed and waiting for installation, one with a deposit only; and a
cooperation contract with the group owner. Safe to run again: a dealer with orders is left alone."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from crm.core.models import local_today
from crm.core.roles import Role
from crm.groups.models import Group
from crm.installs import service as installs
from crm.installs.models import Step
from crm.offers.models import GroupOffer
from crm.orders import service as orders
from crm.orders.models import Order, OrderStatus
from crm.org.models import Dealer, User
from crm.people.models import Person
from crm.proposals.models import Proposal


def seed_orders(session: Session, dealers: list[Dealer], today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    added = {"orders": 0}
    for dealer in dealers:
        if dealer.code != "QQHR" or session.scalar(sa.select(Order.id).where(Order.dealer_id == dealer.id)):
            continue
        staff = {user.role: user for user in session.scalars(sa.select(User).where(User.dealer_id == dealer.id))}
        offer = session.scalars(
            sa.select(GroupOffer).where(GroupOffer.dealer_id == dealer.id).order_by(GroupOffer.id)
        ).first()
        if offer is None or Role.DEALER_LEAD not in staff:
            continue
        people = session.scalars(sa.select(Person).where(Person.estate_id == offer.estate_id).order_by(Person.id)).all()
        proposal = session.scalars(
            sa.select(Proposal).where(Proposal.estate_id == offer.estate_id).order_by(Proposal.id)
        ).first()
        if len(people) < 4 or proposal is None:
            continue
        lead = staff[Role.DEALER_LEAD]
        accepted = _order(session, people[3], proposal, lead, today - timedelta(days=25), "11")
        _install_and_accept(session, accepted, staff, people, today)
        waiting = _order(session, people[4 % len(people)], proposal, lead, today - timedelta(days=12), "7")
        _sign(session, waiting, lead)
        for status in (OrderStatus.PRODUCTION, OrderStatus.AWAITING_INSTALL):
            orders.change_status(session, waiting, status, lead)
        installs.create_job(
            session,
            waiting,
            installs.JobFields(
                scheduled_on=today + timedelta(days=2),
                installer_ids=[staff[Role.INSTALLER].id] if Role.INSTALLER in staff else [],
            ),
        )
        _order(session, people[5 % len(people)], proposal, lead, today - timedelta(days=2), "15")
        _cooperation(session, people[0], lead, today)
        added["orders"] += 3
    session.flush()
    return added


def _order(session, person, proposal, lead, deposit_day, building) -> Order:
    fields = orders.OrderFields(
        floor_plan_id=proposal.floor_plan_id,
        deposit_amount="500",
        deposit_paid_on=deposit_day,
        deposit_in_store=True,
        delivery_on=deposit_day + timedelta(days=14),
        install_on=deposit_day + timedelta(days=16),
        building=building,
        unit="2",
        room="1102",
    )
    return orders.create_order(session, person, fields, user=lead, today=deposit_day, proposal_id=proposal.id)


def _sign(session, order: Order, lead: User) -> None:
    contract = orders.create_sales_contract(session, order, lead)
    orders.sign_contract(session, contract, lead)


def _install_and_accept(session, order: Order, staff: dict, people: list, today: date) -> None:
    lead = staff[Role.DEALER_LEAD]
    _sign(session, order, lead)
    for status in (OrderStatus.PRODUCTION, OrderStatus.AWAITING_INSTALL):
        orders.change_status(session, order, status, lead)
    installer = staff.get(Role.INSTALLER, lead)
    job = installs.create_job(
        session, order, installs.JobFields(scheduled_on=today - timedelta(days=9), installer_ids=[installer.id])
    )
    items = installs.standard_items(session, order.dealer_id)
    all_pass = [installs.ChecklistResult(item, True) for item in items]
    spot_check = [installs.ChecklistResult(item, item != "门缝均匀", "卫生间门上缝偏大 3mm") for item in items]
    neighbour = next(p for p in people if p.id != order.person_id)
    steps = (
        (Step.SELF_CHECK, installer, installs.AttemptFields(all_pass, performer_user_id=installer.id)),
        (
            Step.SPOT_CHECK,
            staff.get(Role.CONSULTANT, lead),
            installs.AttemptFields(spot_check, performer_user_id=staff.get(Role.CONSULTANT, lead).id),
        ),
    )
    for step, user, fields in steps:
        installs.record_attempt(session, job, step, user, fields, today=today - timedelta(days=9))
    for defect in installs.open_defects(job):
        installs.fix_defect(session, defect, installer, "重新调整合页，上缝 2mm，已拍照", _photo("修复后"))
    consultant = staff.get(Role.CONSULTANT, lead)
    rest = (
        (Step.SPOT_CHECK, consultant, installs.AttemptFields(all_pass, performer_user_id=consultant.id)),
        (
            Step.GROUP_CHECK,
            lead,
            installs.AttemptFields(
                all_pass,
                performer_name=session.scalars(sa.select(Group.name).where(Group.estate_id == order.estate_id)).first()
                or "业主群",
                notes="群里 12 位邻居看了安装照片，问了门吸和挡水条，没有发现问题。",
                photos=[_photo("安装完成全景")],
            ),
        ),
        (Step.NEIGHBOUR_CHECK, lead, installs.AttemptFields(all_pass, performer_person_id=neighbour.id)),
        (
            Step.OWNER_ACCEPTANCE,
            lead,
            installs.AttemptFields(all_pass, performer_person_id=order.person_id, signature=_signature()),
        ),
    )
    for step, user, fields in rest:
        installs.record_attempt(session, job, step, user, fields, today=today - timedelta(days=8))
    warranty = order_warranty_items(session, order)
    if warranty:
        installs.log_claim(session, warranty[0], lead, "主卧门皮边角轻微起翘", today=today - timedelta(days=1))


def order_warranty_items(session, order: Order):
    from crm.installs.models import WarrantyItem

    return session.scalars(sa.select(WarrantyItem).where(WarrantyItem.order_id == order.id)).all()


def _cooperation(session, person: Person, lead: User, today: date) -> None:
    group = session.scalars(sa.select(Group).where(Group.owner_person_id == person.id)).first()
    if group is None or not person.is_key_person:
        return
    fields = orders.CooperationFields(
        group_id=group.id,
        starts_on=today - timedelta(days=20),
        ends_on=today + timedelta(days=160),
        results=[("群成员达到 300 人", "智能门锁一套"), ("带来 10 户交定", "每户返 200 元购物卡")],
    )
    contract = orders.create_cooperation_contract(session, person, fields, lead)
    orders.sign_contract(session, contract, lead)


def _photo(label: str) -> FileStorage:
    image = Image.new("RGB", (960, 640), (226, 220, 208))
    draw = ImageDraw.Draw(image)
    draw.rectangle((380, 80, 580, 600), fill=(120, 78, 48))
    draw.rectangle((360, 60, 600, 600), outline=(60, 60, 60), width=10)
    draw.text((24, 24), label.encode("ascii", "ignore").decode() or "photo", fill=(40, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return FileStorage(io.BytesIO(buffer.getvalue()), filename="photo.jpg", content_type="image/jpeg")


def _signature() -> str:
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(40, 140), (120, 60), (180, 150), (260, 70), (330, 140), (420, 80), (540, 120)], fill="black", width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
