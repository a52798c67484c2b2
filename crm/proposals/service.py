"""Writes for design proposals: the proposal, its product list and images, the owner's consent, the share
link, and neighbours' comments and flaws. Functions only flush; the request commits once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.models import local_today, utcnow
from crm.core.roles import Permission, has_permission
from crm.core.uploads import UploadError, delete_upload, save_image
from crm.core.validation import FieldError
from crm.estates.models import Estate, FloorPlan
from crm.offers.models import Product
from crm.org.models import User
from crm.people.models import Person
from crm.proposals.models import (
    STYLES,
    CommentSource,
    ConsentChannel,
    Proposal,
    ProposalComment,
    ProposalConsent,
    ProposalImage,
    ProposalItem,
    ProposalKind,
)

MAX_IMAGES = 12
MAX_ITEMS = 60
MAX_COMMENT_CHARS = 500
# The public share page: at most this many comments per visitor per window, and per proposal per window.
COMMENT_WINDOW = timedelta(minutes=10)
COMMENTS_PER_VISITOR = 3
COMMENTS_PER_PROPOSAL = 30


class RateLimited(FieldError):
    """Too many comments from one visitor or on one proposal in a short time (HTTP 429)."""


@dataclass
class ProposalFields:
    title: str
    floor_plan_id: int | None
    kind: ProposalKind = ProposalKind.GENERAL
    style: str = ""
    description: str = ""
    person_id: int | None = None
    designer_id: int | None = None


def _apply(session: Session, proposal: Proposal, estate: Estate, fields: ProposalFields) -> None:
    title = (fields.title or "").strip()
    if not title:
        raise FieldError("title", _("请填写方案标题"))
    plan = session.get(FloorPlan, fields.floor_plan_id) if fields.floor_plan_id else None
    if plan is None or plan.estate_id != estate.id:
        raise FieldError("floor_plan_id", _("请选择这个楼盘的户型"))
    kind = ProposalKind(fields.kind)
    person = None
    if kind == ProposalKind.PERSONAL:
        person = session.get(Person, fields.person_id) if fields.person_id else None
        if person is None or person.dealer_id != estate.dealer_id:
            raise FieldError("person_id", _("个性方案须选择本店登记过的业主"))
    style = (fields.style or "").strip()
    if style and len(style) > 20:
        raise FieldError("style", _("风格不能超过 20 个字"))
    if fields.designer_id:
        designer = session.get(User, fields.designer_id)
        if designer is None or designer.dealer_id != estate.dealer_id:
            raise FieldError("designer_id", _("设计师须是本店的账号"))
    if proposal.person_id != (person.id if person else None) and proposal.consents:
        # consent was given by one owner for one design: another owner's needs their own
        raise FieldError("person_id", _("已记录业主同意的方案不能改成别的业主；请新建一个方案"))
    proposal.title = title[:100]
    proposal.floor_plan_id = plan.id
    proposal.kind = kind
    proposal.person_id = person.id if person else None
    proposal.style = style
    proposal.description = (fields.description or "").strip()
    proposal.designer_id = fields.designer_id or None


def create_proposal(session: Session, estate: Estate, fields: ProposalFields) -> Proposal:
    proposal = Proposal(dealer_id=estate.dealer_id, estate_id=estate.id)
    _apply(session, proposal, estate, fields)
    session.add(proposal)
    session.flush()
    return proposal


def update_proposal(session: Session, proposal: Proposal, fields: ProposalFields) -> Proposal:
    _apply(session, proposal, proposal.estate, fields)
    session.flush()
    return proposal


def delete_proposal(session: Session, proposal: Proposal) -> None:
    session.delete(proposal)
    session.flush()


# --- images ---------------------------------------------------------------------------------


def add_image(session: Session, proposal: Proposal, path: str, caption: str = "") -> ProposalImage:
    """Attach an already verified and stored image (see crm.core.uploads.save_image)."""
    if len(proposal.images) >= MAX_IMAGES:
        raise FieldError("image", _("每个方案最多 %(n)d 张图片", n=MAX_IMAGES))
    position = max((image.position for image in proposal.images), default=-1) + 1
    image = ProposalImage(
        dealer_id=proposal.dealer_id, path=path, caption=(caption or "").strip()[:100], position=position
    )
    proposal.images.append(image)
    session.flush()
    return image


def remove_image(session: Session, image: ProposalImage) -> str:
    """Detach an image; return its stored path so the caller can delete the file after commit."""
    path = image.path
    if image in image.proposal.images:  # keep the loaded list true for the rest of the request
        image.proposal.images.remove(image)
    session.delete(image)
    session.flush()
    return path


# --- the product list -----------------------------------------------------------------------


@dataclass
class ItemFields:
    name: str = ""
    quantity: Decimal | str | None = None
    unit_price: Decimal | str | None = None
    product_id: int | None = None
    model: str = ""
    colour: str = ""
    unit: str = ""


def _decimal(value, field: str, message: str) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except (InvalidOperation, ValueError):
        raise FieldError(field, message) from None
    if not number.is_finite():
        raise FieldError(field, message)
    return number


def _item_values(session: Session, proposal: Proposal, fields: ItemFields) -> dict:
    product = None
    if fields.product_id:
        product = session.get(Product, fields.product_id)
        if product is None or product.dealer_id != proposal.dealer_id:
            raise FieldError("product_id", _("请选择本店的产品"))
    name = (fields.name or "").strip() or (product.name if product else "")
    if not name:
        raise FieldError("name", _("请填写产品名称或从产品库选择"))
    if fields.quantity in (None, ""):
        raise FieldError("quantity", _("请填写数量"))
    quantity = _decimal(fields.quantity, "quantity", _("数量须是数字"))
    if quantity <= 0 or quantity >= Decimal("100000"):
        raise FieldError("quantity", _("数量须大于 0"))
    if fields.unit_price in (None, "") and product is None:
        raise FieldError("unit_price", _("请填写单价"))
    price = (
        product.unit_price
        if fields.unit_price in (None, "")
        else _decimal(fields.unit_price, "unit_price", _("单价须是数字"))
    )
    if price < 0 or price >= Decimal("10000000"):
        raise FieldError("unit_price", _("单价不能为负数"))
    return {
        "product_id": product.id if product else None,
        "name": name[:100],
        "model": ((fields.model or "").strip() or (product.model if product else ""))[:50],
        "colour": ((fields.colour or "").strip() or (product.colour if product else ""))[:50],
        "unit": ((fields.unit or "").strip() or (product.unit if product else "件"))[:10],
        "quantity": quantity.quantize(Decimal("0.01")),
        "unit_price": price.quantize(Decimal("0.01")),
    }


def add_item(session: Session, proposal: Proposal, fields: ItemFields) -> ProposalItem:
    if len(proposal.items) >= MAX_ITEMS:
        raise FieldError("", _("每个方案最多 %(n)d 项产品", n=MAX_ITEMS))
    position = max((item.position for item in proposal.items), default=-1) + 1
    item = ProposalItem(dealer_id=proposal.dealer_id, position=position, **_item_values(session, proposal, fields))
    proposal.items.append(item)
    session.flush()
    return item


def update_item(session: Session, item: ProposalItem, fields: ItemFields) -> ProposalItem:
    for key, value in _item_values(session, item.proposal, fields).items():
        setattr(item, key, value)
    session.flush()
    return item


def delete_item(session: Session, item: ProposalItem) -> None:
    if item in item.proposal.items:  # keep the loaded list (and the total) true for the rest of the request
        item.proposal.items.remove(item)
    session.delete(item)
    session.flush()


# --- consent and the share link ---------------------------------------------------------------


def record_consent(session: Session, proposal: Proposal, user: User, channel: ConsentChannel, note: str = "") -> None:
    """The owner agreed that their personal design may be shown to the group."""
    if proposal.kind != ProposalKind.PERSONAL:
        raise FieldError("", _("通用方案不需要业主同意"))
    if proposal.consent is not None:
        raise FieldError("", _("已经记录过业主同意"))
    proposal.consents.append(
        ProposalConsent(
            dealer_id=proposal.dealer_id,
            channel=ConsentChannel(channel),
            note=(note or "").strip()[:200],
            recorded_by_id=user.id,
        )
    )
    session.flush()


def withdraw_consent(session: Session, proposal: Proposal, user: User, note: str = "") -> None:
    """The owner changed their mind: the share page stops showing the design at once."""
    consent = proposal.consent
    if consent is None:
        raise FieldError("", _("没有可撤回的同意"))
    consent.withdrawn_at, consent.withdrawn_by_id = utcnow(), user.id
    consent.withdrawal_note = (note or "").strip()[:200]
    session.flush()


def publish_share(session: Session, proposal: Proposal) -> str:
    """Make (or bring back) the public share page; return its token."""
    if proposal.kind == ProposalKind.PERSONAL and proposal.consent is None:
        raise FieldError("", _("个性方案须先记录业主同意，才能分享到群里"))
    if not proposal.images and not proposal.items:
        raise FieldError("", _("方案还没有图片和产品清单，分享出去邻居看不到内容"))
    if proposal.share_token is None or proposal.share_revoked_at is not None:
        # A revoked link stays dead: publishing again makes a new one.
        proposal.share_token = secrets.token_urlsafe(24)
        proposal.share_revoked_at = None
        proposal.shared_at = utcnow()
        proposal.view_count = 0
    session.flush()
    return proposal.share_token


def revoke_share(session: Session, proposal: Proposal) -> None:
    if proposal.share_token is None or proposal.share_revoked_at is not None:
        raise FieldError("", _("这个方案没有在分享"))
    proposal.share_revoked_at = utcnow()
    session.flush()


def shared_proposal(session: Session, token: str) -> Proposal | None:
    """The proposal a share link names, whatever its state (the caller checks `is_shared`)."""
    if not token or len(token) > 64:
        return None
    return session.scalar(sa.select(Proposal).where(Proposal.share_token == token))


def count_view(session: Session, proposal: Proposal) -> None:
    """One more view of the share page: a counter only, nothing about the viewer is kept.

    Anonymous requests see no dealer rows: call it inside crm.core.scoping.unscoped().
    """
    session.execute(
        sa.update(Proposal)
        .where(Proposal.id == proposal.id)
        .values(view_count=Proposal.view_count + 1)
        .execution_options(synchronize_session=False)
    )


# --- neighbours' review -----------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise FieldError("body", _("请填写评论内容"))
    if len(body) > MAX_COMMENT_CHARS:
        raise FieldError("body", _("评论不能超过 %(n)d 字", n=MAX_COMMENT_CHARS))
    return body


def add_staff_comment(
    session: Session, proposal: Proposal, user: User, nickname: str, body: str, is_flaw: bool = False
) -> ProposalComment:
    """A remark from the group's discussion, typed in by staff (the neighbour's group nickname, optional)."""
    comment = ProposalComment(
        dealer_id=proposal.dealer_id,
        source=CommentSource.STAFF,
        nickname=(nickname or "").strip()[:30],
        body=_clean_body(body),
        is_flaw=bool(is_flaw),
        entered_by_id=user.id,
    )
    proposal.comments.append(comment)
    session.flush()
    return comment


def visitor_key(remote_addr: str | None) -> str:
    """A salted hash of the visitor's address that changes every day: enough to rate-limit, useless to track."""
    salt = f"{current_app.config['SECRET_KEY']}:{local_today().isoformat()}"
    return hashlib.sha256(f"{salt}:{remote_addr or ''}".encode()).hexdigest()


def add_share_comment(
    session: Session, proposal: Proposal, nickname: str, body: str, is_flaw: bool, client_key: str
) -> ProposalComment:
    """A neighbour's comment left on the share page, rate-limited per visitor and per proposal.

    Anonymous requests see no dealer rows: call it inside crm.core.scoping.unscoped(), or the limits count nothing.
    """
    if not proposal.is_shared:
        raise FieldError("", _("这个方案已不再分享"))
    nickname = (nickname or "").strip()
    if not nickname:
        raise FieldError("nickname", _("请填写昵称（如 8栋-三室-刘姐）"))
    if len(nickname) > 30:
        raise FieldError("nickname", _("昵称不能超过 30 个字"))
    body = _clean_body(body)
    since = utcnow() - COMMENT_WINDOW
    recent = sa.select(sa.func.count(ProposalComment.id)).where(
        ProposalComment.proposal_id == proposal.id,
        ProposalComment.source == CommentSource.SHARE_PAGE,
        ProposalComment.created_at >= since,
    )
    if session.scalar(recent.where(ProposalComment.client_key == client_key)) >= COMMENTS_PER_VISITOR:
        raise RateLimited("body", _("留言太频繁了，请 10 分钟后再试"))
    if session.scalar(recent) >= COMMENTS_PER_PROPOSAL:
        raise RateLimited("body", _("这个方案的留言太多了，请稍后再试"))
    comment = ProposalComment(
        dealer_id=proposal.dealer_id,
        proposal_id=proposal.id,
        source=CommentSource.SHARE_PAGE,
        nickname=nickname,
        body=body,
        is_flaw=bool(is_flaw),
        client_key=client_key,
    )
    session.add(comment)
    session.flush()
    return comment


def mark_flaw(session: Session, comment: ProposalComment, is_flaw: bool) -> None:
    comment.is_flaw = bool(is_flaw)
    if not is_flaw:
        comment.resolved_at = comment.resolved_by_id = None
        comment.resolution = ""
    session.flush()


def resolve_flaw(session: Session, comment: ProposalComment, user: User, resolution: str) -> None:
    """The designer fixed (or answered) a flaw a neighbour found, and says how."""
    if not comment.is_flaw:
        raise FieldError("", _("这条评论没有标记为瑕疵"))
    if comment.resolved_at is not None:
        raise FieldError("", _("这个瑕疵已经处理过了"))
    resolution = (resolution or "").strip()
    if not resolution:
        raise FieldError("resolution", _("请写明怎么处理的"))
    comment.resolved_at, comment.resolved_by_id, comment.resolution = utcnow(), user.id, resolution[:500]
    session.flush()


def delete_comment(session: Session, comment: ProposalComment) -> None:
    if comment in comment.proposal.comments:  # keep the loaded list (and open flaws) true
        comment.proposal.comments.remove(comment)
    session.delete(comment)
    session.flush()


def styles() -> tuple[str, ...]:
    return STYLES


# --- helpers for the staff pages --------------------------------------------------------------


def add_uploaded_image(session: Session, proposal: Proposal, file_storage, caption: str = "") -> ProposalImage:
    """Verify, strip and store an uploaded photo, then attach it; a refused upload leaves no file behind."""
    if len(proposal.images) >= MAX_IMAGES:  # before storing anything
        raise FieldError("image", _("每个方案最多 %(n)d 张图片", n=MAX_IMAGES))
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise FieldError("image", _("请选择或拍摄一张图片"))
    try:
        path = save_image(file_storage, f"proposals/{proposal.dealer_id}")
    except UploadError as error:
        raise FieldError("image", str(error)) from None
    try:
        return add_image(session, proposal, path, caption)
    except Exception:
        delete_upload(path)
        raise


def image_paths(proposal: Proposal) -> list[str]:
    """The stored files of a proposal's images (to delete once the proposal is gone)."""
    return [image.path for image in proposal.images]


def can_dismiss_comment(user: User, comment: ProposalComment) -> bool:
    """An open flaw may only be unmarked or deleted by someone who resolves flaws, so none vanishes unseen."""
    if comment.is_flaw and comment.resolved_at is None:
        return has_permission(user, Permission.RESOLVE_FLAWS)
    return has_permission(user, Permission.REVIEW_PROPOSALS)
