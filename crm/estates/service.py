"""Writes for estates and floor plans. Functions flush; the request (or CLI command) commits."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.uploads import UploadError, delete_upload, save_image
from crm.core.validation import FieldError
from crm.estates.models import City, Estate, EstateAge, EstateFinish, EstateStage, FloorPlan, normalize_estate_name
from crm.maps.coords import CoordSystem


@dataclass
class EstateFields:
    """What a person (or an import) may set on an estate; coordinates in `coord_system`."""

    name: str
    city_id: int
    district: str = ""
    address: str = ""
    coord_system: CoordSystem = CoordSystem.WGS84
    lng: float | None = None
    lat: float | None = None
    households: int | None = None
    delivery_date: date | None = None
    age: EstateAge | None = None
    finish: EstateFinish | None = None
    avg_price: int | None = None
    developer: str = ""
    source: str = ""
    competitors: str = ""
    stage: EstateStage = EstateStage.UNPLANNED
    notes: str = ""

    @classmethod
    def from_form_data(cls, data: dict) -> EstateFields:
        """Build from a validated EstateForm's `data` (blank selects become None)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("district", "address", "developer", "source", "competitors", "notes", "name"):
            values[key] = (values.get(key) or "").strip()
        values["age"] = EstateAge(values["age"]) if values.get("age") else None
        values["finish"] = EstateFinish(values["finish"]) if values.get("finish") else None
        values["stage"] = EstateStage(values.get("stage") or EstateStage.UNPLANNED)
        values["coord_system"] = CoordSystem(values.get("coord_system") or CoordSystem.WGS84)
        return cls(**values)

    @classmethod
    def from_estate(cls, estate: Estate) -> EstateFields:
        """The estate as its editor sees it: position back in the system it was entered in."""
        lng, lat = estate.position_as_entered()
        values = {f.name: getattr(estate, f.name) for f in fields(cls) if f.name not in ("lng", "lat")}
        return cls(**values, lng=lng, lat=lat)


def _check_name_free(session: Session, dealer_id: int, city_id: int, name_key: str, exclude_id: int | None) -> None:
    query = sa.select(Estate.id).where(
        Estate.dealer_id == dealer_id, Estate.city_id == city_id, Estate.name_key == name_key
    )
    if exclude_id is not None:
        query = query.where(Estate.id != exclude_id)
    if session.execute(query).first() is not None:
        raise FieldError("name", _("本经销商在该城市已有同名楼盘"))


def _apply(session: Session, estate: Estate, data: EstateFields) -> None:
    if not data.name:
        raise FieldError("name", _("请填写楼盘名称"))
    if session.get(City, data.city_id) is None:
        raise FieldError("city_id", _("请选择城市"))
    if data.households is not None and data.households < 0:
        raise FieldError("households", _("户数不能小于 0"))
    name_key = normalize_estate_name(data.name)
    _check_name_free(session, estate.dealer_id, data.city_id, name_key, estate.id)

    estate.set_position(data.lng, data.lat, data.coord_system)
    for f in fields(EstateFields):
        if f.name not in ("lng", "lat", "coord_system"):
            setattr(estate, f.name, getattr(data, f.name))
    estate.name_key = name_key


def create_estate(session: Session, dealer_id: int, data: EstateFields) -> Estate:
    """Add an estate to a dealer's list; FieldError if the input breaks a rule."""
    estate = Estate(dealer_id=dealer_id)
    _apply(session, estate, data)
    session.add(estate)
    session.flush()
    return estate


def update_estate(session: Session, estate: Estate, data: EstateFields) -> Estate:
    """Change an estate's facts; FieldError if the input breaks a rule."""
    _apply(session, estate, data)
    session.flush()
    return estate


def set_stage(session: Session, estate: Estate, stage: EstateStage | str) -> Estate:
    """Move an estate to another pipeline stage."""
    estate.stage = EstateStage(stage)
    session.flush()
    return estate


@dataclass
class FloorPlanFields:
    name: str
    area_m2: Decimal | None = None
    rooms: int | None = None
    unit_count: int | None = None


def add_floor_plan(session: Session, estate: Estate, data: FloorPlanFields, image=None) -> FloorPlan:
    """Add a floor plan (and its image, if given) to an estate."""
    name = data.name.strip()
    if not name:
        raise FieldError("name", _("请填写户型名称"))
    exists = session.execute(
        sa.select(FloorPlan.id).where(FloorPlan.estate_id == estate.id, FloorPlan.name == name)
    ).first()
    if exists:
        raise FieldError("name", _("该楼盘已有同名户型"))
    image_path = None
    if image is not None and getattr(image, "filename", ""):
        try:
            image_path = save_image(image, f"floor-plans/{estate.dealer_id}")
        except UploadError as error:
            raise FieldError("image", str(error)) from None
    plan = FloorPlan(
        estate=estate,
        dealer_id=estate.dealer_id,
        name=name,
        area_m2=data.area_m2,
        rooms=data.rooms,
        unit_count=data.unit_count,
        image_path=image_path,
    )
    session.add(plan)
    session.flush()
    return plan


def delete_floor_plan(session: Session, plan: FloorPlan) -> None:
    """Remove a floor plan; its image file goes once the database change is committed."""
    image_path = plan.image_path
    session.delete(plan)
    session.flush()
    if image_path:
        _delete_after_commit(session, image_path)


def _delete_after_commit(session: Session, relative_path: str) -> None:
    pending = session.info.setdefault("uploads_to_delete", [])
    pending.append(relative_path)


@sa.event.listens_for(Session, "after_commit")
def _purge_deleted_uploads(session: Session) -> None:
    for relative in session.info.pop("uploads_to_delete", []):
        delete_upload(relative)


@sa.event.listens_for(Session, "after_rollback")
def _forget_deleted_uploads(session: Session) -> None:
    session.info.pop("uploads_to_delete", None)
