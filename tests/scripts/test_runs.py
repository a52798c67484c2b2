"""Running a group on a playbook: the calendar, moving it, placeholders, versions, tasks."""

from datetime import date, datetime, time, timedelta

import pytest

from crm.core.models import BUSINESS_TIMEZONE
from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.extensions import db
from crm.groups.models import AccountRole, Group
from crm.org.models import User
from crm.scripts import queries, service
from crm.scripts.models import RunStatus, ScriptTask, TaskStatus
from crm.scripts.placeholders import fill
from tests.groups.helpers import without_offer_and_proposals
from tests.scripts.helpers import item, phase, published_playbook, run_group, small_content

START = date(2026, 12, 1)


def _dates(run):
    return [(day.phase_name, day.day_in_phase, day.phase_days, day.on_date) for day in run.days]


def test_calendar_follows_phase_lengths_day_by_day(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        assert _dates(run) == [
            ("铺垫期", 1, 2, START),
            ("铺垫期", 2, 2, START + timedelta(days=1)),
            ("信任期", 1, 3, START + timedelta(days=2)),
            ("信任期", 2, 3, START + timedelta(days=3)),
            ("信任期", 3, 3, START + timedelta(days=4)),
        ]
        tasks = db.session.query(ScriptTask).filter_by(run_id=run.id).order_by(ScriptTask.id).all()
        assert [(t.day.number, t.due_time, t.role) for t in tasks] == [
            (1, time(9, 0), AccountRole.MAIN_IP),
            (1, time(19, 30), AccountRole.HELPER),
            (2, time(12, 0), AccountRole.MAIN_IP),
            (3, time(15, 0), AccountRole.MAIN_IP),
            (5, time(21, 0), AccountRole.HELPER),
        ]
        operator = world.a.user_ids[Role.OPERATOR]
        assert tasks[0].assignee_id == operator
        assert tasks[1].assignee_id == world.a.user_ids[Role.ASSISTANT]


def test_shift_moves_later_days_and_keeps_earlier_ones(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        service.shift(db.session, run, None, START + timedelta(days=2), 3, today=START)
        assert [d.on_date for d in run.days] == [
            START,
            START + timedelta(days=1),
            START + timedelta(days=5),
            START + timedelta(days=6),
            START + timedelta(days=7),
        ]
        # back again, but not onto day 2 or before today
        with pytest.raises(FieldError):
            service.shift(db.session, run, None, START + timedelta(days=5), -4, today=START)
        service.shift(db.session, run, None, START + timedelta(days=5), -3, today=START)
        assert run.days[2].on_date == START + timedelta(days=2)
        with pytest.raises(FieldError):
            service.shift(db.session, run, None, START - timedelta(days=1), 1, today=START)
        with pytest.raises(FieldError):
            service.shift(db.session, run, None, START, 0, today=START)


def test_skip_a_day_pushes_that_day_and_the_rest_by_one(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        service.skip_day(db.session, run, None, START + timedelta(days=1), "元旦休息", today=START)
        assert [d.on_date for d in run.days] == [START + timedelta(days=n) for n in (0, 2, 3, 4, 5)]
        progress = queries.RunProgress(run, START + timedelta(days=1))
        assert progress.state == "rest"
        assert progress.last_day.number == 1
        assert run.events[-1].note == "元旦休息"


def test_pause_then_resume_moves_the_rest_by_the_days_paused(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        service.pause(db.session, run, None, today=START + timedelta(days=1))
        assert run.status == RunStatus.PAUSED
        assert queries.RunProgress(run, START + timedelta(days=2)).state == "paused"
        moved = service.resume(db.session, run, None, today=START + timedelta(days=4))
        assert moved == 3
        assert [d.on_date for d in run.days] == [START + timedelta(days=n) for n in (0, 4, 5, 6, 7)]
        with pytest.raises(FieldError):
            service.resume(db.session, run, None, today=START + timedelta(days=5))


def test_paused_and_stopped_runs_leave_today(app, world):
    with app.app_context():
        run_group(db.session, world.a, START)
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        now = datetime(2026, 12, 1, 8, 0, tzinfo=BUSINESS_TIMEZONE)
        assert queries.today_for(db.session, operator, now).open_count == 1
        run = service.live_run(db.session, world.a.group_id)
        service.pause(db.session, run, None, today=START)
        assert queries.today_for(db.session, operator, now).open_count == 0
        service.resume(db.session, run, None, today=START)
        service.stop(db.session, run, None, today=START)
        assert queries.today_for(db.session, operator, now).open_count == 0


def test_today_lists_overdue_first_then_in_time_order(app, world):
    with app.app_context():
        run_group(db.session, world.a, START)
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        now = datetime(2026, 12, 2, 10, 0, tzinfo=BUSINESS_TIMEZONE)  # day 2, 10:00
        today = queries.today_for(db.session, operator, now)
        assert [c.task.text for c in today.overdue] == ["欢迎来到{群名}，我是{主IP}"]
        assert [c.task.text for c in today.upcoming] == ["团购价 {团购价}，活动 {活动日期}"]
        later = queries.today_for(db.session, operator, datetime(2026, 12, 2, 13, 0, tzinfo=BUSINESS_TIMEZONE))
        assert len(later.overdue) == 2 and not later.upcoming


def test_placeholders_fill_from_data_and_missing_ones_show_as_gaps(app, world):
    without_offer_and_proposals(app, world.a)
    with app.app_context():
        run = run_group(db.session, world.a, START, values={"团购价": "1999 元/樘"})
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        now = datetime(2026, 12, 2, 8, 0, tzinfo=BUSINESS_TIMEZONE)
        cards = {c.task.text: c for c in queries.today_for(db.session, operator, now).overdue}
        welcome = cards["欢迎来到{群名}，我是{主IP}"].filled
        assert welcome.text == f"欢迎来到{world.a.group_name}，我是{world.a.user_display_names[Role.OPERATOR]}"
        assert welcome.gaps == []
        day2 = queries.today_for(db.session, operator, now).upcoming[0].filled
        assert day2.text == "团购价 1999 元/樘，活动 【待补：活动日期】"
        assert day2.gaps == ["活动日期"]
        service.set_values(db.session, run, {"团购价": "1999 元/樘", "活动日期": "12月6日"})
        day2 = queries.today_for(db.session, operator, now).upcoming[0].filled
        assert day2.text == "团购价 1999 元/樘，活动 12月6日"


def test_fill_marks_empty_data_as_a_gap_never_blank():
    filled = fill("{楼盘}交房：{交房时间}", {"楼盘": "阳光花园", "交房时间": "  "})
    assert filled.text == "阳光花园交房：【待补：交房时间】"
    assert filled.gaps == ["交房时间"]


def test_store_placeholders_come_from_the_dealers_store(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        values = queries._load_run_context(db.session, [run])[run.id]
        assert values["门店"] == world.a.store_name
        assert values["门店地址"] == "测试路 1 号"
        assert values["楼盘"] == world.a.estate_name


def test_done_task_keeps_the_text_sent_and_later_versions_change_nothing(app, world):
    with app.app_context():
        playbook, version = published_playbook(db.session, world.a.dealer_id, name="版本剧本")
        group = db.session.get(Group, world.a.group_id)
        service.stop(db.session, service.live_run(db.session, group.id), None, today=START)
        roles = {
            AccountRole.MAIN_IP: world.a.user_ids[Role.OPERATOR],
            AccountRole.HELPER: world.a.user_ids[Role.ASSISTANT],
        }
        run = service.apply_playbook(db.session, None, group, version, START, roles, {}, today=START)
        first = run.days[0].tasks[0]
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        service.complete_task(db.session, first, operator, "我们实际发的这句话", today=START)
        # the playbook is edited and republished
        key = playbook.content["phases"][0]["days"][0]["items"][0]["key"]
        service.update_item(
            db.session,
            playbook,
            key,
            service.ItemFields(time="09:00", role="main_ip", kind="topic", text="全新的第一句"),
        )
        v2 = service.publish(db.session, operator, playbook)
        db.session.commit()
        db.session.expire_all()
        assert v2.number == 2
        assert version.content["phases"][0]["days"][0]["items"][0]["text"] == "欢迎来到{群名}，我是{主IP}"
        first = db.session.get(ScriptTask, first.id)
        assert first.sent_text == "我们实际发的这句话"
        assert first.text == "欢迎来到{群名}，我是{主IP}"
        assert run.days[1].tasks[0].text == "团购价 {团购价}，活动 {活动日期}"


def test_completing_refuses_gaps_blank_text_and_a_second_time(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        task = run.days[1].tasks[0]
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        with pytest.raises(FieldError, match="待补"):
            service.complete_task(db.session, task, operator, "团购价 【待补：团购价】", today=START)
        with pytest.raises(FieldError):
            service.complete_task(db.session, task, operator, "   ", today=START)
        service.complete_task(db.session, task, operator, "团购价 1999", today=START)
        with pytest.raises(FieldError, match="处理过"):
            service.complete_task(db.session, task, operator, "团购价 1999", today=START)
        assert task.finished_on == START


def test_only_the_assignee_or_a_runner_finishes_a_task(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        task = run.days[0].tasks[0]  # the 主IP's
        designer = db.session.get(User, world.a.user_ids[Role.DESIGNER])
        with pytest.raises(FieldError):
            service.skip_task(db.session, task, designer, "不想发", today=START)
        with pytest.raises(FieldError):
            service.skip_task(db.session, task, db.session.get(User, task.assignee_id), "  ", today=START)
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        service.skip_task(db.session, task, lead, "群里正在讨论交房，不打断", today=START)
        assert task.status == TaskStatus.SKIPPED


def test_on_time_counts_tasks_done_by_the_end_of_their_day(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        day1 = run.days[0].tasks
        service.complete_task(db.session, day1[0], operator, "早安", today=START)
        service.complete_task(db.session, day1[1], operator, "晚上好", today=START + timedelta(days=1))  # late
        progress = queries.group_progress(db.session, [world.a.group_id], START + timedelta(days=1))[world.a.group_id]
        assert (progress.due, progress.on_time) == (3, 1)
        assert progress.current_day.phase_label == "铺垫期 第2天/共2天"


def test_one_live_run_per_group_and_roles_must_be_played(app, world):
    with app.app_context():
        run_group(db.session, world.a, START)
        _, version = published_playbook(db.session, world.a.dealer_id, name="第二个")
        group = db.session.get(Group, world.a.group_id)
        with pytest.raises(FieldError, match="正在执行"):
            service.apply_playbook(db.session, None, group, version, START, {}, {}, today=START)
        service.stop(db.session, service.live_run(db.session, group.id), None, today=START)
        with pytest.raises(FieldError) as missing:
            service.apply_playbook(db.session, None, group, version, START, {}, {}, today=START)
        assert missing.value.field == "role_main_ip"
        other_dealer_user = world.b.user_ids[Role.OPERATOR]
        roles = {AccountRole.MAIN_IP: other_dealer_user, AccountRole.HELPER: other_dealer_user}
        with pytest.raises(FieldError):
            service.apply_playbook(db.session, None, group, version, START, roles, {}, today=START)


def test_an_hq_template_must_be_copied_before_a_group_runs_on_it(app, world):
    with app.app_context():
        hq = db.session.query(User).filter_by(username=world.hq_admin).one()
        template = service.create_playbook(db.session, hq, "总部模板（总部标准版）", "", small_content())
        version = service.publish(db.session, hq, template)
        assert template.dealer_id is None and version.dealer_id is None
        group = db.session.get(Group, world.a.group_id)
        with pytest.raises(FieldError, match="复制"):
            service.apply_playbook(db.session, None, group, version, START, {}, {}, today=START)
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        copy = service.copy_playbook(db.session, lead, template)
        assert copy.dealer_id == world.a.dealer_id and copy.name == "总部模板"
        assert copy.content["phases"][0]["name"] == "铺垫期"
        assert copy.content["phases"][0]["key"] != template.content["phases"][0]["key"]
        assert service.copy_playbook(db.session, lead, template).name == "总部模板（2）"
        assert service.can_edit(lead, copy) and not service.can_edit(lead, template)
        assert service.can_edit(hq, template) and not service.can_edit(hq, copy)


def test_editing_phase_days_never_cuts_a_day_with_scripts(app, world):
    with app.app_context():
        playbook, _ = published_playbook(db.session, world.a.dealer_id)
        key = playbook.content["phases"][1]["key"]
        with pytest.raises(FieldError, match="第 3 天"):
            service.update_phase(db.session, playbook, key, service.PhaseFields(name="信任期", days=2))
        service.update_phase(db.session, playbook, key, service.PhaseFields(name="信任期", days=5))
        assert len(playbook.content["phases"][1]["days"]) == 5
        assert playbook.has_unpublished_changes
        service.update_phase(db.session, playbook, key, service.PhaseFields(name="信任期", days=3))
        assert len(playbook.content["phases"][1]["days"]) == 3


def test_publish_refuses_broken_content(app, world):
    with app.app_context():
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        empty = service.create_playbook(db.session, lead, "空剧本")
        with pytest.raises(service.PublishError):
            service.publish(db.session, lead, empty)
        bad = small_content()
        bad["phases"].append(phase("报名期", [item("25:00", "main_ip", "报名")]))
        broken = service.create_playbook(db.session, lead, "坏剧本", "", bad)
        with pytest.raises(service.PublishError) as error:
            service.publish(db.session, lead, broken)
        assert "09:00" in str(error.value)
        assert broken.versions == []


def test_a_run_can_start_no_earlier_than_a_month_ago(app, world):
    with app.app_context():
        with pytest.raises(FieldError):
            run_group(db.session, world.a, START - timedelta(days=31), today=START)
        db.session.rollback()
        run = run_group(db.session, world.a, START - timedelta(days=2), today=START)
        assert queries.RunProgress(run, START).current_day.phase_label == "信任期 第1天/共3天"


def test_scoping_hides_other_dealers_runs_and_shows_hq_templates(app, world):
    from crm.core.scoping import scoped_to
    from crm.scripts.models import Playbook, ScriptRun

    with app.app_context():
        run_group(db.session, world.a, START)
        hq = db.session.query(User).filter_by(username=world.hq_admin).one()
        service.publish(db.session, hq, service.create_playbook(db.session, hq, "总部模板", "", small_content()))
        db.session.commit()
        with scoped_to(world.b.dealer_id):
            assert {run.group_id for run in db.session.query(ScriptRun)} == {world.b.group_id}
            assert {task.run_id for task in db.session.query(ScriptTask)} == {world.b.run_id}
            assert {p.name for p in db.session.query(Playbook)} == {"总部模板", world.b.playbook_name}
        with scoped_to(world.a.dealer_id):
            assert {p.name for p in db.session.query(Playbook)} == {"总部模板", "测试剧本", world.a.playbook_name}


def test_small_content_is_valid(app):
    from crm.scripts.content import problems

    with app.test_request_context():
        assert problems(small_content()) == []


def test_handing_a_role_to_someone_else_moves_only_the_open_tasks(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START)
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        first = run.days[0].tasks[0]
        service.complete_task(db.session, first, operator, "早安", today=START)
        lead_id = world.a.user_ids[Role.DEALER_LEAD]
        moved = service.reassign_role(db.session, run, AccountRole.MAIN_IP, lead_id, None)
        assert moved == 2  # the 主IP's other two tasks; the done one stays with who did it
        main_ip_tasks = [t for d in run.days for t in d.tasks if t.role == AccountRole.MAIN_IP]
        assert {(t.status, t.assignee_id) for t in main_ip_tasks} == {
            (TaskStatus.DONE, operator.id),
            (TaskStatus.PENDING, lead_id),
        }
        assert next(r.user_id for r in run.roles if r.role == AccountRole.MAIN_IP) == lead_id
        with pytest.raises(FieldError):
            service.reassign_role(db.session, run, AccountRole.MAIN_IP, world.b.user_ids[Role.OPERATOR], None)
        with pytest.raises(FieldError):
            service.reassign_role(db.session, run, AccountRole.DESIGNER, lead_id, None)  # the playbook has none


def test_today_lists_two_days_of_backlog_and_counts_the_older_per_group(app, world):
    with app.app_context():
        run_group(db.session, world.a, START)  # 5 days, the 主IP's tasks on days 1, 1, 2, 3
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        now = datetime(2026, 12, 5, 8, 0, tzinfo=BUSINESS_TIMEZONE)  # day 5; days 1–2 are older than two days
        today = queries.today_for(db.session, operator, now)
        assert [c.task.day.number for c in today.overdue] == [3]
        assert [(group.id, count) for group, count in today.older] == [(world.a.group_id, 2)]


def test_role_placeholders_fill_whatever_the_screen_language(app, world):
    from flask_babel import force_locale

    with app.app_context():
        run = run_group(db.session, world.a, START)
        with force_locale("en"):
            assert str(AccountRole.MAIN_IP.label) == "Main persona"  # the screen really is in English
            values = queries._load_run_context(db.session, [run])[run.id]
        assert values["主IP"] == world.a.user_display_names[Role.OPERATOR]
        assert values["马甲"] == world.a.user_display_names[Role.ASSISTANT]


def test_the_estates_offer_fills_what_the_run_leaves_open_and_the_run_wins(app, world):
    with app.app_context():
        run = run_group(db.session, world.a, START, values={"团购价": "木门 1680 元/樘起"})
        values = queries._load_run_context(db.session, [run])[run.id]
        # world.a's offer: event 2026-12-12 (a Saturday), deadline 2027-01-31, tier ≥10 → 88折
        assert values["活动日期"] == "12月12日（周六）"
        assert values["报名截止"] == "1月31日（周日）"
        assert values["到店礼"] == "五金升级礼包"
        assert values["团购价"] == "木门 1680 元/樘起"  # typed for this group: wins over the offer's
        service.set_values(db.session, run, {})
        assert queries._load_run_context(db.session, [run])[run.id]["团购价"] == "满10户88折起"
