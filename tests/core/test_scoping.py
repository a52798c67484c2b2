"""The scoping mechanism itself, below HTTP: every way of reading dealer data stays inside the scope."""

from __future__ import annotations

import sqlalchemy as sa

from crm.core.scoping import scoped_to, unscoped
from crm.estates import queries
from crm.estates.models import Estate, FloorPlan
from crm.extensions import db
from crm.org.models import Dealer, Store, User


def _names(rows):
    return {row.name for row in rows}


def test_plain_selects_see_only_the_scoped_dealer(app, world):
    with app.app_context(), scoped_to(world.a.dealer_id):
        assert _names(db.session.scalars(sa.select(Estate))) == {world.a.estate_name}
        assert _names(db.session.scalars(sa.select(Store))) == {world.a.store_name}
        assert _names(db.session.scalars(sa.select(FloorPlan))) == {world.a.floor_plan_name}
        assert _names(db.session.scalars(sa.select(Dealer))) == {world.a.dealer_name}
        assert {u.dealer_id for u in db.session.scalars(sa.select(User))} == {world.a.dealer_id}


def test_counts_aggregates_and_pagination_are_scoped(app, world):
    with app.app_context(), scoped_to(world.a.dealer_id):
        assert db.session.scalar(sa.select(sa.func.count(Estate.id))) == 1
        assert sum(queries.count_by_stage(db.session).values()) == 1
        assert queries.households_total(db.session) == 1200
        page = db.paginate(queries.estates_query(queries.EstateFilters()), page=1, per_page=10, count=True)
        assert page.total == 1
        assert [e.name for e in page.items] == [world.a.estate_name]


def test_joins_subqueries_and_relationships_are_scoped(app, world):
    with app.app_context(), scoped_to(world.a.dealer_id):
        joined = db.session.scalars(sa.select(FloorPlan).join(FloorPlan.estate)).all()
        assert _names(joined) == {world.a.floor_plan_name}
        estate_ids = sa.select(Estate.id).scalar_subquery()
        assert db.session.scalar(sa.select(sa.func.count()).where(FloorPlan.estate_id.in_(estate_ids))) is not None
        in_subquery = db.session.scalars(sa.select(FloorPlan).where(FloorPlan.estate_id.in_(sa.select(Estate.id))))
        assert _names(in_subquery) == {world.a.floor_plan_name}
        cities = queries.cities_with_estates(db.session)
        assert [c.id for c in cities] == [world.city_ids["齐齐哈尔"]]


def test_loading_another_dealers_row_by_id_finds_nothing(app, world):
    with app.app_context(), scoped_to(world.a.dealer_id):
        query = sa.select(Estate).where(Estate.id == world.b.estate_id)
        assert db.session.execute(query).scalar_one_or_none() is None


def test_bulk_updates_and_deletes_cannot_touch_another_dealer(app, world):
    with app.app_context():
        with scoped_to(world.a.dealer_id):
            db.session.execute(sa.update(Estate).values(notes="改过"))
            db.session.execute(sa.delete(FloorPlan).where(FloorPlan.id == world.b.floor_plan_id))
            db.session.commit()
        with unscoped():
            b_estate = db.session.execute(sa.select(Estate).where(Estate.id == world.b.estate_id)).scalar_one()
            assert b_estate.notes == ""
            assert (
                db.session.execute(
                    sa.select(FloorPlan).where(FloorPlan.id == world.b.floor_plan_id)
                ).scalar_one_or_none()
                is not None
            )
            a_estate = db.session.execute(sa.select(Estate).where(Estate.id == world.a.estate_id)).scalar_one()
            assert a_estate.notes == "改过"


def test_outside_requests_everything_is_visible_until_narrowed(app, world):
    with app.app_context():
        assert len(db.session.scalars(sa.select(Estate)).all()) == 2
        with scoped_to(world.b.dealer_id):
            assert _names(db.session.scalars(sa.select(Estate))) == {world.b.estate_name}
        assert len(db.session.scalars(sa.select(Estate)).all()) == 2


def test_anonymous_requests_see_no_dealer_rows(app, world):
    with app.test_request_context("/"):
        from crm.core.scoping import current_scope

        assert current_scope().sees_all is False
        assert db.session.scalars(sa.select(Estate)).all() == []
        assert db.session.scalars(sa.select(User)).all() == []
        assert db.session.scalars(sa.select(Dealer)).all() == []
