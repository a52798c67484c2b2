"""A designer shares a general proposal from the tablet; a neighbour opens the link on a phone, without logging in."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.core.roles import Role
from crm.core.uploads import save_image
from crm.extensions import db
from crm.groups.models import GroupMetric
from crm.proposals import service
from crm.proposals.models import Proposal, ProposalComment
from tests.conftest import TEST_PASSWORD
from tests.factories import file_storage, png_bytes

pytestmark = pytest.mark.browser

PHONE_VIEWPORT = {"width": 390, "height": 844}
TITLE = "三室两厅·现代简约通用方案"


def _general_proposal(app, world) -> int:
    """A general proposal on dealer A's floor plan with a photo and a product line, not yet shared; 10 deposits."""
    with app.app_context():
        estate_proposal = db.session.get(Proposal, world.a.proposal_id)
        proposal = service.create_proposal(
            db.session,
            estate_proposal.estate,
            service.ProposalFields(
                title=TITLE,
                floor_plan_id=world.a.floor_plan_id,
                style="现代简约",
                description="客厅整墙收纳，入户做换鞋凳。",
                designer_id=world.a.user_ids[Role.DESIGNER],
            ),
        )
        photo = save_image(file_storage(png_bytes(1200, 800, (60, 120, 180)), "living.png"), "proposals")
        service.add_image(db.session, proposal, photo, "客厅")
        service.add_item(db.session, proposal, service.ItemFields(product_id=world.a.product_id, quantity="4"))
        metric = db.session.scalars(sa.select(GroupMetric).where(GroupMetric.group_id == world.a.group_id)).one()
        metric.deposits = 10
        db.session.commit()
        proposal_id = proposal.id
        db.session.remove()
    return proposal_id


def _views(app, proposal_id: int) -> int:
    with app.app_context():
        count = db.session.get(Proposal, proposal_id).view_count
        db.session.remove()
    return count


def test_a_designer_shares_and_a_neighbour_reads_it_on_a_phone(app, world, live_server, page, browser, monkeypatch):
    monkeypatch.setattr("crm.proposals.share.local_today", lambda: date(2026, 12, 1))  # inside the test offer
    proposal_id = _general_proposal(app, world)

    # The designer publishes the link from the proposal page on a tablet.
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.usernames[Role.DESIGNER])
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/proposals/{proposal_id}")
    expect(page.get_by_role("heading", name=TITLE, exact=False)).to_be_visible()
    page.get_by_role("button", name="生成分享链接").click()
    share_box = page.locator("#share-url")
    expect(share_box).to_be_visible()
    share_url = share_box.input_value()
    assert share_url.startswith(f"{live_server}/s/"), share_url
    assert _views(app, proposal_id) == 0

    # A neighbour opens it from the group on a phone: no cookies, no login.
    phone = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    try:
        neighbour = phone.new_page()
        response = neighbour.goto(share_url)
        assert response.status == 200
        expect(neighbour.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(neighbour.get_by_text("通用方案", exact=True)).to_be_visible()
        photo = neighbour.locator(".gallery img").first
        expect(photo).to_be_visible()
        neighbour.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
        assert photo.evaluate("img => img.naturalWidth") == 1200
        expect(neighbour.locator("#items")).to_contain_text("¥7,920.00")  # 4 × 1980
        expect(neighbour.locator("#group-price")).to_contain_text("团购价 ¥6,969.60")  # 88折
        expect(neighbour.locator("#promises")).to_contain_text("免费维修")
        expect(neighbour.locator("#store")).to_contain_text(world.a.store_name)
        assert neighbour.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
        assert _views(app, proposal_id) == 1
        assert not phone.cookies() or all(c["name"] != "remember_token" for c in phone.cookies())

        # …and points out a flaw: it lands on the page and, for the staff, as an open flaw.
        neighbour.get_by_label("昵称").fill("6栋-张姐")
        neighbour.get_by_label("点评内容").fill("鞋柜挡住了电表箱")
        neighbour.get_by_label("这是瑕疵/问题").check()
        neighbour.get_by_role("button", name="提交点评").click()
        comment = neighbour.locator(".comments li").filter(has_text="鞋柜挡住了电表箱")
        expect(comment).to_be_visible()
        expect(comment).to_contain_text("瑕疵/问题")
        assert "#comment-" in neighbour.url
        assert neighbour.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    finally:
        phone.close()
    with app.app_context():
        flaw = db.session.scalars(sa.select(ProposalComment).where(ProposalComment.proposal_id == proposal_id)).one()
        assert flaw.is_flaw and flaw.resolved_at is None and flaw.nickname == "6栋-张姐"
        db.session.remove()
