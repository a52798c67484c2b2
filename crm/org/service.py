"""Writes for dealers, stores and users. Functions flush; the caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.auth.service import hash_password, normalize_username
from crm.core.roles import DEALER_ROLES, HQ_ROLES, Role
from crm.core.scoping import unscoped
from crm.core.validation import FieldError
from crm.estates.models import City
from crm.maps.coords import CoordSystem
from crm.org.models import Brand, Dealer, Store, User

DEALER_CODE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")
USERNAME = re.compile(r"^[a-z0-9_.-]{3,64}$")
MIN_PASSWORD_LENGTH = 8


def get_or_create_brand(session: Session, name: str) -> Brand:
    """The brand row (there is one per installation)."""
    brand = session.scalars(sa.select(Brand).order_by(Brand.id)).first()
    if brand is None:
        brand = Brand(name=name)
        session.add(brand)
        session.flush()
    return brand


def get_or_create_city(session: Session, name: str, province: str, lat=None, lng=None) -> City:
    """A city by province and name, created on first use."""
    city = session.execute(sa.select(City).where(City.name == name, City.province == province)).scalar_one_or_none()
    if city is None:
        city = City(name=name, province=province, center_lat=lat, center_lng=lng)
        session.add(city)
        session.flush()
    return city


@dataclass
class DealerFields:
    code: str
    name: str
    city_id: int
    territory: str = ""
    is_active: bool = True


def _apply_dealer(session: Session, dealer: Dealer, data: DealerFields) -> None:
    code = data.code.strip().upper()
    if not DEALER_CODE.match(code):
        raise FieldError("code", _("编码只能包含字母、数字、下划线或短横线，2 到 32 位"))
    with unscoped():  # codes are unique across the whole network
        taken = session.execute(
            sa.select(Dealer.id).where(sa.func.upper(Dealer.code) == code, Dealer.id != (dealer.id or 0))
        ).first()
    if taken:
        raise FieldError("code", _("该经销商编码已被使用"))
    if not data.name.strip():
        raise FieldError("name", _("请填写经销商名称"))
    if session.get(City, data.city_id) is None:
        raise FieldError("city_id", _("请选择城市"))
    dealer.code = code
    dealer.name = data.name.strip()
    dealer.city_id = data.city_id
    dealer.territory = data.territory.strip()
    dealer.is_active = data.is_active


def create_dealer(session: Session, brand: Brand, data: DealerFields) -> Dealer:
    """Register a dealer under the brand."""
    dealer = Dealer(brand_id=brand.id)
    _apply_dealer(session, dealer, data)
    session.add(dealer)
    session.flush()
    return dealer


def update_dealer(session: Session, dealer: Dealer, data: DealerFields) -> Dealer:
    """Change a dealer's details."""
    _apply_dealer(session, dealer, data)
    session.flush()
    return dealer


@dataclass
class StoreFields:
    name: str
    city_id: int
    address: str = ""
    phone: str = ""
    coord_system: CoordSystem = CoordSystem.WGS84
    lng: float | None = None
    lat: float | None = None


def _apply_store(session: Session, store: Store, data: StoreFields) -> None:
    name = data.name.strip()
    if not name:
        raise FieldError("name", _("请填写门店名称"))
    taken = session.execute(
        sa.select(Store.id).where(Store.dealer_id == store.dealer_id, Store.name == name, Store.id != (store.id or 0))
    ).first()
    if taken:
        raise FieldError("name", _("该经销商已有同名门店"))
    if session.get(City, data.city_id) is None:
        raise FieldError("city_id", _("请选择城市"))
    store.set_position(data.lng, data.lat, data.coord_system)
    store.name = name
    store.city_id = data.city_id
    store.address = data.address.strip()
    store.phone = data.phone.strip()


def create_store(session: Session, dealer: Dealer, data: StoreFields) -> Store:
    """Open a store for a dealer."""
    store = Store(dealer_id=dealer.id)
    _apply_store(session, store, data)
    session.add(store)
    session.flush()
    return store


def update_store(session: Session, store: Store, data: StoreFields) -> Store:
    """Change a store's details."""
    _apply_store(session, store, data)
    session.flush()
    return store


def assignable_roles(actor: User) -> list[Role]:
    """Roles `actor` may give: HQ admins any role, dealer leads their dealer's roles."""
    if actor.role == Role.HQ_ADMIN:
        return list(Role)
    if actor.role == Role.DEALER_LEAD:
        return list(DEALER_ROLES)
    return []


@dataclass
class UserFields:
    username: str
    role: Role
    dealer_id: int | None
    display_name: str = ""
    phone: str = ""
    password: str = ""
    is_active: bool = True


def _apply_user(session: Session, actor: User, user: User, data: UserFields) -> None:
    role = Role(data.role)
    if role not in assignable_roles(actor):
        raise FieldError("role", _("您不能分配该角色"))
    if actor.role != Role.HQ_ADMIN:
        data.dealer_id = actor.dealer_id  # dealer leads only ever manage their own staff
    if role in HQ_ROLES:
        dealer_id = None
    else:
        if data.dealer_id is None or session.get(Dealer, data.dealer_id) is None:
            raise FieldError("dealer_id", _("经销商员工必须属于一个经销商"))
        dealer_id = data.dealer_id
    if user.id is not None and user.id == actor.id and (role != actor.role or not data.is_active):
        raise FieldError("role", _("不能修改自己的角色或停用自己的账号"))

    username = normalize_username(data.username)
    if not USERNAME.match(username):
        raise FieldError("username", _("用户名为 3 到 64 位小写字母、数字或 _ . -"))
    with unscoped():  # usernames are unique across the whole network
        taken = session.execute(sa.select(User.id).where(User.username == username, User.id != (user.id or 0))).first()
    if taken:
        raise FieldError("username", _("该用户名已被使用"))

    if user.id is None and not data.password:
        raise FieldError("password", _("请设置初始密码"))
    if data.password:
        if len(data.password) < MIN_PASSWORD_LENGTH:
            raise FieldError("password", _("密码至少 %(n)d 位", n=MIN_PASSWORD_LENGTH))
        user.password_hash = hash_password(data.password)

    user.username = username
    user.role = role
    user.dealer_id = dealer_id
    user.display_name = data.display_name.strip()
    user.phone = data.phone.strip()
    user.is_active_account = data.is_active


def create_user(session: Session, actor: User, data: UserFields) -> User:
    """Create a login; `actor` decides which roles and dealer are allowed."""
    user = User()
    _apply_user(session, actor, user, data)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, actor: User, user: User, data: UserFields) -> User:
    """Change a login's role, name, status or password."""
    _apply_user(session, actor, user, data)
    session.flush()
    return user


def create_user_unchecked(
    session: Session, username: str, password: str, role: Role, dealer: Dealer | None, display_name: str = ""
) -> User:
    """Create a login from the command line, where no acting user exists (still validated)."""
    role = Role(role)
    if role in HQ_ROLES and dealer is not None:
        raise FieldError("dealer_id", _("总部账号不属于任何经销商"))
    system_actor = User(role=Role.HQ_ADMIN, dealer_id=None)
    return create_user(
        session,
        system_actor,
        UserFields(
            username=username,
            role=role,
            dealer_id=dealer.id if dealer else None,
            display_name=display_name,
            password=password,
        ),
    )
