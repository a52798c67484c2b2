"""The demo gives HQ's coverage pages something real on first start, and seeding again adds nothing."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from crm.core.models import local_today
from crm.coverage import queries
from crm.coverage.models import (
    BaseDealRate,
    CoverageDecision,
    CoverageStatus,
    DecisionKind,
    DecisionList,
    TerritoryAssignment,
)
from crm.demo import seed_demo
from crm.estates.models import Estate
from crm.extensions import db
from crm.orders.models import Contract, Order, OrderStatusChange
from crm.org.models import Dealer


def _snapshot() -> dict:
    """Row counts of what the coverage demo touches, and every estate's target clock."""
    models = (Estate, Order, OrderStatusChange, Contract, CoverageDecision, TerritoryAssignment, BaseDealRate)
    counts = {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models}
    clocks = dict(db.session.execute(sa.select(Estate.id, Estate.targeted_on)).all())
    return {"counts": counts, "clocks": clocks}


def test_demo_shows_coverage_for_every_dealer_and_seeding_again_changes_nothing(app):
    with app.app_context():
        seed_demo(db.session)
        db.session.commit()
        today = local_today()
        th = queries.thresholds(db.session, None, today)
        this_month = queries.month_start(today)
        last_month = queries.previous_month(this_month)
        dealers = db.session.scalars(sa.select(Dealer).order_by(Dealer.code)).all()
        assert {d.code for d in dealers} == {"QQHR", "CC", "HRB"}

        for dealer in dealers:
            statuses = [e.status for e in queries.estates_coverage(db.session, th, dealer_id=dealer.id)]
            for status in (CoverageStatus.GROUP_IDLE, CoverageStatus.OPERATING, CoverageStatus.CONVERTED):
                assert status in statuses, (dealer.code, status)
            neglected, total = queries.candidates(db.session, th, DecisionList.NEGLECTED, this_month, dealer.id)
            assert total >= 2, dealer.code
            overdue = [c.days_overdue for c in neglected]
            assert len(set(overdue)) == len(overdue) and all(days > 0 for days in overdue), (dealer.code, overdue)
            # and some targets are recent: worked, no group yet, not overdue
            fresh = [
                e
                for e in queries.estates_coverage(db.session, th, dealer_id=dealer.id)
                if e.status is CoverageStatus.TARGET_NO_GROUP and not e.neglected and 5 <= e.days_targeted(today) <= 20
            ]
            assert len(fresh) >= 2, dealer.code

        # The dealer table: every dealer has converted estates and this month's deposits; the trend has a past.
        rows = {row.code: row for row in queries.dealer_table(db.session, th, this_month)}
        assert all(row.counts.converted >= 1 and row.counts.neglected >= 2 for row in rows.values())
        assert all(row.this_month.deposits >= 1 for row in rows.values())
        assert rows["CC"].last_month.orders >= 1 and rows["HRB"].last_month.orders >= 1

        board = queries.leaderboards(db.session, this_month)["orders"]
        assert len(board) >= 2 and all(entry.amount > 0 for entry in board)

        conflicts = queries.conflicts(db.session, th)
        open_ones = [c for c in conflicts if c.assignment is None]
        ruled = [c for c in conflicts if c.assignment is not None]
        assert len(open_ones) == 1 and len(ruled) == 1
        assert all(c.city_name == "齐齐哈尔" and c.distance_m < 100 for c in conflicts)
        assert ruled[0].assignment.note and ruled[0].assignment.dealer.code == "QQHR"

        rates = {rate.category: rate for rate in queries.base_deal_rates(db.session)}
        assert {name: str(rates[name].orders_per_group) for name in ("木门", "全屋定制", "服务")} == {
            "木门": "1.5",
            "全屋定制": "0.8",
            "服务": "0.5",
        }
        assert all(rate.note and rate.updated_by.username == "hq_admin" for rate in rates.values())

        decisions = db.session.scalars(sa.select(CoverageDecision)).all()
        assert {d.month for d in decisions} == {last_month, this_month}
        assert {d.kind for d in decisions} == set(DecisionKind)
        assert all(d.note and d.decided_by.username == "hq_admin" for d in decisions)
        # HQ's lists for this month show its decisions beside the estates
        neglected, _ = queries.candidates(db.session, th, DecisionList.NEGLECTED, this_month, limit=100)
        supported, _ = queries.candidates(db.session, th, DecisionList.SUPPORTED, this_month, limit=100)
        assert DecisionKind.PENALTY in {c.decision.kind for c in neglected if c.decision}
        assert DecisionKind.SUPPORT in {c.decision.kind for c in supported if c.decision}

        before = _snapshot()
        again = seed_demo(db.session)
        db.session.commit()
        assert _snapshot() == before
        assert set(again.values()) == {0}


def test_demo_group_numbers_lead_up_to_the_day_it_is_seeded(app, monkeypatch):
    """A demo seeded months from now still shows groups that reported yesterday, not stale ones."""
    import crm.demo
    from crm.groups.models import GroupMetric

    seeding_day = date(2027, 3, 1)
    monkeypatch.setattr(crm.demo, "local_today", lambda: seeding_day)
    with app.app_context():
        seed_demo(db.session)
        db.session.commit()
        first, last = db.session.execute(sa.select(sa.func.min(GroupMetric.day), sa.func.max(GroupMetric.day))).one()
    assert last == seeding_day - timedelta(days=1)
    assert first == seeding_day - timedelta(days=30)
