"""The installation pages: the list, a job on the tablet, recording steps and fixes over HTTP, roles, the standard,
warranty claims, and the acceptance report PDF."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.installs import service
from crm.installs.models import (
    DEFAULT_CHECKLIST,
    Defect,
    InspectionAttempt,
    InspectionStandard,
    InstallationJob,
    JobStatus,
    Step,
    WarrantyClaim,
)
from crm.orders.models import OrderStatus
from tests.factories import png_bytes
from tests.installs.helpers import (
    data_url,
    drawn_png,
    fields_for,
    make_job,
    make_order,
    neighbour,
    photo,
    run_steps,
    user,
)
from tests.pdf import poppler

HX = {"HX-Request": "true"}


def _all_pass(items=DEFAULT_CHECKLIST, failed: dict[str, str] | None = None) -> dict:
    failed = failed or {}
    data = {}
    for index, item in enumerate(items):
        data[f"result_{index}"] = "fail" if item in failed else "pass"
        data[f"note_{index}"] = failed.get(item, "")
    return data


def _png(name: str = "door.png"):
    return (io.BytesIO(png_bytes()), name)


def _fresh_job(app, world, until: Step | None = None, accepted_on: date | None = None) -> int:
    with app.app_context():
        job = make_job(world.a, scheduled_on=date(2027, 3, 8))
        if until:
            person = neighbour(world.a)
            run_steps(job, world.a, until=until, neighbour_id=person.id, today=accepted_on)
        db.session.commit()
        return job.id


# ---------------------------------------------------------------- the list


def test_the_list_shows_where_each_job_stands(world, login):
    client = login(world.a.usernames[Role.INSTALLER])
    body = client.get("/installs/").get_data(as_text=True)
    assert "2026-11-20" in body and "3-2-1201" in body and world.a.person_name in body
    assert "第 2 步 顾问导购带队抽检" in body and '<span class="late">1</span>' in body
    assert world.b.person_name not in body
    partial = client.get("/installs/?status=accepted", headers=HX).get_data(as_text=True)
    assert "<html" not in partial and "还没有安装单" in partial
    mine = client.get("/installs/?mine=1", headers=HX).get_data(as_text=True)
    assert world.a.person_name in mine
    other = login(world.a.usernames[Role.CONSULTANT]).get("/installs/?mine=1", headers=HX).get_data(as_text=True)
    assert "还没有安装单" in other


def test_the_list_does_not_grow_queries_with_jobs(app, world, login, count_queries):
    client = login(world.a.lead)
    client.get("/installs/")
    with count_queries() as one:
        client.get("/installs/")
    with app.app_context():
        for _ in range(4):
            job = make_job(world.a)
            run_steps(job, world.a, until=Step.SELF_CHECK)
        db.session.commit()
    with count_queries() as five:
        body = client.get("/installs/").get_data(as_text=True)
    assert body.count("/installs/") >= 5
    assert five.count == one.count


def test_roles_that_may_not_see_or_manage_jobs(world, login):
    assert login(world.hq_admin).get("/installs/").status_code == 403
    assert login(world.hq_admin).get(f"/installs/{world.a.job_id}").status_code == 403
    for role in (Role.CONSULTANT, Role.INSTALLER, Role.OPERATOR):
        client = login(world.a.usernames[role])
        assert client.get("/installs/new").status_code == 403
        assert client.get("/installs/standard").status_code == 403
        assert client.get(f"/installs/{world.a.job_id}/edit").status_code == 403
        assert client.get(f"/installs/{world.a.job_id}").status_code == 200


def test_another_dealers_job_and_files_are_not_found(world, login):
    client = login(world.a.lead)
    for url in (
        f"/installs/{world.b.job_id}",
        f"/installs/{world.b.job_id}/report.pdf",
        f"/installs/photos/{world.b.photo_id}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/installs/defects/{world.b.defect_id}/fix", data={}).status_code == 404
    assert client.post(f"/installs/{world.b.job_id}/attempts", data={"step": "2"}).status_code == 404


# ---------------------------------------------------------------- scheduling and the standard


def test_the_lead_schedules_an_order(app, world, login):
    with app.app_context():
        order_id = make_order(world.a, building="9", unit="3", room="502").id
        db.session.commit()
    client = login(world.a.lead)
    page = client.get(f"/installs/new?order_id={order_id}").get_data(as_text=True)
    assert f'<option selected value="{order_id}">' in page or f'value="{order_id}" selected' in page
    refused = client.post("/installs/new", data={"order_id": order_id, "scheduled_on": "2027-03-08"})
    assert refused.status_code == 422 and "请至少选择一位安装工" in refused.get_data(as_text=True)
    response = client.post(
        "/installs/new",
        data={"order_id": order_id, "scheduled_on": "2027-3-8", "installer_ids": world.a.user_ids[Role.INSTALLER]},
    )
    assert response.status_code == 302
    with app.app_context():
        job = db.session.scalars(sa.select(InstallationJob).where(InstallationJob.order_id == order_id)).one()
        assert (job.building, job.unit, job.room, job.scheduled_on) == ("9", "3", "502", date(2027, 3, 8))
    assert response.headers["Location"].endswith(f"/installs/{job.id}")
    edited = client.post(
        f"/installs/{job.id}/edit",
        data={"scheduled_on": "2027-03-09", "installer_ids": world.a.user_ids[Role.INSTALLER], "room": "503"},
    )
    assert edited.status_code == 302
    body = client.get(f"/installs/{job.id}").get_data(as_text=True)
    assert "2027-03-09" in body and "9-3-503" in body


def test_the_lead_edits_the_standard(app, world, login):
    client = login(world.a.lead)
    page = client.get("/installs/standard").get_data(as_text=True)
    assert "门框垂直度\n门缝均匀" in page
    refused = client.post("/installs/standard", data={"items": " \n "})
    assert refused.status_code == 422 and "验收标准至少要有一项" in refused.get_data(as_text=True)
    assert client.post("/installs/standard", data={"items": "门框垂直度\n门锁顺滑\n"}).status_code == 302
    with app.app_context():
        standard = db.session.scalars(
            sa.select(InspectionStandard).where(InspectionStandard.dealer_id == world.a.dealer_id)
        ).one()
        assert standard.items == ["门框垂直度", "门锁顺滑"]
    job_id = _fresh_job(app, world)
    form = client.get(f"/installs/{job_id}").get_data(as_text=True)
    assert "门锁顺滑" in form and "密封条" not in form.split('id="history"')[0]


# ---------------------------------------------------------------- the job page and recording steps


def test_the_job_page_shows_the_stepper_the_defects_and_the_history(world, login):
    client = login(world.a.usernames[Role.INSTALLER])
    body = client.get(f"/installs/{world.a.job_id}").get_data(as_text=True)
    assert 'data-step="1" data-state="passed"' in body
    assert 'data-step="2" data-state="failed"' in body
    assert 'data-step="3" data-state="waiting"' in body
    assert "待整改缺陷" in body and "甲方专属门缝偏大" in body
    assert f"/installs/defects/{world.a.defect_id}/fix" in body  # the installer of the job fixes it
    assert f"/installs/photos/{world.a.photo_id}" in body
    assert "上缝偏大" in body  # the failed attempt's checklist stays in the history
    assert f'action="/installs/{world.a.job_id}/attempts"' not in body  # no step form while in rework
    consultant = login(world.a.usernames[Role.CONSULTANT]).get(f"/installs/{world.a.job_id}").get_data(as_text=True)
    assert "等待安装工整改" in consultant and f"/installs/defects/{world.a.defect_id}/fix" not in consultant


def test_a_step_is_recorded_over_http_and_out_of_order_is_refused(app, world, login):
    job_id = _fresh_job(app, world)
    client = login(world.a.usernames[Role.INSTALLER])
    page = client.get(f"/installs/{job_id}").get_data(as_text=True)
    assert 'name="step" type="hidden" value="1"' in page and 'capture="environment"' in page
    assert 'accept="image/jpeg,image/png,image/webp"' in page
    out_of_order = client.post(f"/installs/{job_id}/attempts", data={"step": "2", **_all_pass()})
    assert out_of_order.status_code == 403  # an installer does not record step 2 at all
    lead = login(world.a.lead)
    refused = lead.post(f"/installs/{job_id}/attempts", data={"step": "3", **_all_pass()})
    assert refused.status_code == 422
    assert "现在应进行第 1 步“安装工按标准自检”" in refused.get_data(as_text=True)
    missing = client.post(f"/installs/{job_id}/attempts", data={"step": "1", "result_0": "pass"})
    assert missing.status_code == 422 and "请为“门缝均匀”选择合格或不合格" in missing.get_data(as_text=True)
    data = {"step": "1", **_all_pass(), "photos": [_png("a.png"), _png("b.png")], "photo_caption": "入户门"}
    response = client.post(f"/installs/{job_id}/attempts", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/installs/{job_id}#steps")
    with app.app_context():
        (attempt,) = db.session.scalars(sa.select(InspectionAttempt).where(InspectionAttempt.job_id == job_id)).all()
        assert attempt.passed and attempt.recorded_by_id == world.a.user_ids[Role.INSTALLER]
        assert [p.caption for p in attempt.photos] == ["入户门", "入户门"]
        assert db.session.get(InstallationJob, job_id).order.status == OrderStatus.INSTALLING
    body = client.get(f"/installs/{job_id}").get_data(as_text=True)
    assert "第 1 步“安装工按标准自检”已通过" in body


def test_a_fake_photo_is_refused_and_nothing_is_saved(app, world, login):
    job_id = _fresh_job(app, world)
    client = login(world.a.lead)
    fake = (io.BytesIO(b"just some text, not a photo"), "door.jpg")
    response = client.post(
        f"/installs/{job_id}/attempts",
        data={"step": "1", **_all_pass(), "photos": [fake]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "door.jpg：无法识别的图片，请上传 JPEG、PNG 或 WebP 格式" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(InspectionAttempt).where(InspectionAttempt.job_id == job_id)).all() == []


def test_rework_over_http(app, world, login):
    job_id = _fresh_job(app, world, until=Step.SELF_CHECK)
    consultant = login(world.a.usernames[Role.CONSULTANT])
    failed = _all_pass(failed={"密封条": "卫生间门密封条脱落"})
    response = consultant.post(f"/installs/{job_id}/attempts", data={"step": "2", **failed})
    assert response.status_code == 302
    page = consultant.get(f"/installs/{job_id}").get_data(as_text=True)
    assert "未通过：已记录缺陷" in page and "密封条：卫生间门密封条脱落" in page
    with app.app_context():
        (defect,) = db.session.scalars(sa.select(Defect).where(Defect.job_id == job_id)).all()
    assert consultant.post(f"/installs/defects/{defect.id}/fix", data={}).status_code == 403
    installer = login(world.a.usernames[Role.INSTALLER])
    prefix = f"d{defect.id}-"
    refused = installer.post(
        f"/installs/defects/{defect.id}/fix",
        data={prefix + "fix_note": "重新粘贴"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "请拍一张整改后的照片" in refused.get_data(as_text=True)
    fixed = installer.post(
        f"/installs/defects/{defect.id}/fix",
        data={prefix + "fix_note": "重新粘贴密封条", prefix + "fix_photo": _png("fixed.png")},
        content_type="multipart/form-data",
    )
    assert fixed.status_code == 302
    page = consultant.get(f"/installs/{job_id}").get_data(as_text=True)
    assert 'data-step="2" data-state="next"' in page and "重新粘贴密封条" in page
    assert "data:image/jpeg;base64," in page  # the fix photo, shown inline
    assert consultant.post(f"/installs/{job_id}/attempts", data={"step": "2", **_all_pass()}).status_code == 302
    page = consultant.get(f"/installs/{job_id}").get_data(as_text=True)
    assert 'data-step="2" data-state="passed"' in page and 'data-step="3" data-state="next"' in page


def test_step_5_over_http_needs_the_signature(app, world, login):
    job_id = _fresh_job(app, world, until=Step.NEIGHBOUR_CHECK)
    client = login(world.a.usernames[Role.OPERATOR])
    page = client.get(f"/installs/{job_id}").get_data(as_text=True)
    assert "data-signature-pad" in page and "signature-pad.js" in page
    refused = client.post(f"/installs/{job_id}/attempts", data={"step": "5", **_all_pass(), "signature": ""})
    assert refused.status_code == 422 and "请业主在屏幕上签名" in refused.get_data(as_text=True)
    signed = client.post(
        f"/installs/{job_id}/attempts", data={"step": "5", **_all_pass(), "signature": data_url(drawn_png())}
    )
    assert signed.status_code == 302
    page = client.get(f"/installs/{job_id}").get_data(as_text=True)
    assert "业主已验收签字，质保开始" in page and "已验收" in page
    assert "data:image/png;base64," in page  # the signature
    assert "掉漆、门皮起翘、门框变形" in page and "质保中" in page


def test_photos_can_be_added_to_a_recorded_step(app, world, login):
    client = login(world.a.usernames[Role.INSTALLER])
    prefix = f"a{world.a.attempt_id}-"
    response = client.post(
        f"/installs/attempts/{world.a.attempt_id}/photos",
        data={prefix + "photos": [_png()], prefix + "caption": "补拍门框"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        assert [p.caption for p in db.session.get(InspectionAttempt, world.a.attempt_id).photos] == ["门框", "补拍门框"]
    operator = login(world.a.usernames[Role.OPERATOR])
    assert operator.post(f"/installs/attempts/{world.a.attempt_id}/photos", data={}).status_code == 403


def test_photos_are_served_to_the_dealers_staff(world, login):
    response = login(world.a.usernames[Role.INSTALLER]).get(f"/installs/photos/{world.a.photo_id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    response.close()


# ---------------------------------------------------------------- warranty claims


def test_claims_over_http(app, world, login, monkeypatch):
    client = login(world.a.usernames[Role.CONSULTANT])
    item_id = world.a.warranty_item_id
    monkeypatch.setattr("crm.installs.service.local_today", lambda: date(2027, 5, 1))
    refused = client.post(f"/installs/warranty/{item_id}/claims", data={f"w{item_id}-description": ""})
    assert refused.status_code == 422 and "请描述报修的问题" in refused.get_data(as_text=True)
    ok = client.post(f"/installs/warranty/{item_id}/claims", data={f"w{item_id}-description": "次卧门门框变形"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/installs/{world.a.job_id}#warranty")
    monkeypatch.setattr("crm.installs.service.local_today", lambda: date(2031, 11, 22))
    late = client.post(f"/installs/warranty/{item_id}/claims", data={f"w{item_id}-description": "门皮起翘"})
    assert late.status_code == 422
    assert "质保已于 2031-11-21 到期，不能再登记质保报修" in late.get_data(as_text=True)
    claim_id = world.a.claim_id
    resolved = client.post(f"/installs/claims/{claim_id}/resolve", data={f"c{claim_id}-resolution": "更换门皮"})
    assert resolved.status_code == 302
    with app.app_context():
        claim = db.session.get(WarrantyClaim, claim_id)
        assert claim.resolution == "更换门皮" and claim.resolved_on == date(2031, 11, 22)


# ---------------------------------------------------------------- the acceptance report


def test_the_acceptance_report(app, world, login):
    job_id = _fresh_job(app, world, until=Step.SELF_CHECK)
    with app.app_context():
        job = db.session.get(InstallationJob, job_id)
        lead = user(world.a, Role.DEALER_LEAD)
        consultant = user(world.a, Role.CONSULTANT)
        service.record_attempt(
            db.session, job, 2, consultant, fields_for(Step.SPOT_CHECK, world.a, failed={"五金安装": "合页异响"})
        )
        service.fix_defect(db.session, job.defects[0], lead, "更换合页", photo("fix.png"))
        service.record_attempt(db.session, job, 2, consultant, fields_for(Step.SPOT_CHECK, world.a))
        person = neighbour(world.a)
        for step in (Step.GROUP_CHECK, Step.NEIGHBOUR_CHECK, Step.OWNER_ACCEPTANCE):
            extra = {"neighbour_id": person.id} if step == Step.NEIGHBOUR_CHECK else {}
            fields = fields_for(step, world.a, **extra)
            service.record_attempt(db.session, job, step, lead, fields, today=date(2027, 3, 10))
        assert job.status == JobStatus.ACCEPTED
        db.session.commit()
    response = login(world.a.usernames[Role.INSTALLER]).get(f"/installs/{job_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pdf = response.data
    assert poppler.page_size_mm(pdf) == (210.0, 297.0)
    text = poppler.squeezed(poppler.text(pdf))
    for expected in (
        "安装验收报告",
        "已验收",
        world.a.person_name,
        "8-1-602",
        "安装工按标准自检",
        "顾问导购带队抽检",
        "安装图片群共同检",
        "邻里互检",
        "业主全面验收",
        world.a.user_display_names[Role.INSTALLER],
        world.a.user_display_names[Role.CONSULTANT],
        "隔壁王姐",
        "五金安装：合页异响",
        "更换合页",
        "群里邻居看了照片",
        "业主签字",
        "掉漆、门皮起翘、门框变形",
        "免费维修",
        "2027-03-10至2032-03-09",
    ):
        assert poppler.squeezed(expected) in text, expected
    fonts = poppler.fonts(pdf)
    assert fonts and all("Noto-Sans-SC" in f["name"] and f["emb"] == "yes" for f in fonts)
    # photos of steps 1 and 3, the fix photo and the signature
    assert poppler.images(pdf) >= 4


def test_a_report_before_acceptance_says_so(world, login):
    response = login(world.a.lead).get(f"/installs/{world.a.job_id}/report.pdf")
    text = poppler.squeezed(poppler.text(response.data))
    assert "验收未完成" in text and "甲方专属门缝偏大" in text and "未整改" in text
    assert "业主尚未验收签字" in text and "自业主验收之日起计算质保期" in text


@pytest.mark.parametrize("role", [Role.DEALER_LEAD, Role.INSTALLER])
def test_the_page_after_acceptance_shows_the_warranty_with_claims(app, world, login, role):
    job_id = _fresh_job(app, world, until=Step.OWNER_ACCEPTANCE, accepted_on=date(2027, 3, 10))
    body = login(world.a.usernames[role]).get(f"/installs/{job_id}").get_data(as_text=True)
    assert "2027-03-10 至 2032-03-09" in body and "登记报修" in body
    assert body.count('data-state="passed"') == 5


def test_the_job_page_does_not_grow_queries_with_attempts(app, world, login, count_queries):
    plain = _fresh_job(app, world, until=Step.OWNER_ACCEPTANCE)
    with app.app_context():  # a second job with a rework loop at step 1 and extra photos: more rows, same queries
        job = make_job(world.a)
        lead = user(world.a, Role.DEALER_LEAD)
        failing = fields_for(Step.SELF_CHECK, world.a, failed={"密封条": "脱落"})
        service.record_attempt(db.session, job, 1, lead, failing)
        service.fix_defect(db.session, job.defects[0], lead, "重新粘贴", photo())
        with_photos = fields_for(Step.SELF_CHECK, world.a, photos=[photo(), photo()])
        service.record_attempt(db.session, job, 1, lead, with_photos)
        person = neighbour(world.a, "对门李哥")
        for step in (Step.SPOT_CHECK, Step.GROUP_CHECK, Step.NEIGHBOUR_CHECK, Step.OWNER_ACCEPTANCE):
            extra = {"neighbour_id": person.id} if step == Step.NEIGHBOUR_CHECK else {}
            service.record_attempt(db.session, job, step, lead, fields_for(step, world.a, **extra))
        db.session.commit()
        busy = job.id
    client = login(world.a.lead)
    client.get(f"/installs/{plain}")
    with count_queries() as few:
        client.get(f"/installs/{plain}")
    with count_queries() as many:
        client.get(f"/installs/{busy}")
    assert many.count == few.count


def test_the_list_puts_open_jobs_first_by_date(app, world, login):
    with app.app_context():
        later = make_job(world.a, scheduled_on=date(2027, 4, 1)).id
        sooner = make_job(world.a, scheduled_on=date(2027, 3, 1)).id
        unscheduled = make_job(world.a).id
        done = make_job(world.a, scheduled_on=date(2026, 1, 1))
        run_steps(done, world.a, until=Step.OWNER_ACCEPTANCE, neighbour_id=neighbour(world.a).id)
        db.session.commit()
        done = done.id
    body = login(world.a.lead).get("/installs/").get_data(as_text=True)
    order = [world.a.job_id, sooner, later, unscheduled, done]
    positions = [body.index(f'href="/installs/{job_id}"') for job_id in order]
    assert positions == sorted(positions)
