"""On a tablet, the dealer lead takes an installation through the five steps: a photo from the camera input, one
failed checklist item (a defect, its fix with a photo, the step again), and the owner's signature drawn on the
screen; the job ends 已验收 with the warranty running, and the signature is stored as a real PNG."""

from __future__ import annotations

import os
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from crm.core.roles import Role
from crm.core.uploads import upload_root
from crm.extensions import db
from crm.installs.models import InspectionAttempt, InstallationJob, JobStatus, Step
from crm.installs.service import has_ink, person_label
from crm.orders.models import OrderStatus
from tests.conftest import TEST_PASSWORD
from tests.factories import png_bytes
from tests.installs.helpers import make_job, make_order, neighbour

pytestmark = pytest.mark.browser


def _png_file(name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes(320, 240, (90, 120, 160))}


def _submit(page, step: int) -> None:
    page.locator("#record").get_by_role("button", name=f"提交第 {step} 步结果").click()
    page.wait_for_load_state("load")


def test_lead_takes_an_installation_through_the_five_steps(app, world, live_server, page):
    with app.app_context():
        job = make_job(world.a, make_order(world.a), scheduled_on=date(2027, 3, 8))
        person = neighbour(world.a)
        db.session.commit()
        job_id, neighbour_option = job.id, person_label(person)
        db.session.close()

    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")

    page.goto(f"{live_server}/installs/")
    page.get_by_role("link", name="2027-03-08").click()
    expect(page).to_have_url(f"{live_server}/installs/{job_id}")
    expect(page.locator('.stepper [data-step="1"]')).to_have_attribute("data-state", "next")

    # Step 1: the installer's self-check, everything 合格, with a photo from the tablet's camera input.
    record = page.locator("#record")
    expect(record.get_by_role("heading")).to_contain_text("安装工按标准自检")
    expect(record.get_by_label("自检安装工")).to_have_value(str(world.a.user_ids[Role.INSTALLER]))
    for height in record.locator(".btn, .toggle label").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    ):
        assert height >= 44  # finger-sized
    photos = record.get_by_label("现场照片")
    assert photos.get_attribute("capture") == "environment"
    record.get_by_role("button", name="全部合格").click()
    photos.set_input_files([_png_file("door.png")])
    record.get_by_label("照片说明").fill("入户门")
    _submit(page, 1)
    expect(page.get_by_text("第 1 步“安装工按标准自检”已通过")).to_be_visible()
    expect(page.locator('.stepper [data-step="1"]')).to_have_attribute("data-state", "passed")
    expect(page.locator("#history .photo-strip img").first).to_be_visible()

    # Step 2: the spot check finds the gap uneven.
    record = page.locator("#record")
    expect(record.get_by_role("heading")).to_contain_text("顾问导购带队抽检")
    record.get_by_role("button", name="全部合格").click()
    row = record.locator(".check-row", has_text="门缝均匀")
    row.get_by_text("不合格").click()
    row.get_by_role("textbox").fill("上缝偏大 3mm")
    _submit(page, 2)
    expect(page.get_by_text("未通过：已记录缺陷")).to_be_visible()
    expect(page.locator('.stepper [data-step="2"]')).to_have_attribute("data-state", "failed")
    expect(page.locator("#record")).to_have_count(0)  # no inspection while a defect is open

    # The installer's fix (here recorded by the lead), with a photo; inspection resumes at step 2.
    defect = page.locator("#defects .defect", has_text="门缝均匀：上缝偏大 3mm")
    defect.get_by_label("怎么整改的").fill("重新调整合页，门缝均匀")
    defect.get_by_label("整改后照片").set_input_files([_png_file("fixed.png")])
    defect.get_by_role("button", name="整改完成").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("已记录整改")).to_be_visible()
    expect(page.locator('.stepper [data-step="2"]')).to_have_attribute("data-state", "next")
    record = page.locator("#record")
    expect(record.get_by_role("heading")).to_contain_text("顾问导购带队抽检")
    record.get_by_role("button", name="全部合格").click()
    _submit(page, 2)
    expect(page.get_by_text("第 2 步“顾问导购带队抽检”已通过")).to_be_visible()

    # Step 3: the photos checked together in the owners' group.
    record = page.locator("#record")
    expect(record.get_by_label("在哪个群检查")).to_have_value(world.a.group_name)
    record.get_by_role("button", name="全部合格").click()
    record.get_by_label("群里业主的反馈").fill("群里邻居都说门缝均匀、漆面好")
    record.get_by_label("发到群里的安装照片").set_input_files([_png_file("group.png")])
    _submit(page, 3)
    expect(page.get_by_text("第 3 步“安装图片群共同检”已通过")).to_be_visible()

    # Step 4: a neighbour of the same estate.
    record = page.locator("#record")
    record.get_by_label("检查的邻居").select_option(label=neighbour_option)
    record.get_by_role("button", name="全部合格").click()
    _submit(page, 4)
    expect(page.get_by_text("第 4 步“邻里互检”已通过")).to_be_visible()

    # Step 5: the owner accepts and signs on the screen; an empty pad is refused before anything is sent.
    record = page.locator("#record")
    expect(record).to_contain_text(f"验收人：业主 {world.a.person_name}")
    record.get_by_role("button", name="全部合格").click()
    record.get_by_role("button", name="提交第 5 步结果").click()
    expect(record.get_by_text("请业主在屏幕上签名")).to_be_visible()
    expect(page.locator('.stepper [data-step="5"]')).to_have_attribute("data-state", "next")
    canvas = record.locator("[data-signature-pad] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 150)
    page.mouse.down()
    for x, y in ((120, 60), (200, 160), (280, 70), (360, 150), (460, 90)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()
    _submit(page, 5)

    expect(page.get_by_text("业主已验收签字，质保开始")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("已验收")
    expect(page.locator('.stepper [data-state="passed"]')).to_have_count(5)
    warranty = page.locator("#warranty")
    expect(warranty).to_contain_text("掉漆、门皮起翘、门框变形")
    expect(warranty).to_contain_text("质保中")
    expect(page.locator("#record img.signature-img")).to_be_visible()
    if os.environ.get("INSTALLS_SCREENSHOT"):
        page.screenshot(path=os.environ["INSTALLS_SCREENSHOT"], full_page=True)
    assert not page_errors

    with app.app_context():
        job = db.session.get(InstallationJob, job_id)
        assert job.status == JobStatus.ACCEPTED and job.order.status == OrderStatus.WARRANTY
        attempts = db.session.scalars(
            sa.select(InspectionAttempt).where(InspectionAttempt.job_id == job_id).order_by(InspectionAttempt.id)
        ).all()
        assert [(a.step, a.passed) for a in attempts] == [(1, 1), (2, 0), (2, 1), (3, 1), (4, 1), (5, 1)]
        signed = attempts[-1]
        assert signed.step == Step.OWNER_ACCEPTANCE and signed.performer_person_id == world.a.person_id
        with Image.open(upload_root() / signed.signature_path) as signature:
            assert signature.format == "PNG" and signature.width >= 300
            assert has_ink(signature)
        assert [p.caption for p in attempts[0].photos] == ["入户门"]
        assert job.defects[0].fix_photo_path and not job.defects[0].is_open
        db.session.close()
