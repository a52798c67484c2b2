"""The owner's proposal as an A4 printout: real text in the shipped font, the prices at today's tier, staff only."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

import crm.proposals.pdf_views  # noqa: F401  (registers the route, whoever else imports it)
from crm.core.roles import Role
from crm.extensions import db
from crm.groups.models import GroupMetric
from crm.proposals import service
from crm.proposals.models import Proposal
from crm.proposals.printing import proposal_pdf
from tests.pdf import poppler

TODAY = date(2026, 12, 1)  # inside the test offer (2026-11-01 … 2027-01-31)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("crm.proposals.pdf_views.local_today", lambda: TODAY)


def _set_deposits(app, group_id: int, deposits: int) -> None:
    with app.app_context():
        metric = db.session.scalars(sa.select(GroupMetric).where(GroupMetric.group_id == group_id)).one()
        metric.deposits = deposits
        db.session.commit()


def test_the_printout_reads_like_the_proposal(app, world):
    _set_deposits(app, world.a.group_id, 12)
    with app.app_context():
        pdf = proposal_pdf(db.session, db.session.get(Proposal, world.a.proposal_id), TODAY)
    assert poppler.page_size_mm(pdf) == (210.0, 297.0)  # A4 portrait
    text = poppler.squeezed(poppler.text(pdf))
    for expected in (
        world.a.proposal_title,
        world.a.estate_name,
        world.a.floor_plan_name,
        world.a.person_name,  # printed for the owner
        "新中式",
        world.a.user_display_names[Role.DESIGNER],
        "2026-12-01",
        world.a.product_name,
        "M-01",
        "胡桃色",
        "¥1,980.00",
        "合计（原价）¥5,940.00",
        "当前12户已交定，享88折：团购价¥5,227.20",
        "满10户",
        "10户成团",
        "前20名送智能门锁",
        "还剩8个名额",
        "五金升级礼包",
        "报名2026-11-01至2027-01-31",
        "1.5年内掉漆、门皮起翘、门框变形：免费维修",
        world.a.store_name,
        "测试路1号",
    ):
        assert poppler.squeezed(expected) in text, expected
    assert "通用方案" not in text
    assert poppler.images(pdf) >= 2  # the floor plan and the design image
    fonts = poppler.fonts(pdf)
    assert fonts and all("Noto-Sans-SC" in f["name"] and f["emb"] == "yes" for f in fonts), fonts
    assert poppler.squeezed(world.a.person_phone) not in text  # the phone is not needed on paper


def test_a_general_proposal_prints_without_an_owner(app, world):
    with app.app_context():
        estate = db.session.get(Proposal, world.a.proposal_id).estate
        general = service.create_proposal(
            db.session,
            estate,
            service.ProposalFields(title="三室现代简约", floor_plan_id=world.a.floor_plan_id, style="现代简约"),
        )
        service.add_item(
            db.session, general, service.ItemFields(name="衣柜", quantity="2.5", unit="㎡", unit_price="800")
        )
        db.session.commit()
        pdf = proposal_pdf(db.session, general, TODAY)
    text = poppler.squeezed(poppler.text(pdf))
    assert "通用方案" in text and "三室现代简约" in text and "¥2,000.00" in text
    assert "当前0户已交定" in text and "再有10户交定，全体享88折：¥1,760.00" in text
    assert poppler.squeezed(world.a.person_name) not in text


def test_staff_download_it_and_another_dealers_names_are_absent(app, world, login):
    _set_deposits(app, world.a.group_id, 10)
    response = login(world.a.lead).get(f"/proposals/{world.a.proposal_id}/print.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = poppler.squeezed(poppler.text(response.data))
    assert poppler.squeezed(world.a.proposal_title) in text and "88折" in text
    for marker in world.b.markers():
        assert poppler.squeezed(marker) not in text, marker


@pytest.mark.parametrize("role", [Role.INSTALLER, Role.DESIGNER])
def test_any_staff_member_may_print_it(world, login, role):
    response = login(world.a.usernames[role]).get(f"/proposals/{world.a.proposal_id}/print.pdf")
    assert response.status_code == 200


def test_another_dealers_proposal_is_not_found(world, login):
    assert login(world.a.lead).get(f"/proposals/{world.b.proposal_id}/print.pdf").status_code == 404


def test_login_is_required(world, client):
    response = client.get(f"/proposals/{world.a.proposal_id}/print.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
