"""A dealer-network-sized 盘图 database, seeded in bulk (SQLAlchemy Core), for benchmarks/load.py and faults.py.

At --scale 1.0: 300 dealers, 60,000 estates, 3,000 groups with a year of daily metrics each (≈ 1.1 M
rows), 200,000 people (those in an estate with a group are members of it), and one busy dealer
(BUSY, 哈尔滨) with 1,000 estates over eight districts, 150 groups, 10,000 people, a lead, eight
主IP operators and an assistant. 80 % of BUSY's live groups run the shipped playbook 新盘自建群
(through the app's own apply_playbook, started on staggered days; nine tasks in ten of the days
before today are done), and 10 % of the other dealers' groups have a few days of bulk-inserted
script tasks, so 今天 has work and the task tables are not empty around it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import sqlalchemy as sa

from crm.core.models import BUSINESS_TIMEZONE
from crm.core.roles import Role
from crm.core.scoping import unscoped
from crm.estates.models import City, Estate, EstateStage, normalize_estate_name
from crm.extensions import db
from crm.groups.models import AccountRole, Group, GroupAccount, GroupMetric, GroupStatus
from crm.org.models import Dealer, Store
from crm.org.service import create_user_unchecked, get_or_create_brand
from crm.people.models import Person, group_member
from crm.scripts import library
from crm.scripts import service as scripts
from crm.scripts.models import ScriptRun, ScriptRunDay, ScriptTask

PASSWORD = "load-password-2026"
CHUNK = 5_000
FULL = {
    "dealers": 300,
    "estates": 60_000,
    "groups": 3_000,
    "people": 200_000,
    "busy_estates": 1_000,
    "busy_groups": 150,
    "busy_people": 10_000,
}
METRIC_DAYS = 365
OPERATORS = 8
BUSY_CITY = ("哈尔滨", "黑龙江省", 45.8038, 126.5350)
BUSY_DISTRICTS = ("道里区", "南岗区", "道外区", "香坊区", "松北区", "平房区", "呼兰区", "阿城区")
OTHER_DISTRICTS = ("城东区", "城西区", "城南区", "城北区", "高新区", "经开区")
CITIES = (
    BUSY_CITY,
    ("齐齐哈尔", "黑龙江省", 47.3543, 123.9182),
    ("长春", "吉林省", 43.8171, 125.3235),
    ("沈阳", "辽宁省", 41.8057, 123.4315),
    ("大连", "辽宁省", 38.9140, 121.6147),
    ("北京", "北京市", 39.9042, 116.4074),
    ("天津", "天津市", 39.3434, 117.3616),
    ("济南", "山东省", 36.6512, 117.1201),
    ("青岛", "山东省", 36.0671, 120.3826),
    ("郑州", "河南省", 34.7466, 113.6254),
    ("西安", "陕西省", 34.3416, 108.9398),
    ("南京", "江苏省", 32.0603, 118.7969),
    ("上海", "上海市", 31.2304, 121.4737),
    ("杭州", "浙江省", 30.2741, 120.1551),
    ("武汉", "湖北省", 30.5928, 114.3055),
    ("成都", "四川省", 30.5728, 104.0668),
    ("重庆", "重庆市", 29.5630, 106.5516),
    ("长沙", "湖南省", 28.2282, 112.9388),
    ("广州", "广东省", 23.1291, 113.2644),
    ("深圳", "广东省", 22.5431, 114.0579),
)
HEADS = "万达 恒大 碧桂园 保利 中海 龙湖 融创 万科 绿地 金地 华润 富力 鲁商 远洋 招商 建业 亚泰 伟峰 辰能 国信".split()
TAILS = (
    "华府 公园里 翡翠城 悦府 天玺 春江郦城 御湖湾 未来城 壹号院 学府里 "
    "江山樾 云著 锦城 澜湾 观澜 名都 御府 半岛 西岸 时代广场"
).split()
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
GROUP_STAGES = {
    EstateStage.HAS_GROUP,
    EstateStage.OPERATING,
    EstateStage.CONVERTING,
    EstateStage.INSTALLING,
    EstateStage.MAINTAINING,
}


def sizes(scale: float) -> dict[str, int]:
    return {key: max(1, round(value * scale)) for key, value in FULL.items()}


@dataclass
class Seeded:
    counts: dict[str, int]
    city_id: int  # BUSY's city
    lead: str
    operators: list[str]
    busy_operator_id: int  # the first operator's user id


def _insert(table, rows) -> int:
    """Bulk insert (executemany) through SQLAlchemy Core, in chunks; `rows` may be a generator."""
    table = getattr(table, "__table__", table)
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            db.session.execute(sa.insert(table), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        db.session.execute(sa.insert(table), chunk)
        count += len(chunk)
    return count


def _utc(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=BUSINESS_TIMEZONE).astimezone(UTC)


def _estate_rows(rng, dealer_id, city, count, districts, stamps, today):
    _city_id, _name, c_lat, c_lng = city
    stages = [s for s, _ in STAGE_WEIGHTS]
    weights = [w for _, w in STAGE_WEIGHTS]
    for n in range(count):
        name = HEADS[n % 20] + TAILS[n // 20 % 20] + (f"{n // 400 + 1}期" if n >= 400 else "")
        stage = rng.choices(stages, weights)[0]
        yield {
            "dealer_id": dealer_id,
            "city_id": city[0],
            "name": name,
            "name_key": normalize_estate_name(name),
            "district": rng.choice(districts),
            "address": f"{rng.randint(1, 999)}号",
            "lat": c_lat + rng.uniform(-0.15, 0.15),
            "lng": c_lng + rng.uniform(-0.2, 0.2),
            "coord_system": "wgs84",
            "households": rng.randrange(200, 3200, 10),
            "delivery_date": date(rng.randint(2015, 2028), rng.randint(1, 12), 1),
            "age": rng.choice(("new", "old")),
            "finish": rng.choice(("rough", "finished")),
            "avg_price": rng.randrange(5000, 30000, 100),
            "developer": "",
            "source": "benchmark",
            "competitors": "",
            "notes": "",
            "stage": stage.value,
            "targeted_on": today - timedelta(days=rng.randint(0, 150)) if stage.is_worked else None,
            "version": 1,
            **stamps,
        }


def seed(scale: float, today: date, *, log=print) -> Seeded:
    """Seed the network at `scale` of the full size into the app's (migrated, empty) database."""
    size = sizes(scale)
    rng = random.Random(10)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    with unscoped():
        brand = get_or_create_brand(db.session, "基准品牌")
        _insert(
            City, ({"name": n, "province": p, "center_lat": la, "center_lng": ln, **stamps} for n, p, la, ln in CITIES)
        )
        city_rows = {
            name: (cid, name, lat, lng)
            for cid, name, lat, lng in db.session.execute(
                sa.select(City.id, City.name, City.center_lat, City.center_lng)
            )
        }
        busy_city = city_rows[BUSY_CITY[0]]
        others = [city_rows[c[0]] for c in CITIES]
        _insert(
            Dealer,
            (
                {
                    "brand_id": brand.id,
                    "code": "BUSY" if n == 0 else f"D{n:04d}",
                    "name": "哈尔滨森居全屋定制" if n == 0 else f"森居经销商{n:04d}",
                    "city_id": busy_city[0] if n == 0 else rng.choice(others)[0],
                    "territory": "",
                    "is_active": True,
                    **stamps,
                }
                for n in range(size["dealers"])
            ),
        )
        dealers = db.session.execute(sa.select(Dealer.id, Dealer.code, Dealer.city_id).order_by(Dealer.id)).all()
        busy = db.session.get(Dealer, dealers[0].id)
        by_id = {c[0]: c for c in city_rows.values()}
        _insert(
            Store,
            (
                {
                    "dealer_id": d.id,
                    "name": f"{d.code}门店",
                    "city_id": d.city_id,
                    "lat": by_id[d.city_id][2] + 0.01,
                    "lng": by_id[d.city_id][3] + 0.01,
                    "coord_system": "wgs84",
                    **stamps,
                }
                for d in dealers
            ),
        )
        lead = create_user_unchecked(db.session, "busy_lead", PASSWORD, Role.DEALER_LEAD, busy, "负责人")
        operators = [
            create_user_unchecked(db.session, f"busy_op{n:02d}", PASSWORD, Role.OPERATOR, busy, f"主IP{n:02d}")
            for n in range(1, OPERATORS + 1)
        ]
        assistant = create_user_unchecked(db.session, "busy_assistant", PASSWORD, Role.ASSISTANT, busy, "马甲")

        # Estates: BUSY's first, then the rest of the network spread evenly over the other dealers.
        total = _insert(
            Estate, _estate_rows(rng, busy.id, busy_city, size["busy_estates"], BUSY_DISTRICTS, stamps, today)
        )
        rest = max(size["estates"] - size["busy_estates"], len(dealers) - 1)
        other_dealers = dealers[1:]
        for index, d in enumerate(other_dealers):
            count = rest // len(other_dealers) + (1 if index < rest % len(other_dealers) else 0)
            total += _insert(Estate, _estate_rows(rng, d.id, by_id[d.city_id], count, OTHER_DISTRICTS, stamps, today))
        estates = db.session.execute(sa.select(Estate.id, Estate.dealer_id, Estate.stage)).all()
        log(f"  {total:,} estates")

        # Groups: BUSY's on its estates in a group stage, the rest of the network's likewise.
        def pick(candidates, k):
            k = min(k, len(candidates))
            preferred = [e for e in candidates if e.stage in GROUP_STAGES]
            chosen = rng.sample(preferred, min(k, len(preferred)))
            if len(chosen) < k:
                taken = {e.id for e in chosen}
                chosen += rng.sample([e for e in candidates if e.id not in taken], k - len(chosen))
            return chosen

        busy_estates = [e for e in estates if e.dealer_id == busy.id]
        group_estates = pick(busy_estates, size["busy_groups"]) + pick(
            [e for e in estates if e.dealer_id != busy.id], size["groups"] - size["busy_groups"]
        )
        statuses = (GroupStatus.OPERATING, GroupStatus.PREPARING, GroupStatus.SILENT, GroupStatus.DISSOLVED)
        _insert(
            Group,
            (
                {
                    "dealer_id": e.dealer_id,
                    "estate_id": e.id,
                    "name": f"业主群{e.id}",
                    "kind": "self_built",
                    "platform": "wechat",
                    "started_on": today - timedelta(days=METRIC_DAYS),
                    "status": rng.choices(statuses, (88, 4, 5, 3))[0].value,
                    "version": 1,
                    **stamps,
                }
                for e in group_estates
            ),
        )
        groups = db.session.execute(sa.select(Group.id, Group.dealer_id, Group.estate_id, Group.status)).all()
        busy_groups = [g for g in groups if g.dealer_id == busy.id]
        operator_of = {g.id: operators[n % OPERATORS] for n, g in enumerate(busy_groups)}
        _insert(
            GroupAccount,
            (
                {"dealer_id": busy.id, "group_id": g.id, "user_id": user.id, "role": role}
                for g in busy_groups
                for user, role in ((operator_of[g.id], "main_ip"), (assistant, "helper"))
            ),
        )
        log(f"  {len(groups):,} groups ({len(busy_groups)} BUSY's)")

        # A year of daily numbers for every group that is not still being set up.
        def metric_rows():
            for g in groups:
                if g.status == GroupStatus.PREPARING:
                    continue
                members = rng.randint(20, 60)
                for days_ago in range(METRIC_DAYS, 0, -1):
                    joins, leaves = rng.randint(0, 3), rng.randint(0, 1)
                    members = min(max(members + joins - leaves, 1), 480)
                    yield {
                        "dealer_id": g.dealer_id,
                        "group_id": g.id,
                        "day": today - timedelta(days=days_ago),
                        "members": members,
                        "owners": members * 4 // 5,
                        "joins": joins,
                        "leaves": leaves,
                        "messages": rng.randint(0, 300),
                        "active_members": members // 5,
                        "store_visits": rng.randint(0, 2),
                        "deposits": 1 if rng.random() < 0.02 else 0,
                        "orders": 0,
                        "gmv": 0,
                        "entered_at": now,
                    }

        log(f"  {_insert(GroupMetric, metric_rows()):,} daily metrics")

        # People: BUSY's mostly in its group estates (assigned to that group's operator), the rest spread.
        group_of_estate = {g.estate_id: g.id for g in groups}
        busy_group_estates = [e for e in busy_estates if e.id in group_of_estate]
        other_estates = [e for e in estates if e.dealer_id != busy.id]
        memberships: list[dict] = []

        def people_rows():
            for n in range(size["people"]):
                if n < size["busy_people"]:
                    pool = busy_group_estates if busy_group_estates and rng.random() < 0.7 else busy_estates
                else:
                    pool = other_estates or busy_estates
                estate = rng.choice(pool)
                group_id = group_of_estate.get(estate.id)
                operator = operator_of.get(group_id)
                yield {
                    "dealer_id": estate.dealer_id,
                    "name": f"业主{n:06d}",
                    "phone": f"13{rng.randrange(10**9):09d}",
                    "wechat_id": "",
                    "estate_id": estate.id,
                    "building": str(rng.randint(1, 30)),
                    "unit": str(rng.randint(1, 4)),
                    "room": str(rng.randint(101, 2804)),
                    "needs_style": "",
                    "needs_budget": "",
                    "source": "benchmark",
                    "operator_id": operator.id if operator else None,
                    "tags": [],
                    "notes": "",
                    "ladder_stage": rng.choice(("stranger", "bystander", "participant", "intent")),
                    "is_key_person": rng.random() < 0.01,
                    "version": 1,
                    **stamps,
                }

        log(f"  {_insert(Person, people_rows()):,} people")
        for person_id, estate_id in db.session.execute(sa.select(Person.id, Person.estate_id)):
            if estate_id in group_of_estate:
                memberships.append({"group_id": group_of_estate[estate_id], "person_id": person_id})
        log(f"  {_insert(group_member, memberships):,} group memberships")
        db.session.commit()

        # Stage scripts: BUSY's groups through the app's own service, on staggered start days.
        shipped = library.load("new_estate_self_built")
        playbook = scripts.create_playbook(db.session, lead, shipped["name"], "", shipped["content"])
        version = scripts.publish(db.session, lead, playbook)
        days = sum(len(phase["days"]) for phase in shipped["content"]["phases"])
        live = [g for g in busy_groups if g.status != GroupStatus.DISSOLVED]
        running = live[: len(live) * 4 // 5]
        for n, g in enumerate(running):
            group = db.session.get(Group, g.id)
            roles = {
                AccountRole.MAIN_IP: operator_of[g.id].id,
                AccountRole.HELPER: assistant.id,
                AccountRole.SERVICE: assistant.id,
                AccountRole.DESIGNER: lead.id,
            }
            starts_on = today - timedelta(days=n % days)
            scripts.apply_playbook(
                db.session, lead, group, version, starts_on, roles, {"团购价": "1680 元/樘"}, today=starts_on
            )
            if n % 20 == 19:
                db.session.commit()
        db.session.commit()
        # Staff did nine in ten of the tasks of the days before today, on the day.
        done = (
            sa.update(ScriptTask.__table__)
            .where(
                ScriptTask.__table__.c.day_id == ScriptRunDay.__table__.c.id,
                ScriptRunDay.__table__.c.on_date < today,
                ScriptTask.__table__.c.id % 10 != 0,
            )
            .values(
                status="done",
                finished_on=ScriptRunDay.__table__.c.on_date,
                finished_at=now,
                sent_text=ScriptTask.__table__.c.text,
                finished_by_id=ScriptTask.__table__.c.assignee_id,
            )
        )
        db.session.execute(done)

        # The rest of the network: 10 % of the live groups five days into a run, three tasks a day.
        other_live = [g for g in groups if g.dealer_id != busy.id and g.status != GroupStatus.DISSOLVED]
        sampled = rng.sample(other_live, len(other_live) // 10)
        _insert(
            ScriptRun,
            (
                {
                    "dealer_id": g.dealer_id,
                    "group_id": g.id,
                    "version_id": version.id,
                    "starts_on": today - timedelta(days=4),
                    "status": "running",
                    "values": {},
                    **stamps,
                }
                for g in sampled
            ),
        )
        runs = db.session.execute(
            sa.select(ScriptRun.id, ScriptRun.dealer_id).where(ScriptRun.dealer_id != busy.id)
        ).all()
        _insert(
            ScriptRunDay,
            (
                {
                    "dealer_id": d,
                    "run_id": r,
                    "number": n,
                    "phase_position": 0,
                    "phase_name": "铺垫期",
                    "day_in_phase": n,
                    "phase_days": 5,
                    "on_date": today - timedelta(days=5 - n),
                }
                for r, d in runs
                for n in range(1, 6)
            ),
        )
        run_days = db.session.execute(
            sa.select(ScriptRunDay.id, ScriptRunDay.run_id, ScriptRunDay.dealer_id, ScriptRunDay.on_date).where(
                ScriptRunDay.dealer_id != busy.id
            )
        ).all()
        _insert(
            ScriptTask,
            (
                {
                    "dealer_id": dealer_id,
                    "run_id": run_id,
                    "day_id": day_id,
                    "item_key": f"i{k}",
                    "due_time": clock(9 + 5 * k),
                    "slot": "",
                    "role": "main_ip",
                    "kind": "topic",
                    "text": "大家好，今天聊聊装修预算",
                    "intent": "",
                    "images": [],
                    "status": "done" if on_date < today else "pending",
                    "sent_text": "大家好，今天聊聊装修预算" if on_date < today else None,
                    "skip_reason": "",
                    "finished_at": _utc(on_date, 9 + 5 * k) if on_date < today else None,
                    "finished_on": on_date if on_date < today else None,
                }
                for day_id, run_id, dealer_id, on_date in run_days
                for k in range(3)
            ),
        )
        tasks = db.session.scalar(sa.select(sa.func.count()).select_from(ScriptTask.__table__))
        db.session.commit()
        log(f"  {len(running)} BUSY groups on 新盘自建群, {len(runs):,} other runs, {tasks:,} script tasks")
        counts = {
            "dealers": len(dealers),
            "estates": total,
            "groups": len(groups),
            "people": size["people"],
            "script tasks": tasks,
        }
        return Seeded(counts, busy_city[0], "busy_lead", [u.username for u in operators], operators[0].id)
