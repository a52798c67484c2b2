"""The audit trail: who changed what and when (old → new), written with the change and only with it;
a dealer lead reads their dealer's, HQ its decisions'."""

from __future__ import annotations

import sqlalchemy as sa

from crm.audit.models import AuditAction, AuditEntry
from crm.core.roles import Role
from crm.extensions import db
from tests.estates.test_estate_pages import _valid_form


def _entries(app, **where) -> list[AuditEntry]:
    with app.app_context():
        query = sa.select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        entries = db.session.scalars(query).all()
        for entry in entries:
            db.session.expunge(entry)
        return entries


def test_an_estate_edit_is_recorded_with_old_and_new_values_and_who(app, world, login):
    client = login(world.a.lead)
    before = len(_entries(app, entity="estate", entity_id=world.a.estate_id))
    response = client.post(
        f"/estates/{world.a.estate_id}/edit", data=_valid_form(world, name=world.a.estate_name, households="1350")
    )
    assert response.status_code == 302
    entries = _entries(app, entity="estate", entity_id=world.a.estate_id)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.action is AuditAction.UPDATE
    assert entry.changes["households"] == [1200, 1350]
    assert entry.user_name == world.a.user_display_names[Role.DEALER_LEAD]
    assert entry.dealer_id == world.a.dealer_id

    page = client.get("/audit/?entity=estate").get_data(as_text=True)
    assert "户数" in page and "1200 → 1350" in page and world.a.estate_name in page
    assert world.b.estate_name not in page


def test_a_refused_change_leaves_no_entry(app, world, login):
    before = len(_entries(app))
    response = login(world.a.lead).post(f"/estates/{world.a.estate_id}/edit", data=_valid_form(world, households="-5"))
    assert response.status_code == 422
    assert len(_entries(app)) == before


def test_deleting_keeps_what_was_deleted(app, world, login):
    client = login(world.a.lead)
    response = client.post(f"/groups/{world.a.group_id}/delete")
    assert response.status_code in (302, 303)
    [entry] = _entries(app, entity="group", entity_id=world.a.group_id, action=AuditAction.DELETE)
    assert entry.label == world.a.group_name
    assert entry.changes["name"] == [world.a.group_name, None]


def test_who_reads_the_trail(app, world, login):
    assert login(world.a.usernames[Role.OPERATOR]).get("/audit/").status_code == 403
    assert login(world.a.usernames[Role.DESIGNER]).get("/audit/").status_code == 403

    hq = login(world.hq_admin)
    assert (
        hq.post(
            "/hq/coverage/settings", data={"neglect_days": "45", "active_days": "14", "conflict_radius_m": "200"}
        ).status_code
        == 302
    )
    page = hq.get("/audit/").get_data(as_text=True)
    assert "覆盖设置" in page and "有盘不做天数" in page and "45" in page
    assert world.a.estate_name not in page and world.b.estate_name not in page  # dealers' rows are not HQ's trail
    assert "覆盖设置" not in login(world.a.lead).get("/audit/").get_data(as_text=True)


def test_the_trail_reads_in_the_readers_words(app, world, login):
    client = login(world.a.lead)
    form = _valid_form(world, name=world.a.estate_name, households="1200", stage="operating")
    assert client.post(f"/estates/{world.a.estate_id}/edit", data=form).status_code == 302
    page = client.get("/audit/?entity=estate").get_data(as_text=True)
    assert "阶段</span>：目标 → 运营中" in page  # labels, not stored values such as "target"
    assert "updated_by_id" not in page and "operating" not in page


def test_each_audited_page_links_the_dealer_lead_to_its_own_history(app, world, login):
    lead = login(world.a.lead)
    form = _valid_form(world, name=world.a.estate_name, households="1350")
    assert lead.post(f"/estates/{world.a.estate_id}/edit", data=form).status_code == 302
    pages = {
        f"/estates/{world.a.estate_id}": ("estate", world.a.estate_id),
        f"/groups/{world.a.group_id}": ("group", world.a.group_id),
        f"/people/{world.a.person_id}": ("person", world.a.person_id),
        f"/orders/{world.a.order_id}": ("order", world.a.order_id),
        f"/plans/{world.a.plan_id}": ("plan", world.a.plan_id),
        f"/installs/{world.a.job_id}": ("installation", world.a.job_id),
    }
    operator = login(world.a.usernames[Role.OPERATOR])
    for path, (entity, entity_id) in pages.items():
        link = f'href="/audit/?entity={entity}&amp;entity_id={entity_id}"'
        assert link in lead.get(path).get_data(as_text=True), path
        page = operator.get(path)
        assert page.status_code != 200 or link not in page.get_data(as_text=True), path  # no trail to read

    history = lead.get(f"/audit/?entity=estate&entity_id={world.a.estate_id}").get_data(as_text=True)
    assert "1200 → 1350" in history and "只显示这一项的记录" in history


def test_every_audited_column_reads_in_staff_words(app):
    from crm.audit.queries import FIELD_LABELS
    from crm.audit.service import IGNORED_FIELDS, audited_models

    with app.app_context():
        unnamed = {
            f"{spec.entity}.{column.name}"
            for model, spec in audited_models().items()
            for column in model.__table__.columns
            if column.name not in FIELD_LABELS and column.name not in IGNORED_FIELDS
        }
    assert unnamed == set(), "add a label to FIELD_LABELS (crm/audit/queries.py)"
