"""The public share page of a proposal: what neighbours see (and never see), the link's life, their comments."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.groups.models import GroupMetric
from crm.org.models import Store, User
from crm.proposals import service
from crm.proposals.models import CommentSource, Proposal, ProposalComment
from tests.pdf.poppler import squeezed

TODAY = date(2026, 12, 1)  # inside the test offer (2026-11-01 … 2027-01-31)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("crm.proposals.share.local_today", lambda: TODAY)


def _set_deposits(app, world, deposits: int) -> None:
    with app.app_context():
        metric = db.session.scalars(sa.select(GroupMetric).where(GroupMetric.group_id == world.a.group_id)).one()
        metric.deposits = deposits
        db.session.commit()


def _proposal(app, proposal_id: int, change=None):
    """Load (and optionally change and commit) a proposal; returns what the test needs as plain values."""
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        if change:
            change(proposal)
            db.session.commit()
        return {
            "view_count": proposal.view_count,
            "token": proposal.share_token,
            "open_flaws": [(c.nickname, c.body, c.source) for c in proposal.open_flaws],
        }


def _text(response) -> str:
    """What a reader sees: the page's text without tags or whitespace."""
    return squeezed(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def test_the_page_shows_the_design_its_products_and_the_group_price_at_the_tier(app, world, client):
    _set_deposits(app, world, 10)  # exactly the 10-household threshold of the 88折 tier
    response = client.get(f"/s/{world.a.share_token}")
    assert response.status_code == 200
    text = _text(response)
    for expected in (
        world.a.proposal_title,
        world.a.estate_name,
        world.a.floor_plan_name,
        "一位邻居的个性方案",
        "新中式",
        world.a.product_name,
        "M-01",
        "胡桃色",
        "3樘×¥1,980.00",
        "¥5,940.00",  # 3 × 1980, the list-price total
        "当前10户已交定，享88折：团购价¥5,227.20",
        "比原价省¥712.80",
        "早鸟礼（前20名）：前20名送智能门锁，还剩10个名额",
        "五金升级礼包",
        "2027-01-31",
        "5年内掉漆、门皮起翘、门框变形：免费维修",
        world.a.store_name,
        "测试路1号",
        "主卧衣柜挡窗",  # the flaw staff entered from the group
    ):
        assert squeezed(expected) in text, expected
    assert "再有" not in text  # no tier above 88折
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<nav" not in html and "http://" not in html and "https://" not in html  # standalone: no menu, no CDN


def test_below_the_first_tier_the_page_says_how_many_more_deposits_it_takes(app, world, client):
    _set_deposits(app, world, 9)
    text = _text(client.get(f"/s/{world.a.share_token}"))
    assert squeezed("当前9户已交定") in text
    assert squeezed("再有1户交定，全体享88折：¥5,227.20") in text
    assert "团购价¥5,227.20" not in text


def test_a_personal_design_never_shows_its_owner_or_the_staff(app, world, client):
    with app.app_context():  # give the owner a home address too
        proposal = db.session.get(Proposal, world.a.proposal_id)
        proposal.person.building, proposal.person.unit, proposal.person.room = "8", "2", "1702"
        db.session.commit()
    text = _text(client.get(f"/s/{world.a.share_token}"))
    hidden = [
        world.a.person_name,
        world.a.person_phone,
        f"{world.a.person_phone[:3]}****{world.a.person_phone[-4:]}",
        world.a.person_phone[-4:],
        "1702",
        world.a.dealer_name,
        *world.a.user_display_names.values(),
        *world.a.usernames.values(),
    ]
    for secret in hidden:
        assert squeezed(secret) not in text, secret


def test_another_dealers_data_never_appears(app, world, client):
    _set_deposits(app, world, 10)
    with app.app_context():  # dealer B's own group reports deposits too: they must not count for A's estate
        metric = db.session.scalars(sa.select(GroupMetric).where(GroupMetric.group_id == world.b.group_id)).one()
        metric.deposits = 50
        db.session.commit()
    text = _text(client.get(f"/s/{world.a.share_token}"))
    assert squeezed("当前10户已交定") in text
    for marker in world.b.markers():
        assert squeezed(marker) not in text, marker
    # and B's page shows none of A's
    text_b = _text(client.get(f"/s/{world.b.share_token}"))
    assert squeezed(world.b.proposal_title) in text_b
    for marker in world.a.markers():
        assert squeezed(marker) not in text_b, marker


def test_the_contact_is_the_dealers_store_nearest_the_estate(app, world, client):
    with app.app_context():
        far = Store(
            dealer_id=world.a.dealer_id,
            name="阿尔法远端门店",  # sorts first by name, but lies 30 km away
            city_id=world.city_ids["齐齐哈尔"],
            address="远方路 9 号",
            phone="0452-0000000",
            lat=47.62,
            lng=123.92,
        )
        db.session.add(far)
        db.session.get(Store, world.a.store_id).phone = "0452-1234567"
        db.session.commit()
    text = _text(client.get(f"/s/{world.a.share_token}"))
    assert world.a.store_name in text and "0452-1234567" in text
    assert "阿尔法远端门店" not in text


def test_every_view_is_counted(app, world, client):
    before = _proposal(app, world.a.proposal_id)["view_count"]
    assert client.get(f"/s/{world.a.share_token}").status_code == 200
    assert _proposal(app, world.a.proposal_id)["view_count"] == before + 1
    client.get(f"/s/{world.a.share_token}")
    assert _proposal(app, world.a.proposal_id)["view_count"] == before + 2
    client.get(f"/s/{world.a.share_token}/image/0").close()  # images are not page views
    client.head(f"/s/{world.a.share_token}")  # nor are link checkers
    assert _proposal(app, world.a.proposal_id)["view_count"] == before + 2


def test_images_and_the_floor_plan_are_served_while_shared(world, client):
    token = world.a.share_token
    image = client.get(f"/s/{token}/image/0")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert image.headers["Cache-Control"] == "private, max-age=300"
    assert image.headers["X-Robots-Tag"].startswith("noindex")
    image.close()
    plan = client.get(f"/s/{token}/floor-plan")
    assert plan.status_code == 200 and plan.mimetype == "image/png"
    assert plan.headers["Cache-Control"] == "private, max-age=300"
    plan.close()
    assert client.get(f"/s/{token}/image/1").status_code == 404
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert f"/s/{token}/image/0" in page and f"/s/{token}/floor-plan" in page


def _revoke(proposal):
    service.revoke_share(db.session, proposal)


def _withdraw(proposal):
    designer = db.session.get(User, proposal.designer_id)
    service.withdraw_consent(db.session, proposal, designer, "业主改主意了")


@pytest.mark.parametrize("change", [_revoke, _withdraw], ids=["revoked", "consent-withdrawn"])
def test_a_withdrawn_link_shows_nothing_of_the_proposal(app, world, client, change):
    before = _proposal(app, world.a.proposal_id, change)["view_count"]
    token = world.a.share_token
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    text = _text(response)
    assert "方案已撤回" in text
    for secret in (world.a.proposal_title, world.a.estate_name, world.a.product_name, world.a.store_name, "¥"):
        assert squeezed(secret) not in text, secret
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    for url in (f"/s/{token}/image/0", f"/s/{token}/floor-plan"):
        image = client.get(url)
        assert image.status_code in (404, 410) and image.mimetype == "text/html", url
    posted = client.post(f"/s/{token}/comments", data={"nickname": "路人", "body": "还能留言吗"})
    assert posted.status_code == 410
    assert _proposal(app, world.a.proposal_id)["view_count"] == before  # not counted


def test_unknown_or_malformed_tokens_are_not_found(world, client):
    for token in ("x" * 32, "not-a-token!", "a" * 80, world.a.share_token[:-1]):
        response = client.get(f"/s/{token}")
        assert response.status_code == 404, token
        assert "找不到这个方案" in response.get_data(as_text=True)
        image = client.get(f"/s/{token}/image/0")
        image.close()
        assert image.status_code == 404
    assert world.a.proposal_title not in client.get("/s/" + "x" * 32).get_data(as_text=True)


def test_a_general_proposal_says_so(app, world, client):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        general = service.create_proposal(
            db.session,
            proposal.estate,
            service.ProposalFields(title="三室现代简约", floor_plan_id=world.a.floor_plan_id, style="现代简约"),
        )
        service.add_item(
            db.session, general, service.ItemFields(name="衣柜", quantity="2.5", unit="㎡", unit_price="800")
        )
        token = service.publish_share(db.session, general)
        db.session.commit()
    text = _text(client.get(f"/s/{token}"))
    assert "通用方案" in text and "一位邻居" not in text and "三室现代简约" in text
    assert squeezed("2.5㎡×¥800.00") in text and "¥2,000.00" in text


# --- neighbours' comments ------------------------------------------------------------------------


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_an_anonymous_neighbour_comments_with_the_forms_csrf_token(app, world, make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    page = client.get(f"/s/{world.a.share_token}").get_data(as_text=True)
    data = {"nickname": "9栋-王哥", "body": "次卧的门开向能改吗？", "csrf_token": _csrf_token(page)}
    response = client.post(f"/s/{world.a.share_token}/comments", data=data)
    assert response.status_code == 303
    assert re.search(rf"/s/{re.escape(world.a.share_token)}#comment-\d+$", response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "9栋-王哥" in page and "次卧的门开向能改吗？" in page
    # without the token: refused, nothing stored
    refused = client.post(f"/s/{world.a.share_token}/comments", data={"nickname": "无令牌", "body": "试试"})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    with app.app_context():
        bodies = db.session.scalars(sa.select(ProposalComment.nickname)).all()
        assert "9栋-王哥" in bodies and "无令牌" not in bodies


def test_a_nickname_is_required(world, client):
    response = client.post(f"/s/{world.a.share_token}/comments", data={"nickname": " ", "body": "主卧采光一般"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写昵称" in page and "主卧采光一般" in page  # the text is kept for a second try
    empty = client.post(f"/s/{world.a.share_token}/comments", data={"nickname": "刘姐", "body": ""})
    assert empty.status_code == 422 and "请填写评论内容" in empty.get_data(as_text=True)


def test_a_fourth_comment_within_ten_minutes_is_refused(app, world, client):
    url = f"/s/{world.a.share_token}/comments"
    for n in range(3):
        assert client.post(url, data={"nickname": "刘姐", "body": f"第 {n + 1} 条"}).status_code == 303
    response = client.post(url, data={"nickname": "刘姐", "body": "第 4 条"})
    assert response.status_code == 429
    assert "留言太频繁了" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "600"
    # another visitor is not held back by her
    other = client.post(url, data={"nickname": "王哥", "body": "我也说一句"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 303
    with app.app_context():
        keys = db.session.scalars(
            sa.select(ProposalComment.client_key).where(ProposalComment.source == CommentSource.SHARE_PAGE)
        ).all()
    assert len(keys) == 4 and all(len(key) == 64 and "127.0.0.1" not in key for key in keys)


def test_a_flaw_found_on_the_share_page_is_an_open_flaw_for_the_staff(app, world, client):
    data = {"nickname": "7栋-小李", "body": "餐边柜挡住了插座", "is_flaw": "1"}
    assert client.post(f"/s/{world.a.share_token}/comments", data=data).status_code == 303
    flaws = _proposal(app, world.a.proposal_id)["open_flaws"]
    assert ("7栋-小李", "餐边柜挡住了插座", CommentSource.SHARE_PAGE) in flaws
    assert "瑕疵/问题" in client.get(f"/s/{world.a.share_token}").get_data(as_text=True)


def test_the_designers_reply_shows_without_naming_them(app, world, client):
    with app.app_context():
        comment = db.session.get(ProposalComment, world.a.comment_id)
        designer = db.session.get(User, world.a.user_ids[Role.DESIGNER])
        service.resolve_flaw(db.session, comment, designer, "衣柜改到东墙，窗户不再挡")
        db.session.commit()
    text = _text(client.get(f"/s/{world.a.share_token}"))
    assert squeezed("设计师回复衣柜改到东墙，窗户不再挡") in text
    assert "问题已处理" in text
    assert world.a.user_display_names[Role.DESIGNER] not in text


def test_a_staff_member_of_another_dealer_sees_the_same_public_page(world, login):
    """Logged in or not, the page is the same: the link, not the viewer, decides what shows."""
    response = login(world.b.lead).get(f"/s/{world.a.share_token}")
    assert response.status_code == 200
    text = _text(response)
    assert world.a.proposal_title in text and world.b.dealer_name not in text
