"""Builders for installation tests: a fresh order (待安装) with a job, neighbours, checklists and signatures."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

from PIL import Image, ImageDraw

from crm.core.roles import Role
from crm.extensions import db
from crm.installs import service
from crm.installs.models import DEFAULT_CHECKLIST, InstallationJob, Step
from crm.orders.models import Order, OrderItem, OrderStatus
from crm.org.models import User
from crm.people.models import Person
from tests.factories import file_storage, png_bytes


def make_order(dealer_world, status: OrderStatus = OrderStatus.AWAITING_INSTALL, offer: bool = True, **fields) -> Order:
    """An order of the dealer's owner (by default 待安装, with the world's offer and its 5-year promise)."""
    order = Order(
        dealer_id=dealer_world.dealer_id,
        person_id=dealer_world.person_id,
        estate_id=dealer_world.estate_id,
        offer_id=dealer_world.offer_id if offer else None,
        building=fields.pop("building", "8"),
        unit=fields.pop("unit", "1"),
        room=fields.pop("room", "602"),
        status=status,
        **fields,
    )
    order.items.append(
        OrderItem(
            dealer_id=dealer_world.dealer_id,
            name="实木复合门",
            unit="樘",
            quantity=Decimal("4"),
            list_price=Decimal("1980"),
            unit_price=Decimal("1742.40"),
        )
    )
    db.session.add(order)
    db.session.flush()
    return order


def make_job(dealer_world, order: Order | None = None, **fields) -> InstallationJob:
    """A job for `order` (a fresh 待安装 order by default) with the dealer's installer."""
    order = order or make_order(dealer_world)
    return service.create_job(
        db.session,
        order,
        service.JobFields(scheduled_on=fields.pop("scheduled_on", None), installer_ids=[installer_id(dealer_world)]),
    )


def installer_id(dealer_world) -> int:
    return dealer_world.user_ids[Role.INSTALLER]


def user(dealer_world, role: Role) -> User:
    return db.session.get(User, dealer_world.user_ids[role])


def neighbour(dealer_world, name: str = "隔壁王姐", estate_id: int | None = None) -> Person:
    person = Person(
        dealer_id=dealer_world.dealer_id,
        name=name,
        estate_id=estate_id or dealer_world.estate_id,
        building="8",
        unit="1",
        room="601",
    )
    db.session.add(person)
    db.session.flush()
    return person


def checklist(failed: dict[str, str] | None = None, items=DEFAULT_CHECKLIST) -> list[service.ChecklistResult]:
    """Every item 合格, except those in `failed` (item → note)."""
    failed = failed or {}
    return [service.ChecklistResult(item, item not in failed, failed.get(item, "")) for item in items]


def drawn_png(width: int = 600, height: int = 200) -> bytes:
    """A signature: a stroke on a transparent canvas, as the pad's toDataURL gives it."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(40, 150), (160, 40), (260, 160), (420, 60)], fill=(31, 41, 51, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def blank_png(width: int = 600, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def photo(name: str = "door.png"):
    return file_storage(png_bytes(), name)


def fields_for(step: Step, dealer_world, failed=None, **extra) -> service.AttemptFields:
    """What a step needs to pass (or fail on `failed` items): the right performer, feedback, photo, signature."""
    values = {"checklist": checklist(failed)}
    if step == Step.SELF_CHECK:
        values["performer_user_id"] = installer_id(dealer_world)
    elif step == Step.SPOT_CHECK:
        values["performer_user_id"] = dealer_world.user_ids[Role.CONSULTANT]
    elif step == Step.GROUP_CHECK:
        values.update(performer_name="业主群", notes="群里邻居看了照片，都说门缝均匀", photos=[photo()])
    elif step == Step.NEIGHBOUR_CHECK:
        values["performer_person_id"] = extra.pop("neighbour_id")
    else:
        values["signature"] = data_url(drawn_png())
    values.update(extra)
    return service.AttemptFields(**values)


def run_steps(job: InstallationJob, dealer_world, until: Step, neighbour_id: int | None = None, today=None):
    """Pass steps 1…until as the lead."""
    lead = user(dealer_world, Role.DEALER_LEAD)
    for step in Step:
        if step > until:
            break
        extra = {"neighbour_id": neighbour_id} if step == Step.NEIGHBOUR_CHECK else {}
        service.record_attempt(db.session, job, step, lead, fields_for(step, dealer_world, **extra), today=today)
