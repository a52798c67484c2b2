"""Reading the audit trail. Dealer scoping applies: a dealer lead sees their dealer's entries only."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.audit.models import AuditEntry
from crm.audit.service import audited_models, entity_labels
from crm.core.i18n import lazy_gettext as _l

PAGE_SIZE = 50

# Column names as staff know them; anything not listed shows its column name.
FIELD_LABELS = {
    "name": _l("名称"),
    "title": _l("标题"),
    "city_id": _l("城市"),
    "district": _l("区域"),
    "address": _l("地址"),
    "households": _l("户数"),
    "delivery_date": _l("交房时间"),
    "age": _l("新盘/老盘"),
    "finish": _l("交付标准"),
    "avg_price": _l("均价"),
    "developer": _l("开发商"),
    "stage": _l("阶段"),
    "status": _l("状态"),
    "targeted_on": _l("目标日期"),
    "lat": _l("纬度"),
    "lng": _l("经度"),
    "notes": _l("备注"),
    "note": _l("备注"),
    "phone": _l("电话"),
    "wechat_id": _l("微信号"),
    "building": _l("楼栋"),
    "unit": _l("单元"),
    "room": _l("房号"),
    "kind": _l("类型"),
    "deposit_amount": _l("定金"),
    "deposit_paid_on": _l("交定日期"),
    "delivery_on": _l("送货日期"),
    "install_on": _l("安装日期"),
    "payment_terms": _l("付款方式"),
    "cancel_reason": _l("取消原因"),
    "starts_on": _l("开始日期"),
    "ends_on": _l("结束日期"),
    "period": _l("周期"),
    "scheduled_on": _l("安装日期"),
    "passed": _l("通过"),
    "step": _l("步骤"),
    "month": _l("月份"),
    "list_kind": _l("名单"),
    "category": _l("品类"),
    "orders_per_group": _l("每群基准成交"),
    "neglect_days": _l("有盘不做天数"),
    "active_days": _l("运营判定天数"),
    "conflict_radius_m": _l("同一楼盘判定距离（米）"),
    "estate_id": _l("楼盘"),
    "owner_person_id": _l("群主"),
    "operator_id": _l("负责人"),
    "source": _l("来源"),
    "competitors": _l("竞品"),
    "coord_system": _l("录入坐标系"),
    "floor_plan_id": _l("户型"),
    "needs_style": _l("风格需求"),
    "needs_budget": _l("预算"),
    "decoration_start": _l("计划装修时间"),
    "tags": _l("标签"),
    "referred_by_id": _l("推荐人"),
    "ladder_stage": _l("关系阶段"),
    "is_key_person": _l("关键人物"),
    "origin": _l("建群方式"),
    "platform": _l("平台"),
    "started_on": _l("建群日期"),
    "person_id": _l("业主"),
    "proposal_id": _l("方案"),
    "offer_id": _l("团购"),
    "discount_percent": _l("折扣（%）"),
    "tier_note": _l("档位说明"),
    "deposit_in_store": _l("到店交定"),
    "series_id": _l("合同系列"),
    "order_id": _l("订单"),
    "group_id": _l("社群"),
    "terms": _l("条款"),
    "signed_at": _l("签署时间"),
    "signed_by_id": _l("签署人"),
    "pdf_path": _l("合同文件"),
    "pdf_sha256": _l("文件校验值"),
    "accepted_at": _l("验收时间"),
    "job_id": _l("安装单"),
    "performer_user_id": _l("执行人"),
    "performer_person_id": _l("执行人（业主）"),
    "performer_name": _l("执行人姓名"),
    "checklist": _l("检查项"),
    "signature_path": _l("签名"),
    "recorded_by_id": _l("记录人"),
    "at": _l("时间"),
    "template_id": _l("阶段模板"),
    "brand_id": _l("品牌"),
}


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


def shown_value(entity: str, key: str, value) -> str:
    """A stored value as staff read it: an enum's label in the reader's language, "—" for nothing."""
    if value is None or value == "":
        return "—"
    model = next((cls for cls, spec in audited_models().items() if spec.entity == entity), None)
    column = model.__table__.columns.get(key) if model is not None else None
    enum_class = getattr(getattr(column, "type", None), "enum_class", None)
    if enum_class is not None:
        try:
            member = enum_class(value)
        except ValueError:
            return str(value)
        return str(getattr(member, "label", value))
    if value is True or value is False:
        return str(_l("是") if value else _l("否"))
    return str(value)


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def entries_page(
    session: Session, *, hq: bool, entity: str = "", entity_id: int | None = None, page: int = 1
) -> AuditPage:
    """Newest first. HQ reads its own decisions' entries; dealer leads their dealer's rows (scoping)."""
    kinds = list(entity_labels(hq))
    query = sa.select(AuditEntry).where(AuditEntry.entity.in_(kinds))
    if entity in kinds:
        query = query.where(AuditEntry.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    entries = session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return AuditPage(list(entries), page, pages, total)
