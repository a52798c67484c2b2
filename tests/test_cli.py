"""Command-line tools: create-user and the demo data."""

from __future__ import annotations

import sqlalchemy as sa

from crm.core.roles import Role
from crm.demo import DEMO_USERS
from crm.estates.models import Estate, FloorPlan
from crm.extensions import db
from crm.imports.models import EstateImport
from crm.imports.service import preview_import
from crm.maps.models import TrafficMapSettings
from crm.org.models import Dealer, Store, User
from crm.people.models import Person
from crm.plans.models import BattlePlan


def _counts(app):
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Dealer, Store, User, Estate, FloorPlan, TrafficMapSettings, EstateImport, BattlePlan, Person)
        }


def test_seed_demo_is_realistic_and_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "seed-demo"])
    assert result.exit_code == 0, result.output
    first = _counts(app)
    assert first["Dealer"] == 3
    assert first["User"] == len(DEMO_USERS)
    assert first["Estate"] >= 60
    assert first["FloorPlan"] >= 2 * first["Estate"]
    with app.app_context():
        cities = set(db.session.scalars(sa.select(Dealer.name)))
        assert {"齐齐哈尔", "长春", "哈尔滨"} <= {
            c for name in cities for c in ("齐齐哈尔", "长春", "哈尔滨") if c in name
        }
        stages = set(db.session.scalars(sa.select(Estate.stage).distinct()))
        assert len(stages) >= 6
        roles = set(db.session.scalars(sa.select(User.role)))
        assert roles == set(Role)
        # Every estate lies within 15 km of one of its dealer's stores.
        from crm.maps.coords import distance_m

        unpositioned = db.session.scalars(sa.select(Estate).where(Estate.lat.is_(None))).all()
        assert len(unpositioned) == 9 and all(e.address for e in unpositioned)  # for the geocoding demo
        assert db.session.scalar(sa.select(sa.func.count(Estate.id)).where(Estate.competitors != "")) >= 20
        demo_import = db.session.scalars(sa.select(EstateImport)).one()  # waiting for a newcomer to preview
        counts = preview_import(db.session, demo_import).counts
        assert (counts["added"], counts["updated"], counts["rejected"]) == (3, 1, 2)
        plans = db.session.scalars(sa.select(BattlePlan)).all()
        assert len(plans) == 3 and all(len(plan.estates) == 5 for plan in plans)
        qqhr_plan = next(plan for plan in plans if "齐齐哈尔" in plan.title)
        assert all(item.operator and item.designer and item.assistants for item in qqhr_plan.estates)
        from crm.groups.models import Group, GroupMetric
        from crm.people.models import Person

        assert db.session.scalar(sa.select(sa.func.count(Group.id))) == 15
        assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 120
        assert db.session.scalar(sa.select(sa.func.count(GroupMetric.id))) == 12 * 30  # four operating groups a dealer
        _check_demo_scripts()
        _check_demo_proposals()
        _check_demo_orders()
        targets = db.session.scalars(sa.select(TrafficMapSettings.yearly_target_orders)).all()
        assert sorted(targets) == [600, 900, 1200]
        # (estates listed in another dealer's city are the coverage demo's territory conflicts)
        for estate in db.session.scalars(
            sa.select(Estate)
            .join(Dealer, Dealer.id == Estate.dealer_id)
            .where(Estate.lat.is_not(None), Estate.city_id == Dealer.city_id)
        ):
            stores = db.session.scalars(sa.select(Store).where(Store.dealer_id == estate.dealer_id)).all()
            assert min(distance_m(estate.lng, estate.lat, s.lng, s.lat) for s in stores) < 15000, estate.name
    assert runner.invoke(args=["crm", "seed-demo"]).exit_code == 0
    assert _counts(app) == first


def _check_demo_scripts():
    """HQ's templates, each dealer's copy, and groups at different points of the playbook."""
    from crm.core.models import local_today
    from crm.scripts.models import Playbook, RunStatus, ScriptRun, TaskStatus
    from crm.scripts.queries import group_progress, today_for

    templates = db.session.scalars(sa.select(Playbook).where(Playbook.dealer_id.is_(None))).all()
    assert {t.name for t in templates} == {"新盘自建群（总部标准版）", "老盘唤醒（总部标准版）"}
    assert all(t.versions for t in templates)
    qqhr = db.session.scalars(sa.select(Dealer).where(Dealer.code == "QQHR")).one()
    own = db.session.scalars(sa.select(Playbook).where(Playbook.dealer_id == qqhr.id)).all()
    assert sorted(p.name for p in own) == ["新盘自建群", "老盘唤醒"]
    assert max(len(p.versions) for p in own) == 2  # adapted and published again
    runs = db.session.scalars(sa.select(ScriptRun)).all()
    assert len(runs) == 6 and {r.dealer_id for r in runs} == set(db.session.scalars(sa.select(Dealer.id)))
    assert [r.status for r in runs].count(RunStatus.PAUSED) == 1
    today = local_today()
    labels = {
        p.current_day.phase_label
        for p in group_progress(db.session, [r.group_id for r in runs], today).values()
        if p.current_day
    }
    assert {"铺垫期 第1天/共3天", "信任期 第2天/共3天", "报名期 第1天/共2天"} <= labels
    operator = db.session.scalars(sa.select(User).where(User.username == "qqhr_operator")).one()
    now = today_for(db.session, operator)
    assert now.open_count >= 5
    # one group has no event date yet: its sign-up scripts will show the gap until someone fills it in
    assert [("活动日期" in r.values) for r in runs].count(False) == 1
    done = [t for r in runs for d in r.days for t in d.tasks if t.status == TaskStatus.DONE]
    assert done and all("【待补" not in t.sent_text and "{" not in t.sent_text for t in done)


def _check_demo_proposals():
    """Products, offers with tiers and promises, proposals shared with consent, neighbours' flaws."""
    from crm.offers.models import GroupOffer, Product
    from crm.proposals.models import Proposal, ProposalKind

    for dealer in db.session.scalars(sa.select(Dealer)):
        assert db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.dealer_id == dealer.id)) == 8
    offers = db.session.scalars(sa.select(GroupOffer)).all()
    assert len(offers) == 5 and all(o.tiers and o.promises and o.early_birds for o in offers)
    proposals = db.session.scalars(sa.select(Proposal)).all()
    assert all(p.images and p.items for p in proposals)
    personal = [p for p in proposals if p.kind == ProposalKind.PERSONAL]
    assert personal and all(p.is_shared == (p.consent is not None) for p in personal)
    assert any(not p.is_shared for p in personal)  # one still waits for the owner's consent
    flaws = [c for p in proposals for c in p.comments if c.is_flaw]
    assert any(c.resolved_at for c in flaws) and any(c.resolved_at is None for c in flaws)


def _check_demo_orders():
    """QQHR: one order installed and accepted through five steps, one waiting for installation, one deposit."""
    from crm.installs.models import InspectionAttempt, InstallationJob, JobStatus, WarrantyItem
    from crm.orders.models import Contract, Order, OrderStatus

    qqhr = db.session.scalars(sa.select(Dealer.id).where(Dealer.code == "QQHR")).one()
    statuses = sorted(db.session.scalars(sa.select(Order.status).where(Order.dealer_id == qqhr)))
    assert statuses == sorted([OrderStatus.WARRANTY, OrderStatus.AWAITING_INSTALL, OrderStatus.DEPOSIT])
    contracts = db.session.scalars(sa.select(Contract).where(Contract.dealer_id == qqhr)).all()
    assert len(contracts) == 3 and all(c.pdf_sha256 and c.signed_at for c in contracts)
    accepted = db.session.scalars(sa.select(InstallationJob).where(InstallationJob.status == JobStatus.ACCEPTED)).one()
    steps = db.session.scalars(
        sa.select(InspectionAttempt.step).where(InspectionAttempt.job_id == accepted.id).order_by(InspectionAttempt.id)
    ).all()
    assert steps == [1, 2, 2, 3, 4, 5]  # the spot check failed once, then passed after the fix
    warranty = db.session.scalars(sa.select(WarrantyItem).where(WarrantyItem.order_id == accepted.order_id)).all()
    assert len(warranty) == 3 and any(item.claims for item in warranty)


def test_demo_accounts_log_in(app, login):
    app.test_cli_runner().invoke(args=["crm", "seed-demo"])
    from crm.demo import DEMO_PASSWORD

    client = login("qqhr_lead", DEMO_PASSWORD)
    body = client.get("/estates/").get_data(as_text=True)
    assert "共 25 个楼盘" in body


def test_create_user_command(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "crm",
            "create-user",
            "--username",
            "cli_operator",
            "--password",
            "cli-password",
            "--role",
            "operator",
            "--dealer",
            "aaa",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == "cli_operator")).one()
        assert user.dealer_id == world.a.dealer_id and user.role == Role.OPERATOR

    no_dealer = runner.invoke(
        args=["crm", "create-user", "--username", "x_op", "--password", "cli-password", "--role", "operator"]
    )
    assert no_dealer.exit_code != 0 and "--dealer" in no_dealer.output
    unknown = runner.invoke(
        args=[
            "crm",
            "create-user",
            "--username",
            "x_op",
            "--password",
            "cli-password",
            "--role",
            "operator",
            "--dealer",
            "NOPE",
        ]
    )
    assert unknown.exit_code != 0 and "经销商编码不存在" in unknown.output
    hq_with_dealer = runner.invoke(
        args=[
            "crm",
            "create-user",
            "--username",
            "x_hq",
            "--password",
            "cli-password",
            "--role",
            "hq_admin",
            "--dealer",
            "AAA",
        ]
    )
    assert hq_with_dealer.exit_code != 0 and "总部账号不属于任何经销商" in hq_with_dealer.output
    short = runner.invoke(
        args=["crm", "create-user", "--username", "x_hq", "--password", "short", "--role", "hq_admin"]
    )
    assert short.exit_code != 0 and "密码至少 8 位" in short.output
    with app.app_context():
        assert db.session.scalars(sa.select(User).where(User.username.like("x_%"))).all() == []
