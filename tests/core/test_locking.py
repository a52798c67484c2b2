"""Optimistic locking: a save based on a stale version is refused with the other person's change,
never a silent overwrite; saving again after reading it is a deliberate choice."""

from __future__ import annotations

import re

import sqlalchemy as sa

from crm.core import forms as core_forms
from crm.core.roles import Role
from crm.estates.models import Estate
from crm.extensions import db
from crm.people.models import Person
from tests.estates.test_estate_pages import _valid_form


def _version(page: str) -> str:
    match = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
    assert match, "the form carries the version it was shown with"
    return match.group(1) or match.group(2)


def _estate(app, estate_id: int) -> Estate:
    with app.app_context():
        estate = db.session.get(Estate, estate_id)
        db.session.expunge(estate)
        return estate


def test_a_stale_estate_form_is_refused_with_what_the_other_person_changed(app, world, login):
    lead, operator = login(world.a.lead), login(world.a.usernames[Role.OPERATOR])
    url = f"/estates/{world.a.estate_id}/edit"
    lead_version = _version(lead.get(url).get_data(as_text=True))
    operator_version = _version(operator.get(url).get_data(as_text=True))
    assert lead_version == operator_version

    saved = lead.post(url, data=_valid_form(world, name=world.a.estate_name, households="1300", version=lead_version))
    assert saved.status_code == 302

    refused = operator.post(url, data=_valid_form(world, name="改名花园", households="1200", version=operator_version))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "保存冲突" in page and "尚未保存" in page
    assert world.a.user_display_names[Role.DEALER_LEAD] in page
    assert "户数 1200 → 1300" in page
    estate = _estate(app, world.a.estate_id)
    assert (estate.name, estate.households) == (world.a.estate_name, 1300)

    # The operator has read it; the form now carries the current version, so saving again is deliberate.
    again = operator.post(url, data=_valid_form(world, name="改名花园", households="1300", version=_version(page)))
    assert again.status_code == 302
    assert _estate(app, world.a.estate_id).name == "改名花园"


def test_two_saves_racing_past_the_check_meet_the_database_guard(app, world, login, monkeypatch):
    client = login(world.a.lead)
    url = f"/estates/{world.a.estate_id}/edit"
    version = _version(client.get(url).get_data(as_text=True))
    estate_id = world.a.estate_id
    real_claim = core_forms._claim_submission

    def someone_else_saves_first(form):
        # Another app process commits after our version check, before our first write (on SQLite the
        # request holds the write lock from that write on, so this is where the window is).
        with db.engine.begin() as other:
            other.execute(
                sa.update(Estate.__table__)
                .where(Estate.__table__.c.id == estate_id)
                .values(households=999, version=Estate.__table__.c.version + 1)
            )
        return real_claim(form)

    monkeypatch.setattr(core_forms, "_claim_submission", someone_else_saves_first)
    response = client.post(url, data=_valid_form(world, name=world.a.estate_name, households="1500", version=version))
    assert response.status_code == 422 and "保存冲突" in response.get_data(as_text=True)
    assert _estate(app, world.a.estate_id).households == 999  # theirs stands, ours was not written


def test_people_groups_orders_plans_and_installation_jobs_carry_their_version(app, world, login):
    client = login(world.a.lead)
    for url in (
        f"/people/{world.a.person_id}/edit",
        f"/groups/{world.a.group_id}/edit",
        f"/orders/{world.a.order_id}/edit",
        f"/plans/{world.a.plan_id}/edit",
        f"/installs/{world.a.job_id}/edit",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _version(response.get_data(as_text=True)) == "1", url


def test_a_stale_person_form_is_refused(app, world, login):
    lead, consultant = login(world.a.lead), login(world.a.usernames[Role.CONSULTANT])
    url = f"/people/{world.a.person_id}/edit"
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        base = {
            "name": person.name,
            "phone": person.phone,
            "estate_id": str(person.estate_id),
        }
    version = _version(lead.get(url).get_data(as_text=True))
    assert lead.post(url, data={**base, "notes": "周末看房", "version": version}).status_code == 302
    refused = consultant.post(url, data={**base, "notes": "想要胡桃木色", "version": version})
    assert refused.status_code == 422 and "保存冲突" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, world.a.person_id).notes == "周末看房"
