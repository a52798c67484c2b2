"""Contracts: a draft previewed live from the order, signing that freezes the PDF (stored bytes and SHA-256 that no
later edit of the order changes), revisions as new versions with old ones still downloadable, a tampered file
refused, the PDFs' text and embedded font, and the 群主合作协议 linked from the key person's page."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.orders.models import Contract, Order, OrderStatus
from crm.people.models import KeyMove, KeyPersonMove, Person
from tests.orders.helpers import set_deposits, text_of
from tests.pdf import poppler


def _contract(app, contract_id: int) -> Contract:
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        db.session.expunge(contract)
        return contract


def _pdf_text(pdf: bytes) -> str:
    return poppler.squeezed(poppler.text(pdf))


def _all_fonts_embedded_noto(pdf: bytes) -> None:
    fonts = poppler.fonts(pdf)
    assert fonts and all("Noto-Sans-SC" in f["name"] and f["emb"] == "yes" for f in fonts), fonts


def _sign(client, contract_id: int):
    response = client.post(f"/orders/contracts/{contract_id}/sign")
    assert response.status_code == 302, text_of(response)
    return response


def _newest_version(app, series_id: int) -> Contract:
    with app.app_context():
        contract = db.session.scalars(
            sa.select(Contract).where(Contract.series_id == series_id).order_by(Contract.version.desc()).limit(1)
        ).one()
        db.session.expunge(contract)
        return contract


# ---------------------------------------------------------------- the sales contract


def test_a_signed_contract_is_frozen_and_revisions_are_new_versions(app, world, login, upload_folder):
    lead = login(world.a.lead)
    consultant = login(world.a.usernames[Role.CONSULTANT])
    url = f"/orders/contracts/{world.a.contract_id}"

    draft = consultant.get(f"{url}/pdf")
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    draft_text = _pdf_text(draft.data)
    assert "草稿" in draft_text and "¥1,742.40" in draft_text

    _sign(lead, world.a.contract_id)
    v1 = _contract(app, world.a.contract_id)
    assert v1.is_signed and v1.signed_by_id == world.a.user_ids[Role.DEALER_LEAD]
    assert v1.pdf_path.startswith(f"contracts/{world.a.dealer_id}/") and v1.pdf_path.endswith(".pdf")
    stored = (Path(upload_folder) / v1.pdf_path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == v1.pdf_sha256

    signed = consultant.get(f"{url}/pdf")
    assert signed.status_code == 200 and signed.data == stored
    assert signed.headers["X-Content-SHA256"] == v1.pdf_sha256
    assert "草稿" not in _pdf_text(signed.data)
    page = text_of(consultant.get(url))
    assert v1.pdf_sha256 in page and "已签署" in page and "新建修订版" in page

    # The order changes after signing: the signed contract does not.
    edited = consultant.post(
        f"/orders/items/{world.a.order_item_id}/edit",
        data={"name": "木门", "quantity": "3", "list_price": "1980", "unit_price": "1500"},
    )
    assert edited.status_code == 302
    assert consultant.get(f"{url}/pdf").data == stored
    assert _contract(app, world.a.contract_id).pdf_sha256 == v1.pdf_sha256
    assert consultant.get(f"{url}/edit").status_code == 302  # a signed version is not edited
    refused = lead.post(f"{url}/sign")
    assert refused.status_code == 422 and "新建修订版" in text_of(refused)

    revised = consultant.post(f"{url}/revise")
    assert revised.status_code == 302
    v2 = _newest_version(app, v1.series_id)
    assert (v2.version, v2.series_id, v2.is_signed) == (2, v1.series_id, False)
    assert v2.terms == v1.terms and revised.headers["Location"].endswith(f"/orders/contracts/{v2.id}")
    assert consultant.post(f"{url}/revise").status_code == 422  # v2 exists: revise the newest

    v2_text = _pdf_text(consultant.get(f"/orders/contracts/{v2.id}/pdf").data)
    assert "¥1,500.00" in v2_text and "¥4,500.00" in v2_text and "第2版" in v2_text
    _sign(lead, v2.id)
    v2 = _contract(app, v2.id)
    assert v2.pdf_sha256 != v1.pdf_sha256
    assert "¥1,500.00" in _pdf_text(consultant.get(f"/orders/contracts/{v2.id}/pdf").data)
    assert consultant.get(f"{url}/pdf").data == stored  # v1 is still there, unchanged

    versions = text_of(consultant.get(f"/orders/contracts/{v2.id}"))
    assert "第 1 版" in versions and "第 2 版" in versions and v1.pdf_sha256[:12] in versions
    order_page = text_of(consultant.get(f"/orders/{world.a.order_id}"))
    for version_id in (world.a.contract_id, v2.id):
        assert f"/orders/contracts/{version_id}/pdf" in order_page


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_tampered_or_missing_stored_file_is_refused(app, world, login, upload_folder, damage):
    lead = login(world.a.lead)
    _sign(lead, world.a.contract_id)
    path = Path(upload_folder) / _contract(app, world.a.contract_id).pdf_path
    if damage == "changed":
        path.write_bytes(path.read_bytes().replace(b"%%EOF", b"%%EOF\n% edited"))
    else:
        path.unlink()
    response = lead.get(f"/orders/contracts/{world.a.contract_id}/pdf")
    assert response.status_code == 409 and response.mimetype == "text/html"
    assert ("SHA-256 不一致" if damage == "changed" else "找不到已签署合同的存档文件") in text_of(response)


def test_the_sales_contract_reads_like_a_contract(app, world, login):
    set_deposits(app, world.a.group_id, 12)
    consultant = login(world.a.usernames[Role.CONSULTANT])
    consultant.post(
        f"/orders/new?person_id={world.a.person_id}",
        data={
            "proposal_id": world.a.proposal_id,
            "building": "3",
            "unit": "2",
            "room": "1201",
            "deposit_amount": "500",
            "deposit_paid_on": "2026-11-30",
            "deposit_in_store": "y",
        },
    )
    with app.app_context():
        order_id = db.session.scalar(sa.select(sa.func.max(Order.id)))
    created = consultant.post(f"/orders/{order_id}/contracts")
    assert created.status_code == 302 and "/edit" in created.headers["Location"]
    with app.app_context():
        contract_id = db.session.scalar(sa.select(Contract.id).where(Contract.order_id == order_id))
    edit_url = f"/orders/contracts/{contract_id}/edit"
    form = text_of(consultant.get(edit_url))
    assert "掉漆、门皮起翘、门框变形" in form and "免费维修" in form
    saved = consultant.post(
        edit_url,
        data={
            "title": "木门销售合同",
            "payment": "定金 500 元已付，余款于安装前一次付清",
            "delivery_on": "2026-12-20",
            "install_on": "2026-12-22",
            "promises-0-years": "5",
            "promises-0-item": "掉漆、门皮起翘、门框变形",
            "promises-0-remedy": "免费维修",
            "promises-1-years": "2",
            "promises-1-item": "五金件损坏",
            "promises-1-remedy": "免费更换",
            "standard": "本合同一式两份，双方各执一份。",
        },
    )
    assert saved.status_code == 302
    again = consultant.post(edit_url, data={"title": "木门销售合同", "payment": "x", "promises-0-item": "漏水"})
    assert again.status_code == 422 and "服务承诺第 1 行" in text_of(again)
    assert consultant.post(f"/orders/{order_id}/contracts").status_code == 422  # one series per order

    _sign(login(world.a.lead), contract_id)
    pdf = consultant.get(f"/orders/contracts/{contract_id}/pdf").data
    assert poppler.page_size_mm(pdf) == (210.0, 297.0)
    text = _pdf_text(pdf)
    for expected in (
        "木门销售合同",
        f"XS-{contract_id:06d}",
        "买方（甲方）",
        "卖方（乙方）",
        world.a.person_name,
        world.a.estate_name,
        "3-2-1201",
        world.a.dealer_name,
        world.a.store_name,
        "测试路1号",
        world.a.product_name,
        "M-01",
        "胡桃色",
        "¥1,980.00",
        "¥1,742.40",
        "原价合计¥5,940.00",
        "合同总价¥5,227.20",
        "人民币伍仟贰佰贰拾柒元贰角整",
        "88折",
        "定金500元已付，余款于安装前一次付清",
        "甲方已付定金¥500.00（2026-11-30，到店交定）；余款¥4,727.20。",
        "送货日期：2026-12-20",
        "安装日期：2026-12-22",
        "1.5年内掉漆、门皮起翘、门框变形：免费维修",
        "2.2年内五金件损坏：免费更换",
        "本合同一式两份，双方各执一份。",
        "甲方（签字）",
        "乙方（盖章）",
        "代表（签字）",
        "日期",
    ):
        assert poppler.squeezed(expected) in text, expected
    assert "草稿" not in text and poppler.squeezed(world.a.person_phone) not in text
    for marker in world.b.markers():
        assert poppler.squeezed(marker) not in text, marker
    _all_fonts_embedded_noto(pdf)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == OrderStatus.SIGNED  # signing the sales contract is the 签约 step
        assert order.changes[-1].by_id == world.a.user_ids[Role.DEALER_LEAD]


def test_a_draft_can_be_deleted_but_a_signed_version_cannot(app, world, login):
    lead = login(world.a.lead)
    url = f"/orders/contracts/{world.a.contract_id}"
    assert login(world.a.usernames[Role.INSTALLER]).post(f"{url}/delete").status_code == 403
    _sign(lead, world.a.contract_id)
    refused = lead.post(f"{url}/delete")
    assert refused.status_code == 422 and "已冻结" in text_of(refused)
    lead.post(f"{url}/revise")
    v2 = _newest_version(app, world.a.contract_id)
    deleted = lead.post(f"/orders/contracts/{v2.id}/delete")
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith(url)
    with app.app_context():
        assert db.session.get(Contract, v2.id) is None and db.session.get(Contract, world.a.contract_id) is not None


# ---------------------------------------------------------------- the 群主合作协议


def test_a_cooperation_contract_for_a_key_person_is_signed_and_linked_from_their_page(app, world, login):
    lead = login(world.a.lead)
    operator = login(world.a.usernames[Role.OPERATOR])
    new_url = f"/orders/contracts/new?person_id={world.a.person_id}"
    data = {
        "title": "群主合作协议",
        "group_id": world.a.group_id,
        "starts_on": "2026-12-01",
        "ends_on": "2027-05-31",
        "results-0-result": "群成员达到 300 人",
        "results-0-reward": "智能门锁一套",
        "results-1-result": "交定 20 户",
        "results-1-reward": "现金奖励 2000 元",
        "standard": "约定结果以系统记录为准。",
    }
    refused = operator.post(new_url, data=data)
    assert refused.status_code == 422 and "只与关键人物签订" in text_of(refused)
    with app.app_context():
        db.session.get(Person, world.a.person_id).is_key_person = True
        db.session.commit()
    form = operator.get(new_url)
    assert form.status_code == 200 and world.a.group_name in text_of(form)
    refused = operator.post(new_url, data=data | {"group_id": world.b.group_id})
    assert refused.status_code == 422 and "请选择这位关键人物所在的社群" in text_of(refused)
    refused = operator.post(new_url, data=data | {"results-1-reward": ""})
    assert refused.status_code == 422 and "约定结果第 2 行" in text_of(refused)
    created = operator.post(new_url, data=data)
    assert created.status_code == 302
    with app.app_context():
        contract_id = db.session.scalar(sa.select(sa.func.max(Contract.id)))

    person_page = text_of(operator.get(f"/people/{world.a.person_id}"))
    assert "群主合作协议" in person_page and f"/orders/contracts/{contract_id}" in person_page
    assert f"/orders/contracts/{world.a.cooperation_contract_id}" in person_page  # the world's draft too
    assert f"/orders/contracts/new?person_id={world.a.person_id}" in person_page

    _sign(lead, contract_id)
    pdf = operator.get(f"/orders/contracts/{contract_id}/pdf").data
    text = _pdf_text(pdf)
    for expected in (
        "群主合作协议",
        f"HZ-{contract_id:06d}",
        "乙方（关键人物）",
        world.a.person_name,
        world.a.group_name,
        world.a.estate_name,
        world.a.dealer_name,
        world.a.store_name,
        "1群成员达到300人智能门锁一套",
        "2交定20户现金奖励2000元",
        "自2026-12-01起至2027-05-31止。",
        "约定结果以系统记录为准。",
        "甲方（盖章）",
        "乙方（签字）",
        "日期",
    ):
        assert poppler.squeezed(expected) in text, expected
    assert "草稿" not in text and poppler.squeezed(world.a.person_phone) not in text
    _all_fonts_embedded_noto(pdf)
    assert poppler.page_size_mm(pdf) == (210.0, 297.0)
    with app.app_context():
        move = db.session.scalars(
            sa.select(KeyPersonMove).where(
                KeyPersonMove.person_id == world.a.person_id, KeyPersonMove.move == KeyMove.CONTRACT
            )
        ).one()
        assert move.done_by_id == world.a.user_ids[Role.DEALER_LEAD] and "第 1 版已签署" in move.note
    person_page = text_of(operator.get(f"/people/{world.a.person_id}"))
    assert f"/orders/contracts/{contract_id}/pdf" in person_page and "已签署" in person_page


def test_the_people_page_shows_no_contracts_to_roles_that_may_not_see_them(world, login):
    page = text_of(login(world.a.usernames[Role.INSTALLER]).get(f"/people/{world.a.person_id}"))
    assert "/orders/contracts/" not in page
