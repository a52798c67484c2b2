"""The five-step inspection without HTTP: order of steps, rework, who performs what, the signature, acceptance,
the warranty and its claims."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from crm.core.roles import Role
from crm.core.uploads import upload_root
from crm.core.validation import FieldError
from crm.extensions import db
from crm.installs import service
from crm.installs.models import (
    DEFAULT_CHECKLIST,
    Defect,
    InspectionAttempt,
    InstallationJob,
    JobStatus,
    Step,
    WarrantyItem,
)
from crm.orders.models import Order, OrderStatus, OrderStatusChange
from crm.org.service import create_user_unchecked
from tests.factories import file_storage
from tests.installs.helpers import (
    blank_png,
    checklist,
    data_url,
    fields_for,
    make_job,
    make_order,
    neighbour,
    photo,
    run_steps,
    user,
)


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


# ---------------------------------------------------------------- the standard and scheduling


def test_the_standard_starts_from_the_default_and_is_editable(app, world):
    with app.app_context():
        standard = service.standard_for(db.session, world.a.dealer_id)
        assert standard.items == list(DEFAULT_CHECKLIST)
        assert service.standard_for(db.session, world.a.dealer_id).id == standard.id  # one per dealer
        service.update_standard(db.session, standard, ["门框垂直度", "  ", "门锁顺滑 "])
        assert standard.items == ["门框垂直度", "门锁顺滑"]
        for items, message in (([], "至少要有一项"), (["门缝", "门缝"], "重复"), (["长" * 31], "不能超过 30 个字")):
            with pytest.raises(FieldError, match=message):
                service.update_standard(db.session, standard, items)


def test_a_job_takes_the_dealers_installers_and_the_orders_address(app, world):
    with app.app_context():
        order = make_order(world.a, building="12", unit="2", room="1801")
        for wrong in (world.a.user_ids[Role.CONSULTANT], world.b.user_ids[Role.INSTALLER]):
            with pytest.raises(FieldError, match="安装工"):
                service.create_job(db.session, order, service.JobFields(None, [wrong]))
        with pytest.raises(FieldError, match="至少选择一位安装工"):
            service.create_job(db.session, order, service.JobFields(None, []))
        job = service.create_job(
            db.session, order, service.JobFields(date(2027, 3, 8), [world.a.user_ids[Role.INSTALLER]])
        )
        assert (job.building, job.unit, job.room) == ("12", "2", "1801")
        assert job.status == JobStatus.SCHEDULED and job.scheduled_on == date(2027, 3, 8)
        assert [u.id for u in job.installers] == [world.a.user_ids[Role.INSTALLER]]
        with pytest.raises(FieldError, match="已经有安装单"):
            service.create_job(db.session, order, service.JobFields(None, [world.a.user_ids[Role.INSTALLER]]))
        service.update_job(
            db.session, job, service.JobFields(date(2027, 3, 9), [world.a.user_ids[Role.INSTALLER]], room="1802")
        )
        assert (job.scheduled_on, job.room) == (date(2027, 3, 9), "1802")
        cancelled = make_order(world.a, status=OrderStatus.CANCELLED)
        with pytest.raises(FieldError, match="不能安排安装"):
            make_job(world.a, cancelled)


# ---------------------------------------------------------------- order of the steps


def test_steps_go_in_order_and_out_of_order_attempts_are_refused(app, world):
    with app.app_context():
        job = make_job(world.a)
        lead = user(world.a, Role.DEALER_LEAD)
        assert service.next_step(job) == Step.SELF_CHECK
        for step in (Step.SPOT_CHECK, Step.OWNER_ACCEPTANCE):
            with pytest.raises(FieldError, match="现在应进行第 1 步“安装工按标准自检”") as refused:
                service.record_attempt(db.session, job, step, lead, fields_for(step, world.a))
            assert refused.value.field == "step"
        service.record_attempt(db.session, job, Step.SELF_CHECK, lead, fields_for(Step.SELF_CHECK, world.a))
        assert service.next_step(job) == Step.SPOT_CHECK
        with pytest.raises(FieldError, match="第 2 步"):  # the same step twice
            service.record_attempt(db.session, job, Step.SELF_CHECK, lead, fields_for(Step.SELF_CHECK, world.a))
        with pytest.raises(FieldError, match="第 2 步"):  # skipping one
            service.record_attempt(db.session, job, Step.GROUP_CHECK, lead, fields_for(Step.GROUP_CHECK, world.a))
        with pytest.raises(FieldError, match="验收步骤不正确"):
            service.record_attempt(db.session, job, 6, lead, fields_for(Step.SELF_CHECK, world.a))
        assert [a.step for a in job.attempts] == [1]
        assert [s.state for s in service.step_states(job)] == ["passed", "next", "waiting", "waiting", "waiting"]


def test_every_item_of_the_standard_is_checked_and_a_fail_says_why(app, world):
    with app.app_context():
        job = make_job(world.a)
        lead = user(world.a, Role.DEALER_LEAD)
        partial = service.AttemptFields(checklist=checklist()[:-1], performer_user_id=world.a.user_ids[Role.INSTALLER])
        with pytest.raises(FieldError, match="请为“现场清洁”选择合格或不合格"):
            service.record_attempt(db.session, job, 1, lead, partial)
        silent = fields_for(Step.SELF_CHECK, world.a, failed={"五金安装": ""})
        with pytest.raises(FieldError, match="“五金安装”不合格：请写明问题"):
            service.record_attempt(db.session, job, 1, lead, silent)
        assert job.attempts == [] and job.status == JobStatus.SCHEDULED


def test_the_first_attempt_moves_the_order_to_installing(app, world):
    with app.app_context():
        job = make_job(world.a)
        installer = user(world.a, Role.INSTALLER)
        service.record_attempt(
            db.session, job, 1, installer, fields_for(Step.SELF_CHECK, world.a, performer_user_id=None)
        )
        order = db.session.get(Order, job.order_id)
        assert order.status == OrderStatus.INSTALLING
        assert job.attempts[0].performer_user_id == world.a.user_ids[Role.INSTALLER]  # the installer recording it
        assert job.status == JobStatus.INSPECTING
        waiting = make_job(world.a, make_order(world.a, status=OrderStatus.PRODUCTION))
        with pytest.raises(FieldError, match="订单状态为“生产”"):
            service.record_attempt(
                db.session, waiting, 1, user(world.a, Role.DEALER_LEAD), fields_for(Step.SELF_CHECK, world.a)
            )


# ---------------------------------------------------------------- rework


def test_a_failed_step_opens_defects_and_inspection_resumes_there_after_the_fix(app, world):
    with app.app_context():
        job = make_job(world.a)
        lead = user(world.a, Role.DEALER_LEAD)
        installer = user(world.a, Role.INSTALLER)
        run_steps(job, world.a, until=Step.SELF_CHECK)
        failing = fields_for(Step.SPOT_CHECK, world.a, failed={"门缝均匀": "上缝偏大 3mm"}, defects="把手松动\n\n")
        attempt = service.record_attempt(db.session, job, 2, user(world.a, Role.CONSULTANT), failing)
        assert attempt.passed is False
        assert job.status == JobStatus.REWORK
        assert [d.description for d in service.open_defects(job)] == ["门缝均匀：上缝偏大 3mm", "把手松动"]
        assert {d.step for d in job.defects} == {2} and {d.attempt_id for d in job.defects} == {attempt.id}
        assert service.next_step(job) == Step.SPOT_CHECK
        assert [s.state for s in service.step_states(job)][:3] == ["passed", "failed", "waiting"]
        with pytest.raises(FieldError, match="还有 2 个缺陷未整改"):
            service.record_attempt(db.session, job, 2, lead, fields_for(Step.SPOT_CHECK, world.a))

        first, second = job.defects
        with pytest.raises(FieldError, match="请写明怎么整改的"):
            service.fix_defect(db.session, first, installer, " ", photo())
        with pytest.raises(FieldError, match="整改后的照片"):
            service.fix_defect(db.session, first, installer, "重新调整合页", None)
        with pytest.raises(service.NotAllowed):
            service.fix_defect(db.session, first, user(world.a, Role.CONSULTANT), "重新调整合页", photo())
        service.fix_defect(db.session, first, installer, "重新调整合页", photo("fixed.png"))
        assert job.status == JobStatus.REWORK  # one still open
        service.fix_defect(db.session, second, lead, "把手螺丝紧固", photo())
        assert job.status == JobStatus.INSPECTING and not service.open_defects(job)
        assert (upload_root() / first.fix_photo_path).is_file() and first.fixed_by_id == installer.id
        with pytest.raises(FieldError, match="已经整改过了"):
            service.fix_defect(db.session, first, installer, "再来一次", photo())

        assert service.next_step(job) == Step.SPOT_CHECK  # resumes at the failed step, step 1 stays passed
        assert [s.state for s in service.step_states(job)][:3] == ["passed", "next", "waiting"]
        service.record_attempt(db.session, job, 2, lead, fields_for(Step.SPOT_CHECK, world.a))
        assert service.next_step(job) == Step.GROUP_CHECK
        service.record_attempt(db.session, job, 3, lead, fields_for(Step.GROUP_CHECK, world.a))
        assert [(a.step, a.passed) for a in job.attempts] == [(1, True), (2, False), (2, True), (3, True)]
        db.session.commit()
        kept = db.session.scalars(sa.select(Defect).where(Defect.job_id == job.id)).all()
        assert len(kept) == 2 and all(not d.is_open for d in kept)  # history is kept


def test_a_failure_at_a_later_step_keeps_the_earlier_ones(app, world):
    with app.app_context():
        job = make_job(world.a)
        person = neighbour(world.a)
        run_steps(job, world.a, until=Step.GROUP_CHECK)
        lead = user(world.a, Role.DEALER_LEAD)
        service.record_attempt(
            db.session,
            job,
            4,
            lead,
            fields_for(Step.NEIGHBOUR_CHECK, world.a, neighbour_id=person.id, failed={"漆面无损伤": "门边磕碰"}),
        )
        (defect,) = service.open_defects(job)
        service.fix_defect(db.session, defect, lead, "补漆", photo())
        assert service.next_step(job) == Step.NEIGHBOUR_CHECK
        assert [s.state for s in service.step_states(job)] == ["passed", "passed", "passed", "next", "waiting"]


# ---------------------------------------------------------------- who performs each step


def test_who_may_record_each_step(app, world):
    with app.app_context():
        job = make_job(world.a)
        roles = {role: user(world.a, role) for role in Role if role in world.a.user_ids}
        expected = {
            Role.DEALER_LEAD: {1, 2, 3, 4, 5},
            Role.INSTALLER: {1},
            Role.CONSULTANT: {2, 3, 4, 5},
            Role.OPERATOR: {3, 4, 5},
            Role.ASSISTANT: {3, 4, 5},
            Role.DESIGNER: {3, 4, 5},
        }
        for role, steps in expected.items():
            assert {s.value for s in Step if service.may_record(roles[role], job, s)} == steps, role
        assert {r for r in roles if service.may_fix(roles[r], job)} == {Role.DEALER_LEAD, Role.INSTALLER}
        other_lead = user(world.b, Role.DEALER_LEAD)
        assert not service.may_record(other_lead, job, 1) and not service.may_fix(other_lead, job)
        with pytest.raises(service.NotAllowed):
            service.record_attempt(db.session, job, 1, roles[Role.CONSULTANT], fields_for(Step.SELF_CHECK, world.a))


def test_the_performer_must_fit_the_step(app, world):
    with app.app_context():
        job = make_job(world.a)
        lead = user(world.a, Role.DEALER_LEAD)
        dealer = job.order.person.estate.dealer
        other = create_user_unchecked(db.session, "aaa_installer2", "x-password-1", Role.INSTALLER, dealer, "二号")
        assert not service.may_record(other, job, 1) and not service.may_fix(other, job)  # not on this job
        for performer_id in (lead.id, other.id):
            with pytest.raises(FieldError, match="自检须由这单的安装工完成"):
                service.record_attempt(
                    db.session, job, 1, lead, fields_for(Step.SELF_CHECK, world.a, performer_user_id=performer_id)
                )
        run_steps(job, world.a, until=Step.SELF_CHECK)
        for performer_id in (world.a.user_ids[Role.OPERATOR], world.b.user_ids[Role.CONSULTANT]):
            with pytest.raises(FieldError, match="抽检须由顾问导购或社群负责人带队"):
                service.record_attempt(
                    db.session, job, 2, lead, fields_for(Step.SPOT_CHECK, world.a, performer_user_id=performer_id)
                )
        attempt = service.record_attempt(
            db.session, job, 2, lead, fields_for(Step.SPOT_CHECK, world.a, performer_user_id=None)
        )
        assert attempt.performer_user_id == lead.id  # the lead leading the check themself
        assert attempt.recorded_by_id == lead.id


def test_the_neighbour_is_someone_of_the_same_estate_but_not_the_owner(app, world):
    with app.app_context():
        job = make_job(world.a)
        run_steps(job, world.a, until=Step.GROUP_CHECK)
        lead = user(world.a, Role.DEALER_LEAD)
        elsewhere = neighbour(world.a, "别的小区", estate_id=None)
        elsewhere.estate_id = None
        other_dealer = neighbour(world.b, "乙方邻居")
        for person_id, message in (
            (world.a.person_id, "不能是业主本人"),
            (elsewhere.id, "同一楼盘"),
            (other_dealer.id, "同一楼盘"),
            (None, "同一楼盘"),
        ):
            with pytest.raises(FieldError, match=message):
                service.record_attempt(
                    db.session, job, 4, lead, fields_for(Step.NEIGHBOUR_CHECK, world.a, neighbour_id=person_id)
                )
        person = neighbour(world.a)
        attempt = service.record_attempt(
            db.session, job, 4, lead, fields_for(Step.NEIGHBOUR_CHECK, world.a, neighbour_id=person.id)
        )
        assert attempt.performer_person_id == person.id and attempt.performer_name == "隔壁王姐（8-1-601）"


def test_the_group_check_records_the_groups_feedback_and_photos(app, world):
    with app.app_context():
        job = make_job(world.a)
        run_steps(job, world.a, until=Step.SPOT_CHECK)
        lead = user(world.a, Role.DEALER_LEAD)
        with pytest.raises(FieldError, match="群里业主的反馈"):
            service.record_attempt(db.session, job, 3, lead, fields_for(Step.GROUP_CHECK, world.a, notes=""))
        with pytest.raises(FieldError, match="安装照片"):
            service.record_attempt(db.session, job, 3, lead, fields_for(Step.GROUP_CHECK, world.a, photos=[]))
        with pytest.raises(FieldError, match="群名"):
            service.record_attempt(db.session, job, 3, lead, fields_for(Step.GROUP_CHECK, world.a, performer_name=""))
        attempt = service.record_attempt(
            db.session, job, 3, lead, fields_for(Step.GROUP_CHECK, world.a, photo_caption="客厅门")
        )
        assert attempt.performer_name == "业主群" and "门缝均匀" in attempt.notes
        assert [p.caption for p in attempt.photos] == ["客厅门"]


# ---------------------------------------------------------------- photos


def test_photos_are_real_images_and_a_refused_one_leaves_no_file(app, world, upload_folder):
    with app.app_context():
        job = make_job(world.a)
        lead = user(world.a, Role.DEALER_LEAD)
        before = _files(Path(upload_folder))
        fake = file_storage(b"this is not a photo", "door.jpg", "image/jpeg")
        with pytest.raises(FieldError, match="door.jpg：无法识别的图片") as refused:
            service.record_attempt(
                db.session, job, 1, lead, fields_for(Step.SELF_CHECK, world.a, photos=[photo("ok.png"), fake])
            )
        assert refused.value.field == "photos"
        assert _files(Path(upload_folder)) == before  # the good one stored first was removed again
        attempt = service.record_attempt(
            db.session, job, 1, lead, fields_for(Step.SELF_CHECK, world.a, photos=[photo("ok.png")])
        )
        (stored,) = attempt.photos
        with Image.open(upload_root() / stored.path) as image:
            assert image.format == "PNG"
        service.add_photos(db.session, attempt, lead, [photo("later.png")], "补拍")
        assert [p.caption for p in attempt.photos] == ["", "补拍"]
        with pytest.raises(FieldError, match="请选择或拍摄照片"):
            service.add_photos(db.session, attempt, lead, [], "")
        with pytest.raises(service.NotAllowed):
            service.add_photos(db.session, attempt, user(world.a, Role.OPERATOR), [photo()], "")


# ---------------------------------------------------------------- the signature and acceptance


def test_step_5_needs_the_owners_signature(app, world):
    with app.app_context():
        job = make_job(world.a)
        person = neighbour(world.a)
        run_steps(job, world.a, until=Step.NEIGHBOUR_CHECK, neighbour_id=person.id)
        lead = user(world.a, Role.DEALER_LEAD)
        jpeg = data_url(b"\xff\xd8\xff\xe0 not really", "image/jpeg")
        for signature, message in (
            ("", "请业主在屏幕上签名"),
            (data_url(blank_png()), "签名是空白的"),
            (jpeg, "签名格式不正确"),
            ("data:image/png;base64,@@not-base64@@", "签名格式不正确"),
            (data_url(b"\x89PNG\r\n\x1a\n broken"), "签名格式不正确"),
        ):
            with pytest.raises(FieldError, match=message) as refused:
                service.record_attempt(
                    db.session, job, 5, lead, fields_for(Step.OWNER_ACCEPTANCE, world.a, signature=signature)
                )
            assert refused.value.field == "signature"
        assert job.status == JobStatus.INSPECTING
        attempt = service.record_attempt(db.session, job, 5, lead, fields_for(Step.OWNER_ACCEPTANCE, world.a))
        assert attempt.performer_person_id == world.a.person_id  # the owner, whoever records it
        with Image.open(upload_root() / attempt.signature_path) as stored:
            assert stored.format == "PNG"
            assert service.has_ink(stored)
        assert attempt.signature_path.startswith(f"signatures/{world.a.dealer_id}/")


def test_a_failed_owner_acceptance_is_signed_too_and_goes_to_rework(app, world):
    with app.app_context():
        job = make_job(world.a)
        person = neighbour(world.a)
        run_steps(job, world.a, until=Step.NEIGHBOUR_CHECK, neighbour_id=person.id)
        lead = user(world.a, Role.DEALER_LEAD)
        failing = fields_for(Step.OWNER_ACCEPTANCE, world.a, failed={"现场清洁": "阳台有木屑"})
        attempt = service.record_attempt(db.session, job, 5, lead, failing)
        assert not attempt.passed and attempt.signature_path
        assert job.status == JobStatus.REWORK and job.order.status == OrderStatus.INSTALLING
        service.fix_defect(db.session, job.defects[0], lead, "已清扫", photo())
        service.record_attempt(db.session, job, 5, lead, fields_for(Step.OWNER_ACCEPTANCE, world.a))
        assert job.status == JobStatus.ACCEPTED


def test_acceptance_moves_the_order_on_and_starts_the_warranty(app, world):
    with app.app_context():
        job = make_job(world.a)
        person = neighbour(world.a)
        run_steps(job, world.a, until=Step.OWNER_ACCEPTANCE, neighbour_id=person.id, today=date(2027, 3, 10))
        assert job.status == JobStatus.ACCEPTED and job.accepted_at is not None
        assert service.next_step(job) is None
        assert [s.state for s in service.step_states(job)] == ["passed"] * 5
        db.session.commit()
        order = db.session.get(Order, job.order_id)
        assert order.status == OrderStatus.WARRANTY
        changes = db.session.scalars(
            sa.select(OrderStatusChange).where(OrderStatusChange.order_id == order.id).order_by(OrderStatusChange.id)
        ).all()
        assert [(c.from_status, c.to_status) for c in changes] == [
            (OrderStatus.AWAITING_INSTALL, OrderStatus.INSTALLING),
            (OrderStatus.INSTALLING, OrderStatus.ACCEPTED),
            (OrderStatus.ACCEPTED, OrderStatus.WARRANTY),
        ]
        (item,) = db.session.scalars(sa.select(WarrantyItem).where(WarrantyItem.order_id == order.id)).all()
        assert (item.item, item.years, item.remedy) == ("掉漆、门皮起翘、门框变形", 5, "免费维修")
        assert (item.starts_on, item.ends_on) == (date(2027, 3, 10), date(2032, 3, 9))
        lead = user(world.a, Role.DEALER_LEAD)
        with pytest.raises(FieldError, match="已验收完成"):
            service.record_attempt(db.session, job, 5, lead, fields_for(Step.OWNER_ACCEPTANCE, world.a))
        with pytest.raises(FieldError, match="已验收的安装单不能再修改"):
            service.update_job(db.session, job, service.JobFields(None, [world.a.user_ids[Role.INSTALLER]]))
        assert db.session.scalar(sa.select(sa.func.count(InspectionAttempt.id))) >= 5


def test_an_order_without_an_offer_is_accepted_without_warranty_items(app, world):
    with app.app_context():
        job = make_job(world.a, make_order(world.a, offer=False))
        person = neighbour(world.a)
        run_steps(job, world.a, until=Step.OWNER_ACCEPTANCE, neighbour_id=person.id)
        assert job.order.status == OrderStatus.WARRANTY
        assert db.session.scalars(sa.select(WarrantyItem).where(WarrantyItem.order_id == job.order_id)).all() == []


@pytest.mark.parametrize(
    ("starts_on", "years", "ends_on"),
    [
        (date(2026, 11, 22), 5, date(2031, 11, 21)),
        (date(2027, 1, 1), 1, date(2027, 12, 31)),
        (date(2027, 3, 1), 1, date(2028, 2, 29)),  # runs over a leap day
        (date(2028, 2, 29), 1, date(2029, 2, 28)),  # a leap-day start: anniversary 1 March
        (date(2028, 2, 29), 3, date(2031, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 28)),  # the anniversary exists again
        (date(2028, 2, 28), 1, date(2029, 2, 27)),
    ],
)
def test_warranty_end_dates(starts_on, years, ends_on):
    assert service.warranty_end(starts_on, years) == ends_on


def test_accepted_on_a_leap_day(app, world):
    with app.app_context():
        job = make_job(world.a)
        person = neighbour(world.a)
        run_steps(job, world.a, until=Step.OWNER_ACCEPTANCE, neighbour_id=person.id, today=date(2028, 2, 29))
        (item,) = db.session.scalars(sa.select(WarrantyItem).where(WarrantyItem.order_id == job.order_id)).all()
        assert (item.starts_on, item.ends_on) == (date(2028, 2, 29), date(2033, 2, 28))


# ---------------------------------------------------------------- warranty claims


def test_claims_are_logged_only_within_the_warranty_period(app, world):
    with app.app_context():
        item = db.session.get(WarrantyItem, world.a.warranty_item_id)  # 2026-11-22 … 2031-11-21
        staff = user(world.a, Role.CONSULTANT)
        today = date(2031, 11, 21)
        claim = service.log_claim(db.session, item, staff, "主卧门门皮起翘", today=today)
        assert claim.reported_on == today and claim.recorded_by_id == staff.id
        after = date(2031, 11, 22)
        with pytest.raises(FieldError, match="质保已于 2031-11-21 到期，不能再登记质保报修") as refused:
            service.log_claim(db.session, item, staff, "门框变形", today=after)
        assert refused.value.field == "reported_on"
        with pytest.raises(FieldError, match="早于质保开始日"):
            service.log_claim(db.session, item, staff, "门框变形", reported_on=date(2026, 11, 1), today=today)
        with pytest.raises(FieldError, match="不能晚于今天"):
            service.log_claim(db.session, item, staff, "门框变形", reported_on=date(2031, 11, 30), today=today)
        with pytest.raises(FieldError, match="请描述报修的问题"):
            service.log_claim(db.session, item, staff, "  ", today=today)
        # a claim made in time is still resolved after the period ends
        with pytest.raises(FieldError, match="不能早于报修日期"):
            service.resolve_claim(db.session, claim, staff, "上门重新压合", resolved_on=date(2031, 11, 1), today=after)
        service.resolve_claim(db.session, claim, staff, "上门重新压合门皮", today=after)
        assert claim.resolved_on == after and claim.resolution == "上门重新压合门皮"
        with pytest.raises(FieldError, match="已经处理完了"):
            service.resolve_claim(db.session, claim, staff, "再次处理", today=after)


def test_jobs_and_their_rows_stay_with_the_dealer(app, world):
    with app.app_context():
        job = make_job(world.b)
        assert job.dealer_id == world.b.dealer_id
        run_steps(job, world.b, until=Step.SPOT_CHECK)
        assert {a.dealer_id for a in job.attempts} == {world.b.dealer_id}
        assert db.session.get(InstallationJob, job.id).order.dealer_id == world.b.dealer_id
