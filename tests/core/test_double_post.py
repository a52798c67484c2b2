"""A form posted twice — a double tap on a slow network, a resent request — saves once."""

from __future__ import annotations

import re

import sqlalchemy as sa

from crm.estates.models import Estate
from crm.extensions import db
from crm.orders.models import Order
from tests.estates.test_estate_pages import _valid_form


def _token(page: str) -> str:
    match = re.search(
        r'name="submission"[^>]*value="([0-9a-f]{32})"|value="([0-9a-f]{32})"[^>]*name="submission"', page
    )
    assert match, "the form carries a one-time token"
    return match.group(1) or match.group(2)


def _count(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def test_a_new_estate_posted_twice_is_created_once(app, world, login):
    client = login(world.a.lead)
    token = _token(client.get("/estates/new").get_data(as_text=True))
    form = _valid_form(world, name="双击花园", submission=token)

    assert client.post("/estates/new", data=form).status_code == 302
    again = client.post("/estates/new", data=form)
    assert again.status_code == 422
    assert "已经提交过了" in again.get_data(as_text=True)
    assert _count(app, Estate, name="双击花园") == 1

    fresh = _token(client.get("/estates/new").get_data(as_text=True))
    assert fresh != token  # every form shown gets its own token


def test_a_refused_form_can_be_corrected_and_sent_again_with_its_token(app, world, login):
    client = login(world.a.lead)
    token = _token(client.get("/estates/new").get_data(as_text=True))
    refused = client.post("/estates/new", data=_valid_form(world, name="改正花园", households="-1", submission=token))
    assert refused.status_code == 422 and _token(refused.get_data(as_text=True)) == token
    assert client.post("/estates/new", data=_valid_form(world, name="改正花园", submission=token)).status_code == 302
    assert _count(app, Estate, name="改正花园") == 1


def test_an_order_posted_twice_is_taken_once(app, world, login):
    client = login(world.a.lead)
    url = f"/orders/new?person_id={world.a.person_id}"
    page = client.get(url).get_data(as_text=True)
    token = _token(page)
    before = _count(app, Order, person_id=world.a.person_id)
    form = {
        "submission": token,
        "deposit_amount": "2000",
        "deposit_paid_on": "2026-11-20",
        "payment_terms": "定金后签约",
    }
    first = client.post(url, data=form)
    assert first.status_code == 302, first.get_data(as_text=True)[:500]
    assert client.post(url, data=form).status_code == 422
    assert _count(app, Order, person_id=world.a.person_id) == before + 1
