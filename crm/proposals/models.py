"""Design proposals (方案) per floor plan: general ones by style, personal ones for one owner, their images
and product lists, the owner's consent, the public share link, and neighbours' review (comments, flaws)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime, enum_type, utcnow
from crm.extensions import db
from crm.offers.models import MONEY

STYLES = ("现代简约", "新中式", "北欧", "轻奢", "原木", "法式", "奶油风", "工业风")


class ProposalKind(StrEnum):
    GENERAL = "general"
    PERSONAL = "personal"

    @property
    def label(self) -> str:
        return str({ProposalKind.GENERAL: _l("通用方案"), ProposalKind.PERSONAL: _l("个性方案")}[self])


class ConsentChannel(StrEnum):
    IN_STORE = "in_store"
    WECHAT = "wechat"
    PHONE = "phone"
    PAPER = "paper"

    @property
    def label(self) -> str:
        return str(
            {
                ConsentChannel.IN_STORE: _l("到店当面同意"),
                ConsentChannel.WECHAT: _l("微信文字/语音同意"),
                ConsentChannel.PHONE: _l("电话同意"),
                ConsentChannel.PAPER: _l("书面签字"),
            }[self]
        )


class Proposal(DealerOwned, TimestampMixin, db.Model):
    """One design for one floor plan of an estate; shared with the group through an unguessable link."""

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    floor_plan_id: Mapped[int] = mapped_column(sa.ForeignKey("floor_plan.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ProposalKind] = mapped_column(enum_type(ProposalKind, 10), default=ProposalKind.GENERAL)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    designer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(100))
    style: Mapped[str] = mapped_column(sa.String(20), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The share page: a random token; revoking keeps the token so the old link says it was withdrawn.
    share_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    share_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    view_count: Mapped[int] = mapped_column(default=0)

    estate: Mapped[Estate] = relationship()  # noqa: F821
    floor_plan: Mapped[FloorPlan] = relationship()  # noqa: F821
    person: Mapped[Person | None] = relationship()  # noqa: F821
    designer: Mapped[User | None] = relationship()  # noqa: F821
    images: Mapped[list[ProposalImage]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalImage.position"
    )
    items: Mapped[list[ProposalItem]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalItem.position"
    )
    consents: Mapped[list[ProposalConsent]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalConsent.id"
    )
    comments: Mapped[list[ProposalComment]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalComment.id"
    )

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0"))

    @property
    def consent(self) -> ProposalConsent | None:
        """The owner's standing consent (the latest record, if it was not withdrawn)."""
        latest = self.consents[-1] if self.consents else None
        return latest if latest and latest.withdrawn_at is None else None

    @property
    def is_shared(self) -> bool:
        """Whether the share link shows the proposal right now."""
        if self.share_token is None or self.share_revoked_at is not None:
            return False
        return self.kind == ProposalKind.GENERAL or self.consent is not None

    @property
    def open_flaws(self) -> list[ProposalComment]:
        return [c for c in self.comments if c.is_flaw and c.resolved_at is None]


class ProposalImage(DealerOwned, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(sa.String(255))
    caption: Mapped[str] = mapped_column(sa.String(100), default="")
    position: Mapped[int] = mapped_column(default=0)

    proposal: Mapped[Proposal] = relationship(back_populates="images")


class ProposalItem(DealerOwned, db.Model):
    """A line of the product list: a door or a cabinet with model, colour, quantity and unit price."""

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    model: Mapped[str] = mapped_column(sa.String(50), default="")
    colour: Mapped[str] = mapped_column(sa.String(50), default="")
    unit: Mapped[str] = mapped_column(sa.String(10), default="件")
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)

    proposal: Mapped[Proposal] = relationship(back_populates="items")
    product: Mapped[Product | None] = relationship()  # noqa: F821

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class ProposalConsent(DealerOwned, db.Model):
    """The owner agreed (who recorded it, when, how) that their design may be shown to the group; or withdrew."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    channel: Mapped[ConsentChannel] = mapped_column(enum_type(ConsentChannel, 10))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    withdrawal_note: Mapped[str] = mapped_column(sa.String(200), default="")

    proposal: Mapped[Proposal] = relationship(back_populates="consents")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])  # noqa: F821
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])  # noqa: F821


class CommentSource(StrEnum):
    STAFF = "staff"  # typed in by staff from the group's discussion
    SHARE_PAGE = "share_page"  # left on the public share page with a nickname

    @property
    def label(self) -> str:
        return str({CommentSource.STAFF: _l("群内讨论（员工录入）"), CommentSource.SHARE_PAGE: _l("分享页留言")}[self])


class ProposalComment(DealerOwned, db.Model):
    """A neighbour's remark on a proposal; a flaw (瑕疵) stays open until the designer resolves it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    source: Mapped[CommentSource] = mapped_column(enum_type(CommentSource, 12))
    nickname: Mapped[str] = mapped_column(sa.String(30), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    is_flaw: Mapped[bool] = mapped_column(default=False)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # For rate-limiting the share page only: a salted daily hash, never the address itself.
    client_key: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(sa.String(500), default="")

    proposal: Mapped[Proposal] = relationship(back_populates="comments")
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])  # noqa: F821
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])  # noqa: F821
