"""Proposal services and queries below HTTP: consent-gated sharing, the product list and its totals, images,
neighbours' flaws, and the reads the pages use."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from crm.core.roles import Role
from crm.core.uploads import upload_root
from crm.core.validation import FieldError
from crm.estates.models import Estate
from crm.extensions import db
from crm.groups.models import GroupMetric
from crm.offers.models import GroupOffer
from crm.org.models import User
from crm.proposals import queries, service
from crm.proposals.models import (
    CommentSource,
    ConsentChannel,
    Proposal,
    ProposalComment,
    ProposalImage,
    ProposalItem,
    ProposalKind,
)
from tests.factories import png_bytes


def _user(world_dealer, role: Role) -> User:
    return db.session.get(User, world_dealer.user_ids[role])


def _new_proposal(world_dealer, kind=ProposalKind.PERSONAL, title="新方案", **extra) -> Proposal:
    estate = db.session.get(Estate, world_dealer.estate_id)
    person_id = world_dealer.person_id if kind == ProposalKind.PERSONAL else None
    fields = service.ProposalFields(
        title=title, floor_plan_id=world_dealer.floor_plan_id, kind=kind, person_id=person_id, **extra
    )
    return service.create_proposal(db.session, estate, fields)


def _item(proposal, quantity, unit_price, name="木门") -> ProposalItem:
    return service.add_item(
        db.session, proposal, service.ItemFields(name=name, quantity=quantity, unit_price=unit_price)
    )


def _item_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(ProposalItem.id)))


# ---------------------------------------------------------------- consent and sharing


def test_a_personal_proposal_is_shared_only_with_the_owners_consent(app, world):
    with app.app_context():
        proposal = _new_proposal(world.a)
        _item(proposal, "1", "1980")
        designer = _user(world.a, Role.DESIGNER)
        with pytest.raises(FieldError) as refused:
            service.publish_share(db.session, proposal)
        assert "个性方案须先记录业主同意" in refused.value.message
        assert proposal.share_token is None and not proposal.is_shared

        service.record_consent(db.session, proposal, designer, ConsentChannel.WECHAT, "群里私聊同意")
        token = service.publish_share(db.session, proposal)
        assert proposal.is_shared and service.shared_proposal(db.session, token) is proposal

        service.withdraw_consent(db.session, proposal, designer, "业主改主意了")
        assert proposal.consent is None and not proposal.is_shared
        assert proposal.share_token == token  # the link stays, but shows nothing
        with pytest.raises(FieldError):
            service.publish_share(db.session, proposal)
        with pytest.raises(FieldError) as nothing:
            service.withdraw_consent(db.session, proposal, designer)
        assert "没有可撤回的同意" in nothing.value.message

        # The owner may agree again; the history keeps both records.
        service.record_consent(db.session, proposal, designer, ConsentChannel.IN_STORE)
        assert proposal.is_shared and len(proposal.consents) == 2
        assert proposal.consents[0].withdrawal_note == "业主改主意了"
        with pytest.raises(FieldError) as twice:
            service.record_consent(db.session, proposal, designer, ConsentChannel.PHONE)
        assert "已经记录过业主同意" in twice.value.message


def test_a_general_proposal_needs_content_but_no_consent(app, world):
    with app.app_context():
        proposal = _new_proposal(world.a, kind=ProposalKind.GENERAL, style="北欧")
        with pytest.raises(FieldError) as empty:
            service.publish_share(db.session, proposal)
        assert "还没有图片和产品清单" in empty.value.message
        with pytest.raises(FieldError) as consent:
            service.record_consent(db.session, proposal, _user(world.a, Role.DESIGNER), ConsentChannel.PHONE)
        assert "通用方案不需要业主同意" in consent.value.message
        _item(proposal, "2", "100")
        first = service.publish_share(db.session, proposal)
        assert proposal.is_shared
        service.revoke_share(db.session, proposal)
        assert not proposal.is_shared
        with pytest.raises(FieldError):
            service.revoke_share(db.session, proposal)
        second = service.publish_share(db.session, proposal)
        assert second != first and proposal.is_shared and proposal.view_count == 0


# ---------------------------------------------------------------- the owner and other dealers


def test_another_dealers_person_or_designer_cannot_be_chosen(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        with pytest.raises(FieldError) as person:
            service.create_proposal(
                db.session,
                estate,
                service.ProposalFields(
                    title="借用",
                    floor_plan_id=world.a.floor_plan_id,
                    kind=ProposalKind.PERSONAL,
                    person_id=world.b.person_id,
                ),
            )
        assert person.value.field == "person_id" and "本店登记过的业主" in person.value.message
        with pytest.raises(FieldError) as plan:
            service.create_proposal(
                db.session, estate, service.ProposalFields(title="借用", floor_plan_id=world.b.floor_plan_id)
            )
        assert plan.value.field == "floor_plan_id"
        with pytest.raises(FieldError) as designer:
            service.create_proposal(
                db.session,
                estate,
                service.ProposalFields(
                    title="借用", floor_plan_id=world.a.floor_plan_id, designer_id=world.b.user_ids[Role.DESIGNER]
                ),
            )
        assert designer.value.field == "designer_id"
        proposal = db.session.get(Proposal, world.a.proposal_id)
        with pytest.raises(FieldError) as product:
            service.add_item(db.session, proposal, service.ItemFields(product_id=world.b.product_id, quantity="1"))
        assert "本店的产品" in product.value.message


def test_a_consented_proposal_keeps_its_owner(app, world):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        fields = service.ProposalFields(
            title=proposal.title, floor_plan_id=proposal.floor_plan_id, kind=ProposalKind.GENERAL, person_id=None
        )
        with pytest.raises(FieldError) as refused:
            service.update_proposal(db.session, proposal, fields)
        assert "不能改成别的业主" in refused.value.message


# ---------------------------------------------------------------- the product list and totals


def test_totals_take_decimal_quantities_and_round_each_line_to_the_fen(app, world):
    with app.app_context():
        proposal = _new_proposal(world.a, kind=ProposalKind.GENERAL)
        doors = _item(proposal, "2.5", "1980")  # 2.5 ㎡ of wall panelling
        skirting = _item(proposal, "0.35", "199.99")  # 69.9965 → 70.00
        trimmed = _item(proposal, "1.333", "10")  # quantities keep two decimals
        assert doors.amount == Decimal("4950.00")
        assert skirting.amount == Decimal("70.00")
        assert trimmed.quantity == Decimal("1.33") and trimmed.amount == Decimal("13.30")
        assert proposal.total == Decimal("5033.30")
        from_catalog = service.add_item(
            db.session, proposal, service.ItemFields(product_id=world.a.product_id, quantity="1,000")
        )
        assert (from_catalog.name, from_catalog.unit, from_catalog.unit_price) == (
            world.a.product_name,
            "樘",
            Decimal("1980.00"),
        )
        assert from_catalog.amount == Decimal("1980000.00")
        service.delete_item(db.session, from_catalog)
        assert proposal.total == Decimal("5033.30")


@pytest.mark.parametrize(
    ("quantity", "unit_price", "field", "message"),
    [
        ("0", "100", "quantity", "数量须大于 0"),
        ("-1", "100", "quantity", "数量须大于 0"),
        ("", "100", "quantity", "请填写数量"),
        ("两樘", "100", "quantity", "数量须是数字"),
        ("1", "-0.01", "unit_price", "单价不能为负数"),
        ("1", "", "unit_price", "请填写单价"),
        ("1", "NaN", "unit_price", "单价须是数字"),
    ],
)
def test_bad_lines_are_refused_in_chinese_and_nothing_is_saved(app, world, quantity, unit_price, field, message):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        before = _item_count()
        with pytest.raises(FieldError) as refused:
            _item(proposal, quantity, unit_price)
        assert (refused.value.field, refused.value.message) == (field, message)
        item = db.session.get(ProposalItem, world.a.proposal_item_id)
        with pytest.raises(FieldError):
            service.update_item(
                db.session, item, service.ItemFields(name="木门", quantity=quantity, unit_price=unit_price)
            )
        db.session.rollback()
        assert _item_count() == before
        item = db.session.get(ProposalItem, world.a.proposal_item_id)
        assert (item.quantity, item.unit_price) == (Decimal("3.00"), Decimal("1980.00"))


def test_group_price_is_the_list_total_at_the_tier_reached(app, world):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        today = date(2026, 11, 25)
        price = queries.group_price(db.session, proposal, today)
        assert price.tier is None and price.price == Decimal("5940.00")  # no deposits yet: list price
        assert price.next_tier_label == "88折" and price.status.to_next_tier == 10
        db.session.add(
            GroupMetric(dealer_id=world.a.dealer_id, group_id=world.a.group_id, day=date(2026, 11, 21), deposits=12)
        )
        db.session.flush()
        price = queries.group_price(db.session, proposal, today)
        assert price.tier_label == "88折" and price.status.deposits == 12
        assert price.price == Decimal("5227.20") and price.saving == Decimal("712.80")
        other = _new_proposal(world.b, kind=ProposalKind.GENERAL)
        db.session.delete(db.session.get(Proposal, world.b.proposal_id))
        db.session.delete(db.session.get(GroupOffer, world.b.offer_id))
        db.session.flush()
        assert queries.group_price(db.session, other, today) is None


# ---------------------------------------------------------------- images


def test_uploaded_images_are_checked_before_anything_is_stored(app, world):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        folder = upload_root() / f"proposals/{world.a.dealer_id}"
        fake = FileStorage(io.BytesIO(b"just some text"), filename="room.jpg", content_type="image/jpeg")
        with pytest.raises(FieldError) as refused:
            service.add_uploaded_image(db.session, proposal, fake)
        assert refused.value.field == "image" and "无法识别的图片" in refused.value.message
        assert not folder.exists() or not any(folder.iterdir())
        with pytest.raises(FieldError) as missing:
            service.add_uploaded_image(db.session, proposal, FileStorage(io.BytesIO(b""), filename=""))
        assert "请选择或拍摄一张图片" in missing.value.message

        while len(proposal.images) < service.MAX_IMAGES:
            service.add_uploaded_image(db.session, proposal, FileStorage(io.BytesIO(png_bytes()), filename="r.png"))
        stored = sorted(folder.iterdir())
        with pytest.raises(FieldError) as full:
            service.add_uploaded_image(db.session, proposal, FileStorage(io.BytesIO(png_bytes()), filename="r.png"))
        assert "最多 12 张图片" in full.value.message
        assert sorted(folder.iterdir()) == stored  # the refused one left no file
        assert [image.position for image in proposal.images] == list(range(service.MAX_IMAGES))
        assert len(service.image_paths(proposal)) == service.MAX_IMAGES
        assert db.session.scalar(sa.select(sa.func.count(ProposalImage.id))) >= service.MAX_IMAGES


# ---------------------------------------------------------------- neighbours' flaws


def test_a_flaw_is_resolved_once_with_a_note_by_the_designer(app, world):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        designer, assistant = _user(world.a, Role.DESIGNER), _user(world.a, Role.ASSISTANT)
        flaw = db.session.get(ProposalComment, world.a.comment_id)
        remark = service.add_staff_comment(db.session, proposal, assistant, "", "颜色挺好看")
        assert [c.id for c in proposal.open_flaws] == [flaw.id]
        assert not service.can_dismiss_comment(assistant, flaw)  # an open flaw does not vanish unseen
        assert service.can_dismiss_comment(designer, flaw) and service.can_dismiss_comment(assistant, remark)

        with pytest.raises(FieldError) as not_a_flaw:
            service.resolve_flaw(db.session, remark, designer, "好的")
        assert "没有标记为瑕疵" in not_a_flaw.value.message
        with pytest.raises(FieldError) as no_note:
            service.resolve_flaw(db.session, flaw, designer, "   ")
        assert (no_note.value.field, no_note.value.message) == ("resolution", "请写明怎么处理的")
        service.resolve_flaw(db.session, flaw, designer, "衣柜改到靠墙一侧")
        assert proposal.open_flaws == [] and flaw.resolved_by_id == designer.id
        assert service.can_dismiss_comment(assistant, flaw)
        with pytest.raises(FieldError) as twice:
            service.resolve_flaw(db.session, flaw, designer, "再改")
        assert "已经处理过了" in twice.value.message

        service.mark_flaw(db.session, flaw, False)  # unmarking forgets the resolution
        assert (flaw.resolved_at, flaw.resolution) == (None, "")
        service.mark_flaw(db.session, remark, True)
        assert [c.id for c in proposal.open_flaws] == [remark.id]
        with pytest.raises(FieldError) as empty:
            service.add_staff_comment(db.session, proposal, assistant, "刘姐", "  ")
        assert "请填写评论内容" in empty.value.message


# ---------------------------------------------------------------- reads


def test_lists_count_images_and_open_flaws_and_filter(app, world):
    with app.app_context():
        general = _new_proposal(world.a, kind=ProposalKind.GENERAL, title="通用北欧", style="北欧")
        lines = {
            line.proposal.id: line
            for line in queries.proposal_lines(db.session, [general, db.session.get(Proposal, world.a.proposal_id)])
        }
        assert (lines[world.a.proposal_id].image_count, lines[world.a.proposal_id].open_flaw_count) == (1, 1)
        assert (lines[general.id].image_count, lines[general.id].open_flaw_count) == (0, 0)

        def ids(**args):
            query = queries.proposals_query(queries.ProposalFilters.from_args(args))
            return {p.id for p in db.session.scalars(query)} & {general.id, world.a.proposal_id}

        assert ids() == {general.id, world.a.proposal_id}
        assert ids(kind="general") == {general.id}
        assert ids(style="北欧") == {general.id}
        assert ids(flaws="1") == {world.a.proposal_id}
        assert ids(estate_id=str(world.a.estate_id), kind="bogus") == {general.id, world.a.proposal_id}
        assert "北欧" in queries.style_choices(db.session)

        plans = queries.estate_proposals(db.session, db.session.get(Estate, world.a.estate_id))
        assert [entry.floor_plan.id for entry in plans] == [world.a.floor_plan_id]
        assert [line.proposal.title for line in plans[0].lines] == ["通用北欧", world.a.proposal_title]


def test_share_page_comments_keep_their_source(app, world):
    with app.app_context():
        proposal = db.session.get(Proposal, world.a.proposal_id)
        comment = service.add_share_comment(
            db.session, proposal, "9栋王哥", "门的颜色偏暗", True, service.visitor_key("1.2.3.4")
        )
        assert comment.source == CommentSource.SHARE_PAGE and comment.entered_by_id is None
        assert len(proposal.open_flaws) == 2
