"""The proposal pages: the list, create/edit/delete, images (uploads checked and stripped), the product list
and its totals, the owner's consent, the share link, neighbours' review, the estate page, and who may do what."""

from __future__ import annotations

import io
import os
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from crm.core.roles import Role
from crm.extensions import db
from crm.groups.models import GroupMetric
from crm.org.models import User
from crm.proposals import service
from crm.proposals.models import Proposal, ProposalComment, ProposalImage, ProposalItem
from tests.factories import jpeg_with_gps_bytes, png_bytes

HX = {"HX-Request": "true"}


def _text(response) -> str:
    return response.get_data(as_text=True)


def _proposal(app, proposal_id: int) -> Proposal:
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        # read what the assertions need while the session is open
        proposal.items, proposal.images, proposal.consents, proposal.comments  # noqa: B018
        db.session.expunge_all()
        return proposal


def _new_general(app, world_dealer, title="通用新中式", with_item=True) -> int:
    from crm.estates.models import Estate

    with app.app_context():
        estate = db.session.get(Estate, world_dealer.estate_id)
        proposal = service.create_proposal(
            db.session,
            estate,
            service.ProposalFields(title=title, floor_plan_id=world_dealer.floor_plan_id, style="新中式"),
        )
        if with_item:
            service.add_item(db.session, proposal, service.ItemFields(name="木门", quantity="2", unit_price="1000"))
        db.session.commit()
        return proposal.id


def _upload(client, proposal_id, data: bytes, filename: str, content_type="image/jpeg", headers=None):
    return client.post(
        f"/proposals/{proposal_id}/images",
        data={"image": (io.BytesIO(data), filename, content_type), "caption": "主卧"},
        content_type="multipart/form-data",
        headers=headers or {},
    )


# ---------------------------------------------------------------- the page


def test_the_proposal_page_shows_everything_but_the_owners_phone(app, world, login):
    client = login(world.a.usernames[Role.DESIGNER])
    response = client.get(f"/proposals/{world.a.proposal_id}")
    page = _text(response)
    assert response.status_code == 200
    assert world.a.proposal_title in page and world.a.floor_plan_name in page and world.a.estate_name in page
    assert world.a.person_name in page and "个性方案" in page and "新中式" in page
    assert "邻居指出了 1 处瑕疵" in page and "主卧衣柜挡窗" in page and "8栋-刘姐" in page  # the open flaw, on top
    assert page.index("主卧衣柜挡窗") < page.index("产品清单")
    assert f"/proposals/images/{world.a.proposal_image_id}" in page
    assert world.a.product_name in page and "5,940.00" in page  # 3 × 1980
    assert "团购价" in page and "未达到档位" in page and "再有 10 户交定可享 88折" in page
    assert "到店当面同意" in page and "到店看图后同意" in page and world.a.user_display_names[Role.DESIGNER] in page
    assert f"/s/{world.a.share_token}" in page and "分享中" in page
    assert world.a.person_phone not in page and world.a.person_phone[-4:] not in page
    assert 'accept="image/jpeg,image/png,image/webp"' in page  # the tablet offers camera or gallery


def test_the_group_price_follows_the_tier_the_estate_reached(app, world, login):
    with app.app_context():
        db.session.add(
            GroupMetric(dealer_id=world.a.dealer_id, group_id=world.a.group_id, day=date(2026, 11, 21), deposits=12)
        )
        db.session.commit()
    page = _text(login(world.a.lead).get(f"/proposals/{world.a.proposal_id}"))
    assert "88折 · 已有 12 户交定（满 10 户档）" in page and "5,227.20" in page and "比原价省 ¥712.80" in page


def test_installers_read_proposals_without_prices_or_buttons(app, world, login):
    client = login(world.a.usernames[Role.INSTALLER])
    page = _text(client.get(f"/proposals/{world.a.proposal_id}"))
    assert world.a.proposal_title in page and "5,940.00" in page
    assert "团购价" not in page  # offers are for sales staff
    for button in (
        "添加产品",
        "上传",
        "生成分享链接",
        "撤回分享",
        "记录业主同意",
        "业主撤回同意",
        "添加评论",
        "标记已处理",
    ):
        assert button not in page, button
    image = client.get(f"/proposals/images/{world.a.proposal_image_id}")
    assert image.status_code == 200
    image.close()
    assert client.get("/proposals/").status_code == 200
    for method, url in [
        ("GET", f"/proposals/new?estate_id={world.a.estate_id}"),
        ("GET", f"/proposals/{world.a.proposal_id}/edit"),
        ("POST", f"/proposals/{world.a.proposal_id}/items"),
        ("POST", f"/proposals/{world.a.proposal_id}/images"),
        ("POST", f"/proposals/{world.a.proposal_id}/consent/withdraw"),
        ("POST", f"/proposals/{world.a.proposal_id}/share/revoke"),
        ("POST", f"/proposals/{world.a.proposal_id}/comments"),
        ("POST", f"/proposals/comments/{world.a.comment_id}/resolve"),
        ("POST", f"/proposals/{world.a.proposal_id}/delete"),
    ]:
        assert client.open(url, method=method, data={"body": "x", "quantity": "1"}).status_code == 403, url
    assert _proposal(app, world.a.proposal_id).is_shared


def test_hq_does_not_see_dealers_proposals(app, world, login):
    client = login(world.hq_viewer)
    assert client.get("/proposals/").status_code == 403
    assert client.get(f"/proposals/{world.a.proposal_id}").status_code == 403
    estate_page = _text(client.get(f"/estates/{world.a.estate_id}"))
    assert 'id="estate-proposals"' not in estate_page and world.a.proposal_title not in estate_page


# ---------------------------------------------------------------- create, edit, delete


def test_a_designer_creates_edits_and_deletes_a_proposal(app, world, login, upload_folder):
    client = login(world.a.usernames[Role.DESIGNER])
    url = f"/proposals/new?estate_id={world.a.estate_id}&floor_plan_id={world.a.floor_plan_id}"
    form = _text(client.get(url))
    assert f'<option selected value="{world.a.floor_plan_id}">' in form
    assert world.a.person_name in form and world.a.person_phone not in form
    assert f'<option selected value="{world.a.user_ids[Role.DESIGNER]}">' in form  # the designer, by default
    refused = client.post(url, data={"title": "", "floor_plan_id": "", "kind": "general"})
    assert refused.status_code == 422 and "请填写方案标题" in _text(refused)
    refused = client.post(url, data={"title": "个性没业主", "floor_plan_id": world.a.floor_plan_id, "kind": "personal"})
    assert refused.status_code == 422 and "个性方案须选择本店登记过的业主" in _text(refused)
    response = client.post(
        url,
        data={
            "title": "B户型 北欧",
            "floor_plan_id": world.a.floor_plan_id,
            "kind": "general",
            "style": "北欧",
            "designer_id": world.a.user_ids[Role.DESIGNER],
            "description": "浅色木纹，白色柜门",
        },
    )
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "已新建方案：B户型 北欧" in page and "浅色木纹，白色柜门" in page and "通用方案" in page
    with app.app_context():
        proposal_id = db.session.scalar(sa.select(Proposal.id).where(Proposal.title == "B户型 北欧"))

    response = client.post(
        f"/proposals/{proposal_id}/edit",
        data={"title": "B户型 原木", "floor_plan_id": world.a.floor_plan_id, "kind": "general", "style": "原木"},
    )
    assert response.status_code == 302
    assert (_proposal(app, proposal_id).title, _proposal(app, proposal_id).style) == ("B户型 原木", "原木")

    assert _upload(client, proposal_id, png_bytes(), "r.png", "image/png").status_code == 302
    stored = upload_folder / _proposal(app, proposal_id).images[0].path
    assert stored.exists()
    response = client.post(f"/proposals/{proposal_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/estates/{world.a.estate_id}")
    assert "已删除方案：B户型 原木" in _text(client.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(Proposal, proposal_id) is None
    assert not stored.exists()  # the photo went with it


def test_another_dealers_person_cannot_be_the_owner(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/proposals/new?estate_id={world.a.estate_id}",
        data={
            "title": "借来的业主",
            "floor_plan_id": world.a.floor_plan_id,
            "kind": "personal",
            "person_id": world.b.person_id,
        },
    )
    assert response.status_code == 422 and "个性方案须选择本店登记过的业主" in _text(response)
    assert world.b.person_name not in _text(response)
    response = client.post(
        f"/proposals/new?estate_id={world.a.estate_id}",
        data={"title": "借来的户型", "floor_plan_id": world.b.floor_plan_id, "kind": "general"},
    )
    assert response.status_code == 422 and "请选择这个楼盘的户型" in _text(response)
    assert client.get(f"/proposals/new?estate_id={world.b.estate_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id)).where(Proposal.title.like("借来的%"))) == 0


# ---------------------------------------------------------------- images


def test_a_text_file_named_jpg_is_refused(app, world, login, upload_folder):
    client = login(world.a.lead)
    response = _upload(client, world.a.proposal_id, b"hello, not a photo", "room.jpg", headers=HX)
    body = _text(response)
    assert response.status_code == 422 and "无法识别的图片，请上传 JPEG、PNG 或 WebP 格式" in body
    assert "<html" not in body and 'id="proposal-images"' in body  # the section, for htmx
    assert len(_proposal(app, world.a.proposal_id).images) == 1
    assert not (upload_folder / f"proposals/{world.a.dealer_id}").exists()


def test_a_photo_is_stored_without_its_gps_position(app, world, login, upload_folder):
    client = login(world.a.usernames[Role.DESIGNER])
    response = _upload(client, world.a.proposal_id, jpeg_with_gps_bytes(), "site.jpg", headers=HX)
    assert response.status_code == 200 and "已添加图片" in _text(response) and "主卧" in _text(response)
    image = _proposal(app, world.a.proposal_id).images[-1]
    stored = upload_folder / image.path
    with Image.open(stored) as photo:
        assert photo.format == "JPEG"
        assert not photo.getexif().get_ifd(0x8825)  # no GPS IFD
        assert not photo.getexif()
    served = client.get(f"/proposals/images/{image.id}")
    assert served.status_code == 200 and served.data == stored.read_bytes()
    served.close()

    response = client.post(f"/proposals/images/{image.id}/delete", headers=HX)
    assert response.status_code == 200 and "已删除图片" in _text(response)
    assert not stored.exists()
    with app.app_context():
        assert db.session.get(ProposalImage, image.id) is None


def test_an_oversize_upload_is_refused(make_app, world, upload_folder):
    app = make_app(UPLOAD_MAX_IMAGE_BYTES=1024 * 1024)
    client = app.test_client()
    client.post("/login", data={"username": world.a.lead, "password": "test-password-1"})
    noise = Image.frombytes("RGB", (800, 600), os.urandom(800 * 600 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 1024 * 1024
    # Encoded here in memory: the test client would spool a body this big to a temporary file it never closes.
    boundary, body = encode_multipart(
        {"image": FileStorage(io.BytesIO(buffer.getvalue()), "big.png", content_type="image/png")}
    )
    response = client.post(
        f"/proposals/{world.a.proposal_id}/images",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 422 and "图片不能超过 1 MB" in _text(response)
    assert len(_proposal(app, world.a.proposal_id).images) == 1


def test_without_a_file_the_upload_says_so(app, world, login):
    response = login(world.a.lead).post(f"/proposals/{world.a.proposal_id}/images", data={"caption": "空"})
    assert response.status_code == 422 and "请选择或拍摄一张图片" in _text(response)


# ---------------------------------------------------------------- the product list


def test_items_from_the_catalog_or_typed_with_totals(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/proposals/{world.a.proposal_id}/items",
        data={"name": "踢脚线", "unit": "米", "quantity": "12.5", "unit_price": "38.8"},
        headers=HX,
    )
    body = _text(response)
    assert response.status_code == 200 and "已添加产品" in body and "<html" not in body
    assert "踢脚线" in body and "12.5" in body and "485.00" in body and "6,425.00" in body  # 5940 + 485
    response = client.post(
        f"/proposals/{world.a.proposal_id}/items", data={"product_id": world.a.product_id, "quantity": "1"}
    )
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "8,405.00" in page
    with app.app_context():
        item = db.session.scalars(
            sa.select(ProposalItem)
            .where(ProposalItem.proposal_id == world.a.proposal_id)
            .order_by(ProposalItem.id.desc())
        ).first()
        assert (item.name, item.unit_price, item.product_id) == (
            world.a.product_name,
            Decimal("1980.00"),
            world.a.product_id,
        )

    edit = client.get(f"/proposals/items/{world.a.proposal_item_id}/edit")
    assert edit.status_code == 200 and world.a.product_name in _text(edit)
    response = client.post(
        f"/proposals/items/{world.a.proposal_item_id}/edit",
        data={"product_id": world.a.product_id, "quantity": "4", "unit_price": "1880"},
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(ProposalItem, world.a.proposal_item_id)
        assert (item.quantity, item.unit_price, item.amount) == (
            Decimal("4.00"),
            Decimal("1880.00"),
            Decimal("7520.00"),
        )
    response = client.post(f"/proposals/items/{world.a.proposal_item_id}/delete", headers=HX)
    assert response.status_code == 200 and "已删除产品" in _text(response)
    assert world.a.proposal_item_id not in {i.id for i in _proposal(app, world.a.proposal_id).items}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "木门", "quantity": "0", "unit_price": "100"}, "数量须大于 0"),
        ({"name": "木门", "quantity": "1", "unit_price": "-5"}, "单价不能为负数"),
        ({"name": "木门", "quantity": "一樘", "unit_price": "100"}, "请输入数字"),
        ({"name": "", "quantity": "1", "unit_price": "100"}, "请填写产品名称或从产品库选择"),
    ],
)
def test_bad_items_are_refused_in_chinese_and_nothing_is_saved(app, world, login, data, message):
    client = login(world.a.usernames[Role.DESIGNER])
    for headers in (HX, {}):
        response = client.post(f"/proposals/{world.a.proposal_id}/items", data=data, headers=headers)
        assert response.status_code == 422 and message in _text(response)
    response = client.post(f"/proposals/items/{world.a.proposal_item_id}/edit", data=data)
    assert response.status_code == 422 and message in _text(response)
    items = _proposal(app, world.a.proposal_id).items
    assert [(i.quantity, i.unit_price) for i in items] == [(Decimal("3.00"), Decimal("1980.00"))]


# ---------------------------------------------------------------- consent and the share link


def test_a_consultant_records_consent_but_does_not_edit(app, world, login):
    client = login(world.a.usernames[Role.CONSULTANT])
    proposal_id = world.a.proposal_id
    response = client.post(f"/proposals/{proposal_id}/consent/withdraw", data={"note": "业主说先别发"}, headers=HX)
    body = _text(response)
    assert response.status_code == 200 and "已撤回业主同意" in body and "已暂停（业主撤回同意）" in body
    assert "业主说先别发" in body and world.a.user_display_names[Role.CONSULTANT] in body
    assert not _proposal(app, proposal_id).is_shared
    response = client.post(f"/proposals/{proposal_id}/consent/withdraw", data={}, headers=HX)
    assert response.status_code == 422 and "没有可撤回的同意" in _text(response)

    response = client.post(f"/proposals/{proposal_id}/consent", data={"channel": "wechat", "note": "微信语音同意"})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "已记录业主同意" in page and "微信文字/语音同意" in page and "同意记录（2）" in page
    assert _proposal(app, proposal_id).is_shared  # the same link shows it again

    for method, url in [
        ("GET", f"/proposals/{proposal_id}/edit"),
        ("POST", f"/proposals/{proposal_id}/items"),
        ("POST", f"/proposals/{proposal_id}/share"),
        ("POST", f"/proposals/{proposal_id}/share/revoke"),
        ("POST", f"/proposals/images/{world.a.proposal_image_id}/delete"),
        ("POST", f"/proposals/comments/{world.a.comment_id}/resolve"),
    ]:
        assert client.open(url, method=method, data={"quantity": "1"}).status_code == 403, url


def test_sharing_is_refused_without_consent_and_revoking_kills_the_link(app, world, login):
    client = login(world.a.lead)
    proposal_id = world.a.proposal_id
    client.post(f"/proposals/{proposal_id}/share/revoke")
    assert not _proposal(app, proposal_id).is_shared
    client.post(f"/proposals/{proposal_id}/consent/withdraw", data={})
    response = client.post(f"/proposals/{proposal_id}/share", headers=HX)
    assert response.status_code == 422 and "个性方案须先记录业主同意，才能分享到群里" in _text(response)
    assert _proposal(app, proposal_id).share_token == world.a.share_token

    client.post(f"/proposals/{proposal_id}/consent", data={"channel": "paper"})
    response = client.post(f"/proposals/{proposal_id}/share", headers=HX)
    assert response.status_code == 200 and "已生成分享链接" in _text(response)
    proposal = _proposal(app, proposal_id)
    assert proposal.is_shared and proposal.share_token != world.a.share_token
    assert f"/s/{proposal.share_token}" in _text(response)

    general_id = _new_general(app, world.a, with_item=False)
    response = client.post(f"/proposals/{general_id}/share")
    assert response.status_code == 422 and "方案还没有图片和产品清单" in _text(response)
    assert 'id="consent"' not in _text(client.get(f"/proposals/{general_id}"))  # general: no consent block


# ---------------------------------------------------------------- neighbours' review


def test_staff_enter_remarks_and_the_designer_resolves_flaws(app, world, login):
    assistant = login(world.a.usernames[Role.ASSISTANT])
    response = assistant.post(
        f"/proposals/{world.a.proposal_id}/comments",
        data={"nickname": "3栋-张哥", "body": "门把手的位置太低", "is_flaw": "y"},
        headers=HX,
    )
    body = _text(response)
    assert response.status_code == 200 and "已添加评论" in body and "门把手的位置太低" in body
    assert 'id="open-flaws" hx-swap-oob="true"' in body and "邻居指出了 2 处瑕疵" in body
    refused = assistant.post(f"/proposals/{world.a.proposal_id}/comments", data={"body": ""}, headers=HX)
    assert refused.status_code == 422 and "请填写评论内容" in _text(refused)
    # An assistant cannot make an open flaw disappear…
    assert assistant.post(f"/proposals/comments/{world.a.comment_id}/flaw", data={}).status_code == 403
    assert assistant.post(f"/proposals/comments/{world.a.comment_id}/delete").status_code == 403
    assert assistant.post(f"/proposals/comments/{world.a.comment_id}/resolve", data={}).status_code == 403

    designer = login(world.a.usernames[Role.DESIGNER])
    prefix = f"c{world.a.comment_id}-"
    refused = designer.post(f"/proposals/comments/{world.a.comment_id}/resolve", data={prefix + "resolution": " "})
    assert refused.status_code == 422 and "请写明怎么处理的" in _text(refused)
    response = designer.post(
        f"/proposals/comments/{world.a.comment_id}/resolve",
        data={prefix + "resolution": "衣柜改到靠墙一侧"},
        headers=HX,
    )
    body = _text(response)
    assert response.status_code == 200 and "已处理瑕疵" in body and "处理：衣柜改到靠墙一侧" in body
    assert "邻居指出了 1 处瑕疵" in body  # the banner now only holds 张哥's
    again = designer.post(
        f"/proposals/comments/{world.a.comment_id}/resolve", data={prefix + "resolution": "再改"}, headers=HX
    )
    assert again.status_code == 422 and "这个瑕疵已经处理过了" in _text(again)

    # …but once resolved it is an ordinary remark again.
    assert assistant.post(f"/proposals/comments/{world.a.comment_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(ProposalComment, world.a.comment_id) is None
        remark = db.session.scalars(sa.select(ProposalComment).where(ProposalComment.nickname == "3栋-张哥")).one()
        assert remark.entered_by_id == world.a.user_ids[Role.ASSISTANT]
    response = assistant.post(f"/proposals/comments/{remark.id}/flaw", data={})  # unmarking an open flaw
    assert response.status_code == 403
    response = designer.post(f"/proposals/comments/{remark.id}/flaw", data={}, headers=HX)
    assert response.status_code == 200 and "已取消瑕疵标记" in _text(response)
    assert 'id="open-flaws" hx-swap-oob="true">' in _text(response).replace("\n", "").replace("  ", "")
    assert _proposal(app, world.a.proposal_id).open_flaws == []


def test_share_page_remarks_show_their_source(app, world, login):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        service.add_share_comment(db.session, proposal, "9栋王哥", "门的颜色偏暗", False, "k")
        db.session.commit()
    page = _text(login(world.a.usernames[Role.OPERATOR]).get(f"/proposals/{world.a.proposal_id}"))
    assert "9栋王哥" in page and "分享页留言" in page and "群内讨论（员工录入）" in page


# ---------------------------------------------------------------- the list and the estate page


def test_the_list_filters_by_estate_kind_style_and_open_flaws(app, world, login):
    general_id = _new_general(app, world.a)
    client = login(world.a.usernames[Role.OPERATOR])
    page = _text(client.get("/proposals/"))
    assert world.a.proposal_title in page and "通用新中式" in page and world.a.person_name in page
    assert "共 2 个方案" in page and "2,000.00" in page and "5,940.00" in page
    only = _text(client.get("/proposals/", query_string={"kind": "general"}, headers=HX))
    assert "<html" not in only and "通用新中式" in only and world.a.proposal_title not in only
    flaws = _text(client.get("/proposals/", query_string={"flaws": "1"}))
    assert world.a.proposal_title in flaws and "通用新中式" not in flaws
    styled = _text(client.get("/proposals/", query_string={"style": "新中式", "estate_id": world.a.estate_id}))
    assert "共 2 个方案" in styled
    assert f"/proposals/{general_id}" in styled


def test_the_list_runs_the_same_queries_however_many_proposals(app, world, login, count_queries):
    client = login(world.a.lead)
    client.get("/proposals/")
    with count_queries() as few:
        client.get("/proposals/").close()
    for n in range(5):
        _new_general(app, world.a, title=f"通用{n}")
    with count_queries() as many:
        client.get("/proposals/").close()
    assert many.count == few.count
    with count_queries() as estate_page:
        client.get(f"/estates/{world.a.estate_id}").close()
    for n in range(3):
        _new_general(app, world.a, title=f"更多{n}")
    with count_queries() as estate_page_more:
        client.get(f"/estates/{world.a.estate_id}").close()
    assert estate_page_more.count == estate_page.count


def test_the_estate_page_lists_proposals_by_floor_plan(app, world, login):
    _new_general(app, world.a)
    page = _text(login(world.a.usernames[Role.DESIGNER]).get(f"/estates/{world.a.estate_id}"))
    section = page[page.index('id="estate-proposals"') :]
    assert world.a.floor_plan_name in section and world.a.proposal_title in section and "通用新中式" in section
    assert "新中式" in section and "5,940.00" in section and "分享中" in section and "未分享" in section
    assert f"/proposals/new?estate_id={world.a.estate_id}&amp;floor_plan_id={world.a.floor_plan_id}" in section
    installer = _text(login(world.a.usernames[Role.INSTALLER]).get(f"/estates/{world.a.estate_id}"))
    assert world.a.proposal_title in installer and "/proposals/new" not in installer


def test_the_proposal_page_runs_the_same_queries_however_much_it_holds(app, world, login, count_queries):
    client = login(world.a.usernames[Role.DESIGNER])
    url = f"/proposals/{world.a.proposal_id}"
    client.get(url).close()
    with count_queries() as few:
        client.get(url).close()
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        assistant = db.session.get(User, world.a.user_ids[Role.ASSISTANT])
        for n in range(4):
            service.add_item(db.session, proposal, service.ItemFields(name=f"柜{n}", quantity="1", unit_price="10"))
            service.add_staff_comment(db.session, proposal, assistant, f"邻居{n}", "看着不错", is_flaw=n % 2 == 0)
        db.session.commit()
    with count_queries() as many:
        client.get(url).close()
    assert many.count == few.count
