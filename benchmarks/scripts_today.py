"""Stage scripts at scale: one dealer running hundreds of groups on the shipped playbook.

Seeds --groups groups (each on 新盘自建群, 18 days, 111 scripts, started at staggered dates), split
among --operators 主IP accounts, and prints the server time of the pages staff open all day:
今天 for one 主IP, the progress board (every group's current day and on-time count), a group's
run page, and applying the playbook to one more group.

    .venv/bin/python benchmarks/scripts_today.py [--groups 300] [--operators 15] [--runs 5] [--database-url URL]

Without --database-url it uses a throwaway SQLite file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from crm import create_app  # noqa: E402
from crm.core.models import local_today  # noqa: E402
from crm.core.roles import Role  # noqa: E402
from crm.core.scoping import unscoped  # noqa: E402
from crm.estates.models import EstateStage  # noqa: E402
from crm.estates.service import EstateFields, create_estate  # noqa: E402
from crm.extensions import db  # noqa: E402
from crm.groups import service as groups  # noqa: E402
from crm.groups.models import AccountRole, GroupStatus  # noqa: E402
from crm.org.service import (  # noqa: E402
    DealerFields,
    StoreFields,
    create_dealer,
    create_store,
    create_user_unchecked,
    get_or_create_brand,
    get_or_create_city,
)
from crm.scripts import library, service  # noqa: E402
from crm.scripts.models import ScriptTask  # noqa: E402

PASSWORD = "benchmark-password"


def seed(app, group_count: int, operator_count: int) -> int:
    today = local_today()
    with app.app_context(), unscoped():
        brand = get_or_create_brand(db.session, "基准品牌")
        city = get_or_create_city(db.session, "齐齐哈尔", "黑龙江省", 47.3543, 123.9182)
        dealer = create_dealer(db.session, brand, DealerFields(code="BENCH", name="基准经销商", city_id=city.id))
        create_store(db.session, dealer, StoreFields(name="基准门店", city_id=city.id, lat=47.3448, lng=123.9555))
        lead = create_user_unchecked(db.session, "bench_lead", PASSWORD, Role.DEALER_LEAD, dealer)
        helper = create_user_unchecked(db.session, "bench_helper", PASSWORD, Role.ASSISTANT, dealer)
        operators = [
            create_user_unchecked(db.session, f"bench_ip{n:02d}", PASSWORD, Role.OPERATOR, dealer)
            for n in range(operator_count)
        ]
        shipped = library.load("new_estate_self_built")
        playbook = service.create_playbook(db.session, lead, shipped["name"], "", shipped["content"])
        version = service.publish(db.session, lead, playbook)
        days = len([d for p in shipped["content"]["phases"] for d in p["days"]])
        for n in range(group_count):
            estate = create_estate(
                db.session,
                dealer.id,
                EstateFields(name=f"基准小区{n:04d}", city_id=city.id, households=1500, stage=EstateStage.OPERATING),
            )
            group = groups.create_group(
                db.session, estate, groups.GroupFields(name=f"基准小区{n:04d}业主群", status=GroupStatus.OPERATING)
            )
            roles = {
                AccountRole.MAIN_IP: operators[n % operator_count].id,
                AccountRole.HELPER: helper.id,
                AccountRole.SERVICE: helper.id,
                AccountRole.DESIGNER: lead.id,
            }
            starts_on = today - timedelta(days=n % days)
            service.apply_playbook(
                db.session, lead, group, version, starts_on, roles, {"团购价": "1680 元/樘"}, today=starts_on
            )
            if n % 50 == 49:
                db.session.commit()
        db.session.commit()
        return db.session.scalar(sa.select(sa.func.count(ScriptTask.id)))


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--operators", type=int, default=15)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": tmp.name}
    )
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        upgrade()
    start = time.perf_counter()
    tasks = seed(app, args.groups, args.operators)
    seconds = time.perf_counter() - start
    print(f"seeded {args.groups:,} groups, {tasks:,} scripted tasks in {seconds:.1f} s ({url.split(':')[0]})")

    operator = app.test_client()
    assert operator.post("/login", data={"username": "bench_ip00", "password": PASSWORD}).status_code == 302
    lead = app.test_client()
    assert lead.post("/login", data={"username": "bench_lead", "password": PASSWORD}).status_code == 302

    operator.get("/scripts/today")
    today_time, today_page = timed(lambda: operator.get("/scripts/today"), args.runs)
    cards = today_page.get_data(as_text=True).count('class="task card')
    board_time, board = timed(lambda: lead.get("/groups/board"), args.runs)
    run_time, _ = timed(lambda: lead.get("/scripts/groups/1"), args.runs)
    print(f"今天 (one 主IP, {args.groups // args.operators} groups) {today_time * 1000:8.1f} ms  {cards} task cards")
    print(f"progress board ({args.groups} groups)      {board_time * 1000:8.1f} ms  {len(board.data) / 1024:.0f} KB")
    print(f"a group's run page (18 days)       {run_time * 1000:8.1f} ms")

    with app.app_context(), unscoped():
        lead_user = db.session.scalar(sa.text("select id from \"user\" where username = 'bench_lead'"))
        from crm.estates.models import Estate
        from crm.org.models import User
        from crm.scripts.models import PlaybookVersion

        estate = db.session.get(Estate, 1)
        group = groups.create_group(db.session, estate, groups.GroupFields(name="再加一个群"))
        version = db.session.scalars(sa.select(PlaybookVersion)).first()
        user = db.session.get(User, lead_user)
        roles = dict.fromkeys(AccountRole, user.id)
        start = time.perf_counter()
        service.apply_playbook(db.session, user, group, version, local_today(), roles, {})
        db.session.commit()
        print(f"apply the playbook to one group   {(time.perf_counter() - start) * 1000:8.1f} ms  (18 days, 111 tasks)")
        db.engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
