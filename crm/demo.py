"""A realistic demo network: one brand, three dealers in the north-east, their stores, staff and estates.

Idempotent: every row is looked up by its natural key first, so running it twice adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.core.models import local_today
from crm.core.roles import Role
from crm.core.scoping import unscoped
from crm.coverage.demo import seed_coverage
from crm.estates.models import Estate, EstateAge, EstateFinish, EstateStage, FloorPlan, normalize_estate_name
from crm.estates.service import EstateFields, FloorPlanFields, add_floor_plan, create_estate
from crm.installs.demo import seed_orders
from crm.maps.coords import CoordSystem, from_wgs84
from crm.maps.models import DEFAULT_SCORE_WEIGHTS, TrafficMapSettings
from crm.org.models import Dealer, Store, User
from crm.org.service import (
    DealerFields,
    StoreFields,
    create_dealer,
    create_store,
    create_user_unchecked,
    get_or_create_brand,
    get_or_create_city,
)
from crm.proposals.demo import seed_proposals
from crm.scripts.demo import seed_scripts

DEMO_PASSWORD = "pantu2026"
BRAND_NAME = "森居木门·全屋定制"


@dataclass(frozen=True)
class DemoCity:
    code: str
    dealer_name: str
    city: str
    province: str
    center: tuple[float, float]  # (lat, lng) WGS-84
    districts: tuple[str, ...]
    stores: tuple[tuple[str, str, float, float], ...]  # name, address, lat, lng
    price: tuple[int, int]
    territory: str
    yearly_target_orders: int


DEMO_CITIES = (
    DemoCity(
        "QQHR",
        "齐齐哈尔森居家居",
        "齐齐哈尔",
        "黑龙江省",
        (47.3543, 123.9182),
        ("龙沙区", "建华区", "铁锋区", "昂昂溪区"),
        (
            ("龙沙旗舰店", "龙沙区卜奎大街 168 号", 47.3448, 123.9555),
            ("建华体验店", "建华区新华路 52 号", 47.3619, 123.9656),
        ),
        (5200, 9800),
        "齐齐哈尔市区（龙沙、建华、铁锋、昂昂溪）及富拉尔基区",
        600,
    ),
    DemoCity(
        "CC",
        "长春森居木门",
        "长春",
        "吉林省",
        (43.8171, 125.3235),
        ("朝阳区", "南关区", "宽城区", "二道区", "绿园区"),
        (
            ("朝阳旗舰店", "朝阳区人民大街 3688 号", 43.8569, 125.3120),
            ("南关门店", "南关区亚泰大街 1250 号", 43.8612, 125.3456),
        ),
        (7800, 15800),
        "长春市朝阳、南关、宽城、二道、绿园五区",
        900,
    ),
    DemoCity(
        "HRB",
        "哈尔滨森居全屋定制",
        "哈尔滨",
        "黑龙江省",
        (45.8038, 126.5350),
        ("南岗区", "道里区", "道外区", "香坊区", "松北区"),
        (
            ("南岗旗舰店", "南岗区红军街 88 号", 45.7612, 126.6320),
            ("松北门店", "松北区世茂大道 199 号", 45.8105, 126.5580),
        ),
        (8500, 17500),
        "哈尔滨市主城区及松北新区",
        1200,
    ),
)

DEMO_USERS = (
    ("hq_admin", "王建国", Role.HQ_ADMIN, None),
    ("hq_viewer", "李静", Role.HQ_VIEWER, None),
    ("qqhr_lead", "张伟", Role.DEALER_LEAD, "QQHR"),
    ("qqhr_operator", "小雅", Role.OPERATOR, "QQHR"),
    ("qqhr_assistant", "小美", Role.ASSISTANT, "QQHR"),
    ("qqhr_designer", "刘洋", Role.DESIGNER, "QQHR"),
    ("qqhr_consultant", "陈静", Role.CONSULTANT, "QQHR"),
    ("qqhr_installer", "赵师傅", Role.INSTALLER, "QQHR"),
    ("cc_lead", "孙丽", Role.DEALER_LEAD, "CC"),
    ("hrb_lead", "周强", Role.DEALER_LEAD, "HRB"),
)

NAME_HEADS = (
    "万达",
    "恒大",
    "碧桂园",
    "保利",
    "中海",
    "龙湖",
    "融创",
    "万科",
    "绿地",
    "金地",
    "华润",
    "富力",
    "鲁商",
    "远洋",
    "招商",
    "建业",
    "亚泰",
    "伟峰",
    "辰能",
    "国信",
)
NAME_TAILS = (
    "华府",
    "公园里",
    "翡翠城",
    "悦府",
    "天玺",
    "春江郦城",
    "御湖湾",
    "未来城",
    "壹号院",
    "学府里",
    "江山樾",
    "云著",
    "锦城",
    "澜湾",
    "观澜",
    "名都",
    "御府",
    "时代广场",
    "半岛",
    "西岸",
)
STAGE_WEIGHTS = (
    (EstateStage.UNPLANNED, 6),
    (EstateStage.TARGET, 4),
    (EstateStage.FINDING_GROUP, 3),
    (EstateStage.HAS_GROUP, 3),
    (EstateStage.OPERATING, 3),
    (EstateStage.CONVERTING, 2),
    (EstateStage.INSTALLING, 1),
    (EstateStage.MAINTAINING, 1),
    (EstateStage.ABANDONED, 1),
)
PLAN_SHAPES = (
    ("A户型 两室两厅一卫", 2, (78, 92)),
    ("B户型 三室两厅一卫", 3, (95, 112)),
    ("C户型 三室两厅两卫", 3, (115, 128)),
    ("D户型 四室两厅两卫", 4, (135, 160)),
)
ESTATES_PER_DEALER = 22
# Estates surveyed from hearsay, address only: they wait for batch geocoding or manual placement.
UNPOSITIONED_PER_DEALER = 3
COMPETITOR_SETS = ("", "", "", "欧派", "索菲亚", "欧派、索菲亚", "尚品宅配", "TATA木门", "梦天木门、欧派")


def seed_demo(session: Session) -> dict[str, int]:
    """Create (or complete) the demo network; return how many rows of each kind were added."""
    added = {
        "dealers": 0,
        "stores": 0,
        "users": 0,
        "estates": 0,
        "floor_plans": 0,
        "plans": 0,
        "groups": 0,
        "people": 0,
    }
    with unscoped():
        brand = get_or_create_brand(session, BRAND_NAME)
        dealers: dict[str, Dealer] = {}
        for spec in DEMO_CITIES:
            lat, lng = spec.center
            city = get_or_create_city(session, spec.city, spec.province, lat, lng)
            dealer = session.scalars(sa.select(Dealer).where(Dealer.code == spec.code)).first()
            if dealer is None:
                dealer = create_dealer(
                    session,
                    brand,
                    DealerFields(code=spec.code, name=spec.dealer_name, city_id=city.id, territory=spec.territory),
                )
                added["dealers"] += 1
            dealers[spec.code] = dealer
            for store_index, (name, address, s_lat, s_lng) in enumerate(spec.stores):
                exists = session.scalars(
                    sa.select(Store).where(Store.dealer_id == dealer.id, Store.name == name)
                ).first()
                if exists is None:
                    create_store(
                        session,
                        dealer,
                        StoreFields(
                            name=name,
                            city_id=city.id,
                            address=address,
                            lat=s_lat,
                            lng=s_lng,
                            phone=f"400-800-{store_index + 1:02d}{len(dealers):02d}",
                        ),
                    )
                    added["stores"] += 1
            added["estates"], added["floor_plans"] = _seed_estates(session, dealer, city, spec, added)
            added["estates"] += _seed_unpositioned_estates(session, dealer, city, spec)
            _seed_map_settings(session, dealer, spec)
            if spec.code == "QQHR":
                _seed_demo_import(session, dealer, city, spec)

        for username, display_name, role, code in DEMO_USERS:
            if session.scalars(sa.select(User).where(User.username == username)).first() is None:
                create_user_unchecked(
                    session, username, DEMO_PASSWORD, role, dealers[code] if code else None, display_name
                )
                added["users"] += 1
        for spec in DEMO_CITIES:
            added["plans"] += _seed_plan(session, dealers[spec.code], spec)
            groups, people = _seed_groups(session, dealers[spec.code], spec)
            added["groups"] += groups
            added["people"] += people
        added.update(seed_scripts(session, list(dealers.values())))
        added.update(seed_proposals(session, list(dealers.values())))
        added.update(seed_orders(session, list(dealers.values())))
        # Coverage adds to kinds counted above (orders, estates): its counts are summed in, not replaced.
        for kind, count in seed_coverage(session, list(dealers.values())).items():
            added[kind] = added.get(kind, 0) + count

    return added


def _seed_estates(session: Session, dealer: Dealer, city, spec: DemoCity, added: dict) -> tuple[int, int]:
    rng = random.Random(f"pantu-demo-{spec.code}")
    # A separate stream, so adding competitors did not reshuffle the estates of existing demo databases.
    competitor_rng = random.Random(f"pantu-demo-competitors-{spec.code}")
    stages = [s for s, _ in STAGE_WEIGHTS]
    weights = [w for _, w in STAGE_WEIGHTS]
    names = [h + t for h in NAME_HEADS for t in NAME_TAILS]
    rng.shuffle(names)
    store_points = [(s[2], s[3]) for s in spec.stores]
    estates_added, plans_added = added["estates"], added["floor_plans"]
    for index, name in enumerate(names[:ESTATES_PER_DEALER]):
        # Draw every random value up front so a second run walks the same sequence.
        base_lat, base_lng = store_points[index % len(store_points)]
        lat = base_lat + rng.uniform(-0.045, 0.045)
        lng = base_lng + rng.uniform(-0.06, 0.06)
        delivery = date(rng.randint(2016, 2027), rng.randint(1, 12), 1)
        households = rng.randrange(320, 3200, 10)
        district = rng.choice(spec.districts)
        stage = rng.choices(stages, weights)[0]
        finish = rng.choice((EstateFinish.ROUGH, EstateFinish.ROUGH, EstateFinish.FINISHED))
        price = rng.randrange(spec.price[0], spec.price[1], 100)
        source = rng.choice(("房天下", "贝壳找房", "实地踩盘", "老客户介绍"))
        entered_in_bd09 = source in ("房天下", "贝壳找房")
        plan_count = rng.randint(2, 4)
        plan_areas = [rng.uniform(*PLAN_SHAPES[i][2]) for i in range(plan_count)]
        plan_units = [rng.randrange(40, 400, 2) for _ in range(plan_count)]
        street_number = rng.randint(1, 999)
        competitors = competitor_rng.choice(COMPETITOR_SETS)

        estate = session.scalars(
            sa.select(Estate).where(
                Estate.dealer_id == dealer.id, Estate.city_id == city.id, Estate.name_key == normalize_estate_name(name)
            )
        ).first()
        if estate is None:
            system = CoordSystem.BD09 if entered_in_bd09 else CoordSystem.WGS84
            in_lng, in_lat = from_wgs84(lng, lat, system)
            estate = create_estate(
                session,
                dealer.id,
                EstateFields(
                    name=name,
                    city_id=city.id,
                    district=district,
                    address=f"{district}{name[-2:]}路{street_number}号",
                    coord_system=system,
                    lng=round(in_lng, 6),
                    lat=round(in_lat, 6),
                    households=households,
                    delivery_date=delivery,
                    age=EstateAge.NEW if delivery.year >= 2024 else EstateAge.OLD,
                    finish=finish,
                    avg_price=price,
                    developer=name[:2] + "地产",
                    source=source,
                    competitors=competitors,
                    stage=stage,
                ),
            )
            estates_added += 1
        existing_plans = set(session.scalars(sa.select(FloorPlan.name).where(FloorPlan.estate_id == estate.id)))
        for i in range(plan_count):
            plan_name, rooms, _ = PLAN_SHAPES[i]
            if plan_name not in existing_plans:
                add_floor_plan(
                    session,
                    estate,
                    FloorPlanFields(
                        name=plan_name,
                        area_m2=Decimal(f"{plan_areas[i]:.2f}"),
                        rooms=rooms,
                        unit_count=plan_units[i],
                    ),
                )
                plans_added += 1
    return estates_added, plans_added


def _shuffled_names(spec: DemoCity) -> list[str]:
    """The dealer's estate names in the order _seed_estates draws them."""
    rng = random.Random(f"pantu-demo-{spec.code}")
    names = [h + t for h in NAME_HEADS for t in NAME_TAILS]
    rng.shuffle(names)
    return names


def _unpositioned_names(spec: DemoCity) -> list[str]:
    return _shuffled_names(spec)[ESTATES_PER_DEALER : ESTATES_PER_DEALER + UNPOSITIONED_PER_DEALER]


DEMO_IMPORT_FILENAME = "齐齐哈尔楼盘表（房天下导出）.csv"


def _demo_import_csv(spec: DemoCity) -> bytes:
    """A listing-site export as Chinese Excel saves it (GBK, BD-09): new estates, an update, bad rows."""
    existing = _shuffled_names(spec)[0]
    store_lat, store_lng = spec.stores[0][2], spec.stores[0][3]

    def bd09(lng: float, lat: float) -> str:
        b_lng, b_lat = from_wgs84(lng, lat, CoordSystem.BD09)
        return f"{b_lng:.6f},{b_lat:.6f}"

    rows = [
        ("小区名称", "区域", "地址", "总户数", "交房时间", "均价(元/㎡)", "开发商", "经纬度", "竞品"),
        (
            "万科金域华府",
            "龙沙区",
            "龙沙区卜奎北大街 299 号",
            "1,860户",
            "2027年3月",
            "8200元/㎡",
            "万科",
            bd09(store_lng + 0.012, store_lat + 0.008),
            "暂无资料",
        ),
        (
            "保利和光尘樾",
            "建华区",
            "建华区新明大街 66 号",
            "暂无资料",
            "2026年第四季度",
            "约7600",
            "保利",
            bd09(store_lng + 0.025, store_lat - 0.006),
            "欧派",
        ),
        (
            "中海寰宇天下",
            "铁锋区",
            "铁锋区站前大街 18 号",
            "2400",
            "2025-10",
            "1.05万",
            "中海",
            bd09(store_lng - 0.018, store_lat - 0.012),
            "不详",
        ),
        (existing, "", "", "3000", "", "", "", "", "索菲亚"),
        ("北京朝阳某小区", "朝阳区", "北京市朝阳区", "900", "2024年", "", "", bd09(116.48, 39.95), ""),
        ("", "龙沙区", "无名地块", "300", "", "", "", "", ""),
    ]
    text = "\r\n".join(",".join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows) + "\r\n"
    return text.encode("gb18030")


def _seed_demo_import(session: Session, dealer: Dealer, city, spec: DemoCity) -> None:
    from crm.imports.models import EstateImport
    from crm.imports.service import create_import

    exists = session.scalars(
        sa.select(EstateImport.id).where(
            EstateImport.dealer_id == dealer.id, EstateImport.original_filename == DEMO_IMPORT_FILENAME
        )
    ).first()
    if exists is None:
        create_import(
            session,
            dealer_id=dealer.id,
            city_id=city.id,
            coord_system=CoordSystem.BD09,
            filename=DEMO_IMPORT_FILENAME,
            data=_demo_import_csv(spec),
        )


def _seed_unpositioned_estates(session: Session, dealer: Dealer, city, spec: DemoCity) -> int:
    added = 0
    for index, name in enumerate(_unpositioned_names(spec)):
        exists = session.scalars(
            sa.select(Estate.id).where(
                Estate.dealer_id == dealer.id, Estate.city_id == city.id, Estate.name_key == normalize_estate_name(name)
            )
        ).first()
        if exists is None:
            district = spec.districts[index % len(spec.districts)]
            create_estate(
                session,
                dealer.id,
                EstateFields(
                    name=name,
                    city_id=city.id,
                    district=district,
                    address=f"{spec.city}市{district}{name}",
                    source="老客户介绍",
                    notes="地址来自老客户，待定位",
                ),
            )
            added += 1
    return added


def _seed_map_settings(session: Session, dealer: Dealer, spec: DemoCity) -> None:
    exists = session.scalars(sa.select(TrafficMapSettings.id).where(TrafficMapSettings.dealer_id == dealer.id)).first()
    if exists is None:
        session.add(
            TrafficMapSettings(
                dealer_id=dealer.id,
                store_ring_m=3000,
                score_weights=dict(DEFAULT_SCORE_WEIGHTS),
                join_rate=0.3,
                conversion_rate=0.08,
                yearly_target_orders=spec.yearly_target_orders,
                avg_order_value=28000,
            )
        )
        session.flush()


PLAN_ESTATES = 5
PLAN_START = date(2027, 1, 4)


def _seed_plan(session: Session, dealer: Dealer, spec: DemoCity) -> int:
    """A first-quarter battle plan over the dealer's most advanced estates, staffed from its users."""
    from crm.plans.models import BattlePlan
    from crm.plans.service import PlanFields, TeamFields, add_estate, assign_team, create_plan

    title = f"2027 一季度{spec.city}社群作战规划"
    if session.scalars(
        sa.select(BattlePlan.id).where(BattlePlan.dealer_id == dealer.id, BattlePlan.title == title)
    ).first():
        return 0
    plan = create_plan(
        session,
        dealer.id,
        PlanFields(
            title=title,
            city_id=dealer.city_id,
            period="2027 Q1",
            starts_on=PLAN_START,
            ends_on=date(2027, 3, 31),
            notes="先做离门店近、即将交房的新盘；每周一复盘。",
        ),
    )
    working = [EstateStage.OPERATING, EstateStage.HAS_GROUP, EstateStage.FINDING_GROUP, EstateStage.TARGET]
    estates = session.scalars(
        sa.select(Estate)
        .where(Estate.dealer_id == dealer.id, Estate.stage.in_(working), Estate.lat.is_not(None))
        .order_by(Estate.name_key)
    ).all()
    estates = sorted(estates, key=lambda e: (working.index(e.stage), -(e.households or 0)))[:PLAN_ESTATES]
    staff = {user.role: user for user in session.scalars(sa.select(User).where(User.dealer_id == dealer.id))}
    lead = staff.get(Role.DEALER_LEAD)
    for index, estate in enumerate(estates):
        item = add_estate(session, plan, estate, starts_on=PLAN_START + timedelta(days=7 * index))
        team = TeamFields(
            lead_id=lead.id if lead else None,
            operator_id=(staff.get(Role.OPERATOR) or lead).id if lead else None,
            designer_id=staff[Role.DESIGNER].id if Role.DESIGNER in staff else None,
            consultant_id=staff[Role.CONSULTANT].id if Role.CONSULTANT in staff else None,
            assistant_ids=(staff[Role.ASSISTANT].id,) if Role.ASSISTANT in staff else (),
        )
        assign_team(session, item, team)
    return 1


SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
NICKNAMES = ("小雨", "阳光", "静静", "大海", "晴天", "豆豆妈", "老周", "木子", "一帆", "安然", "可乐", "暖暖")
STYLES = ("现代简约", "新中式", "北欧", "轻奢", "原木", "法式")
METRIC_DAYS = 30


def _seed_groups(session: Session, dealer: Dealer, spec: DemoCity) -> tuple[int, int]:
    """Groups in the plan's estates with a month of metrics, owners along the ladder, a key person each."""
    from crm.groups.models import AccountRole, Group, GroupAccount, GroupKind, GroupMetric, GroupOrigin, GroupStatus
    from crm.people.models import (
        Interaction,
        InteractionKind,
        KeyMove,
        KeyPersonMove,
        LadderStage,
        Person,
        PersonStageChange,
    )
    from crm.plans.models import BattlePlan

    plan = session.scalars(sa.select(BattlePlan).where(BattlePlan.dealer_id == dealer.id)).first()
    if plan is None:
        return 0, 0
    staff = {user.role: user for user in session.scalars(sa.select(User).where(User.dealer_id == dealer.id))}
    operator = staff.get(Role.OPERATOR) or staff.get(Role.DEALER_LEAD)
    rng = random.Random(f"pantu-demo-groups-{spec.code}")
    # Dated back from the day of seeding, so a fresh demo always shows groups that reported this month.
    today = local_today()
    groups_added = people_added = 0
    phone_base = {"QQHR": 13904520000, "CC": 13904310000, "HRB": 13904510000}[spec.code]
    for index, item in enumerate(plan.estates):
        estate = item.estate
        name = f"{estate.name}业主交流群"
        if session.scalars(sa.select(Group.id).where(Group.dealer_id == dealer.id, Group.name == name)).first():
            continue
        status = GroupStatus.OPERATING if index < 4 else GroupStatus.PREPARING
        group = Group(
            dealer_id=dealer.id,
            estate_id=estate.id,
            name=name,
            kind=GroupKind.SELF_BUILT if index % 2 else GroupKind.OWNERS,
            origin=GroupOrigin.BY_PHONE if index % 2 else GroupOrigin.KEY_PERSON,
            started_on=today - timedelta(days=METRIC_DAYS + 22),
            status=status,
        )
        session.add(group)
        session.flush()
        if operator:
            session.add(
                GroupAccount(dealer_id=dealer.id, group_id=group.id, user_id=operator.id, role=AccountRole.MAIN_IP)
            )
        if Role.ASSISTANT in staff:
            session.add(
                GroupAccount(
                    dealer_id=dealer.id, group_id=group.id, user_id=staff[Role.ASSISTANT].id, role=AccountRole.HELPER
                )
            )
        members = rng.randint(40, 80)
        for day_offset in range(METRIC_DAYS, 0, -1) if status == GroupStatus.OPERATING else ():
            joins, leaves = rng.randint(0, 9), rng.randint(0, 2)
            members = min(members + joins - leaves, 480)
            owners = min(members, round(members * 0.85))
            session.add(
                GroupMetric(
                    dealer_id=dealer.id,
                    group_id=group.id,
                    day=today - timedelta(days=day_offset),
                    members=members,
                    owners=owners,
                    joins=joins,
                    leaves=leaves,
                    messages=rng.randint(20, 260),
                    active_members=round(members * rng.uniform(0.12, 0.35)),
                    store_visits=rng.randint(0, 3),
                    deposits=rng.randint(0, 1),
                    orders=1 if rng.random() < 0.1 else 0,
                    gmv=28000 if rng.random() < 0.1 else 0,
                )
            )
        groups_added += 1
        owners_met = []
        for n in range(8):
            phone = str(phone_base + index * 100 + n)
            # The group owner is the key person already spreading the word; the others spread along the ladder.
            stage = LadderStage.SPREADER if n == 0 else list(LadderStage)[min(n, 6)]
            person = Person(
                dealer_id=dealer.id,
                name=rng.choice(NICKNAMES) if n % 3 else f"{SURNAMES[(index * 8 + n) % 20]}女士",
                phone=phone,
                wechat_id=f"wx_{spec.code.lower()}_{index}{n}",
                estate_id=estate.id,
                building=str(rng.randint(1, 20)),
                unit=str(rng.randint(1, 4)),
                room=f"{rng.randint(2, 28)}0{rng.randint(1, 4)}",
                needs_style=rng.choice(STYLES) if n < 5 else "",
                needs_budget=f"{rng.randint(5, 20)} 万" if n < 4 else "",
                source="群内互动",
                operator_id=operator.id if operator and n % 2 == 0 else None,
                tags=["群主", "KOC"] if n == 0 else (["宝妈"] if n == 3 else []),
                ladder_stage=stage,
                is_key_person=n == 0,
                referred_by=owners_met[0] if n in (5, 6) and owners_met else None,
            )
            person.groups.append(group)
            session.add(person)
            session.flush()
            if stage != LadderStage.STRANGER:
                session.add(
                    PersonStageChange(
                        dealer_id=dealer.id,
                        person_id=person.id,
                        from_stage=LadderStage.STRANGER,
                        to_stage=stage,
                        changed_by_id=operator.id if operator else None,
                        reason="群内互动后跟进",
                    )
                )
            session.add(
                Interaction(
                    dealer_id=dealer.id,
                    person_id=person.id,
                    kind=InteractionKind.WECHAT,
                    by_id=operator.id if operator else None,
                    note="群里问了户型和工期",
                )
            )
            if n == 0:
                group.owner_person_id = person.id
                for move in list(KeyMove)[:4]:
                    session.add(
                        KeyPersonMove(
                            dealer_id=dealer.id,
                            person_id=person.id,
                            move=move,
                            done_on=today - timedelta(days=METRIC_DAYS + 13),
                            done_by_id=operator.id if operator else None,
                        )
                    )
            owners_met.append(person)
            people_added += 1
        session.flush()
    return groups_added, people_added
