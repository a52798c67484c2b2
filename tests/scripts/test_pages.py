"""Stage-script pages: 今天, the library and editor, running a group, exports, and who may do what."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from crm.core.models import local_today
from crm.core.roles import Role
from crm.extensions import db
from crm.scripts.models import Playbook, RunStatus, ScriptRun, ScriptTask, TaskStatus
from tests.pdf import poppler

HX = {"HX-Request": "true"}
TODAY = local_today()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _task(task_id) -> ScriptTask:
    return db.session.get(ScriptTask, task_id)


# ---------------------------------------------------------------- 今天


def test_today_shows_the_operators_overdue_script_filled_in(app, world, login):
    page = _text(login(world.a.usernames[Role.OPERATOR]).get("/scripts/today"))
    assert "逾期未发" in page
    assert f"{world.a.playbook_name}话术：欢迎来到{world.a.group_name}" in page  # {群名} filled
    assert "复制话术" in page and "铺垫期 第1天/共2天" in page
    assert world.b.group_name not in page
    # the 马甲 has nothing today
    assert "今天没有待发的话术了" in _text(login(world.a.usernames[Role.ASSISTANT]).get("/scripts/today"))


def test_marking_done_keeps_the_text_sent_and_swaps_the_card(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    response = client.post(f"/scripts/tasks/{world.a.task_id}/done", data={"sent_text": "改过一点再发的话"}, headers=HX)
    assert response.status_code == 200
    card = _text(response)
    assert f'id="task-{world.a.task_id}"' in card and "已完成" in card and "改过一点再发的话" in card
    with app.app_context():
        task = _task(world.a.task_id)
        assert (task.status, task.sent_text, task.finished_on) == (TaskStatus.DONE, "改过一点再发的话", TODAY)
    again = client.post(f"/scripts/tasks/{world.a.task_id}/done", data={"sent_text": "再发一次"}, headers=HX)
    assert again.status_code == 422 and "已经处理过" in _text(again)
    assert "今日已处理" in _text(client.get("/scripts/today"))


def test_a_text_with_gaps_is_refused_and_nothing_is_saved(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    response = client.post(
        f"/scripts/tasks/{world.a.task_id}/done", data={"sent_text": "团购价【待补：团购价】"}, headers=HX
    )
    assert response.status_code == 422 and "待补" in _text(response) and "请先补全" in _text(response)
    with app.app_context():
        assert _task(world.a.task_id).status == TaskStatus.PENDING


def test_skipping_needs_a_reason_and_plain_posts_redirect_back(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    refused = client.post(f"/scripts/tasks/{world.a.task_id}/skip", data={"reason": " "}, headers=HX)
    assert refused.status_code == 422 and "请写明跳过的原因" in _text(refused)
    done = client.post(
        f"/scripts/tasks/{world.a.task_id}/skip", data={"reason": "群里在吵物业", "next": "/scripts/today"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/scripts/today")
    with app.app_context():
        assert (_task(world.a.task_id).status, _task(world.a.task_id).skip_reason) == (
            TaskStatus.SKIPPED,
            "群里在吵物业",
        )


def test_a_colleague_cannot_finish_someone_elses_task_but_the_lead_can(app, world, login):
    designer = login(world.a.usernames[Role.DESIGNER])
    refused = designer.post(f"/scripts/tasks/{world.a.task_id}/done", data={"sent_text": "好"}, headers=HX)
    assert refused.status_code == 422 and "不是你的" in _text(refused)
    lead = login(world.a.lead)
    assert lead.post(f"/scripts/tasks/{world.a.task_id}/done", data={"sent_text": "好"}, headers=HX).status_code == 200


def test_installers_and_hq_have_no_today(app, world, login):
    assert login(world.a.usernames[Role.INSTALLER]).get("/scripts/today").status_code == 403
    assert login(world.hq_admin).get("/scripts/today").status_code == 403


def test_today_costs_the_same_queries_for_one_group_or_many(app, world, login, count_queries):
    from crm.estates.models import Estate
    from crm.groups import service as groups_service
    from crm.groups.models import AccountRole
    from crm.scripts import service
    from tests.scripts.helpers import published_playbook

    client = login(world.a.usernames[Role.OPERATOR])
    client.get("/scripts/today")
    with count_queries() as one:
        client.get("/scripts/today")
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        _, version = published_playbook(db.session, world.a.dealer_id)
        for n in range(3):
            group = groups_service.create_group(db.session, estate, groups_service.GroupFields(name=f"加群{n}"))
            roles = {
                AccountRole.MAIN_IP: world.a.user_ids[Role.OPERATOR],
                AccountRole.HELPER: world.a.user_ids[Role.OPERATOR],
            }
            service.apply_playbook(db.session, None, group, version, TODAY - timedelta(days=2), roles, {}, today=TODAY)
        db.session.commit()
    with count_queries() as many:
        page = _text(client.get("/scripts/today"))
    assert page.count("加群") >= 3
    assert many.count == one.count


# ---------------------------------------------------------------- the library


def _hq_template(client, name="总部测试模板") -> int:
    created = client.post("/scripts/playbooks/new", data={"name": name, "description": "测试"})
    assert created.status_code == 302, _text(created)
    playbook_url = created.headers["Location"]
    playbook_id = int(playbook_url.rstrip("/").rsplit("/", 1)[1])
    assert (
        client.post(f"/scripts/playbooks/{playbook_id}/phases", data={"name": "铺垫期", "days": "2"}).status_code == 302
    )
    with client.application.app_context():
        phase_key = db.session.get(Playbook, playbook_id).content["phases"][0]["key"]
    added = client.post(
        f"/scripts/playbooks/{playbook_id}/phases/{phase_key}/days/1/items",
        data={"time": "9:30", "role": "main_ip", "kind": "welcome", "text": "欢迎{楼盘}的邻居", "intent": "破冰"},
    )
    assert added.status_code == 302
    published = client.post(f"/scripts/playbooks/{playbook_id}/publish", data={"note": "首版"})
    assert published.status_code == 302
    return playbook_id


def test_hq_publishes_a_template_and_a_dealer_copies_and_adapts_it(app, world, login):
    hq = login(world.hq_admin)
    template_id = _hq_template(hq)
    page = _text(hq.get(f"/scripts/playbooks/{template_id}"))
    assert "v1" in page and "首版" in page and "09:30" in page and "早间巡查" in page
    assert world.a.playbook_name not in _text(hq.get("/scripts/playbooks"))  # HQ sees templates, not dealers' playbooks

    lead = login(world.a.lead)
    library = _text(lead.get("/scripts/playbooks"))
    assert "总部测试模板" in library and world.a.playbook_name in library and world.b.playbook_name not in library
    assert lead.post(f"/scripts/playbooks/{template_id}/details", data={"name": "改总部的"}).status_code == 403
    copied = lead.post(f"/scripts/playbooks/{template_id}/copy")
    assert copied.status_code == 302
    copy_id = int(copied.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        copy = db.session.get(Playbook, copy_id)
        assert (copy.dealer_id, copy.copied_from_id, copy.versions) == (world.a.dealer_id, template_id, [])
    assert "欢迎{楼盘}的邻居" in _text(lead.get(f"/scripts/playbooks/{copy_id}"))
    # dealer B never sees A's copy
    assert login(world.b.lead).get(f"/scripts/playbooks/{copy_id}").status_code == 404


def test_an_unpublished_hq_draft_stays_with_hq(app, world, login):
    hq = login(world.hq_admin)
    created = hq.post("/scripts/playbooks/new", data={"name": "还在写的模板"})
    draft_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert "还在写的模板" not in _text(login(world.a.lead).get("/scripts/playbooks"))
    assert login(world.a.lead).get(f"/scripts/playbooks/{draft_id}").status_code == 404
    viewer = login(world.hq_viewer)
    assert viewer.get(f"/scripts/playbooks/{draft_id}").status_code == 200
    assert viewer.post(f"/scripts/playbooks/{draft_id}/phases", data={"name": "x", "days": "1"}).status_code == 403


def test_editor_refuses_bad_items_and_cutting_scripted_days(app, world, login):
    lead = login(world.a.lead)
    playbook_id = world.a.playbook_id
    with app.app_context():
        phase_key = db.session.get(Playbook, playbook_id).content["phases"][0]["key"]
    bad = lead.post(
        f"/scripts/playbooks/{playbook_id}/phases/{phase_key}/days/2/items",
        data={"time": "25:61", "role": "main_ip", "kind": "topic", "text": "晚安"},
    )
    assert bad.status_code == 422 and "24 小时制" in _text(bad)
    cut = lead.post(
        f"/scripts/playbooks/{playbook_id}/phases/{phase_key}",
        data={f"{phase_key}-name": "铺垫期", f"{phase_key}-days": "0"},
    )
    assert cut.status_code == 422 and "天数须在" in _text(cut)
    with app.app_context():
        playbook = db.session.get(Playbook, playbook_id)
        assert len(playbook.content["phases"][0]["days"]) == 2 and not playbook.has_unpublished_changes


def test_editing_and_republishing_leaves_the_running_group_alone(app, world, login):
    lead = login(world.a.lead)
    playbook_id = world.a.playbook_id
    with app.app_context():
        item_key = db.session.get(Playbook, playbook_id).content["phases"][0]["days"][0]["items"][0]["key"]
    edited = lead.post(
        f"/scripts/playbooks/{playbook_id}/items/{item_key}",
        data={
            f"{item_key}-time": "10:00",
            f"{item_key}-role": "main_ip",
            f"{item_key}-kind": "topic",
            f"{item_key}-text": "新版开场白",
        },
    )
    assert edited.status_code == 302
    assert "草稿有未发布的修改" in _text(lead.get(f"/scripts/playbooks/{playbook_id}"))
    assert lead.post(f"/scripts/playbooks/{playbook_id}/publish", data={}).status_code == 302
    with app.app_context():
        playbook = db.session.get(Playbook, playbook_id)
        assert [v.number for v in playbook.versions] == [1, 2]
        assert _task(world.a.task_id).text.startswith(f"{world.a.playbook_name}话术")
    today = _text(login(world.a.usernames[Role.OPERATOR]).get("/scripts/today"))
    assert f"{world.a.playbook_name}话术" in today and "新版开场白" not in today


def test_a_playbook_with_runs_cannot_be_deleted(app, world, login):
    lead = login(world.a.lead)
    response = lead.post(f"/scripts/playbooks/{world.a.playbook_id}/delete", follow_redirects=True)
    assert "不能删除" in _text(response)
    with app.app_context():
        assert db.session.get(Playbook, world.a.playbook_id) is not None


def test_export_then_import_gives_the_same_playbook(app, world, login):
    lead = login(world.a.lead)
    exported = lead.get(f"/scripts/playbooks/{world.a.playbook_id}/export.xlsx?version=1")
    assert exported.status_code == 200
    workbook = load_workbook(io.BytesIO(exported.data))
    cells = [str(v) for row in workbook["脚本"].iter_rows(values_only=True) for v in row if v]
    assert "主IP" in cells and f"{world.a.playbook_name}话术：欢迎来到{{群名}}" in cells
    imported = lead.post(
        "/scripts/playbooks/import",
        data={"file": (io.BytesIO(exported.data), "剧本.xlsx")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302
    with app.app_context():
        original = db.session.get(Playbook, world.a.playbook_id)
        copy = db.session.scalars(sa.select(Playbook).where(Playbook.name == f"{original.name}（2）")).one()
        strip = lambda content: [  # noqa: E731
            [[(i["time"], i["role"], i["kind"], i["text"]) for i in d["items"]] for d in p["days"]]
            for p in content["phases"]
        ]
        assert strip(copy.content) == strip(original.versions[0].content)


def test_import_refuses_a_file_that_is_not_a_workbook(app, world, login):
    lead = login(world.a.lead)
    response = lead.post(
        "/scripts/playbooks/import",
        data={"file": (io.BytesIO("不是表格".encode()), "剧本.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(Playbook).filter(Playbook.dealer_id == world.a.dealer_id).count() == 1


def test_the_printed_playbook_has_its_scripts_in_the_shipped_font(app, world, login):
    response = login(world.a.usernames[Role.OPERATOR]).get(
        f"/scripts/playbooks/{world.a.playbook_id}/print.pdf?version=1"
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = poppler.squeezed(poppler.text(response.data))
    assert poppler.squeezed(world.a.playbook_name) in text and poppler.squeezed(f"{world.a.playbook_name}话术") in text
    fonts = poppler.fonts(response.data)
    assert fonts and all(font["emb"] == "yes" and "NotoSansSC" in font["name"].replace("-", "") for font in fonts)


# ---------------------------------------------------------------- a group on a playbook


def test_lead_applies_a_playbook_to_a_group_and_sees_the_calendar(app, world, login):
    lead = login(world.a.lead)
    group_page = f"/scripts/groups/{world.a.group_id}"
    assert "铺垫期" in _text(lead.get(group_page))
    assert lead.post(f"/scripts/runs/{world.a.run_id}/stop", data={"note": "换剧本"}).status_code == 302
    form = _text(lead.get(group_page))
    assert "按剧本运营这个群" in form
    with app.app_context():
        version_id = db.session.get(Playbook, world.a.playbook_id).versions[0].id
    partial = lead.get(group_page, query_string={"version_id": version_id}, headers=HX)
    assert "这个剧本用到：主IP" in _text(partial) and "<html" not in _text(partial)
    missing = lead.post(
        f"/scripts/groups/{world.a.group_id}/apply", data={"version_id": version_id, "starts_on": TODAY.isoformat()}
    )
    assert missing.status_code == 422 and "请为“主IP”选择本店在职的账号" in _text(missing)
    applied = lead.post(
        f"/scripts/groups/{world.a.group_id}/apply",
        data={
            "version_id": version_id,
            "starts_on": TODAY.isoformat(),
            "role_main_ip": world.a.user_ids[Role.OPERATOR],
        },
    )
    assert applied.status_code == 302
    page = _text(lead.get(group_page))
    assert "铺垫期 第1天/共2天" in page and f"{world.a.playbook_name}话术：欢迎来到{world.a.group_name}" in page
    assert "以往剧本" in page and "已停止" in page
    assert "铺垫期 第1天/共2天" in _text(lead.get(f"/groups/{world.a.group_id}"))
    assert "铺垫期 第1天/共2天" in _text(lead.get("/groups/board"))


def test_skip_a_day_and_shift_from_the_run_page(app, world, login):
    lead = login(world.a.lead)
    with app.app_context():
        run = db.session.get(ScriptRun, world.a.run_id)
        run.days[0].on_date, run.days[1].on_date = TODAY, TODAY + timedelta(days=1)
        db.session.commit()
    skipped = lead.post(f"/scripts/runs/{world.a.run_id}/skip-day", data={"on_date": TODAY.isoformat(), "note": "停电"})
    assert skipped.status_code == 302
    refused = lead.post(f"/scripts/runs/{world.a.run_id}/shift", data={"from_date": TODAY.isoformat(), "days": "0"})
    assert refused.status_code == 422 and "不为 0" in _text(refused)
    shifted = lead.post(f"/scripts/runs/{world.a.run_id}/shift", data={"from_date": TODAY.isoformat(), "days": "2"})
    assert shifted.status_code == 302
    with app.app_context():
        run = db.session.get(ScriptRun, world.a.run_id)
        assert [d.on_date for d in run.days] == [TODAY + timedelta(days=3), TODAY + timedelta(days=4)]
    page = _text(lead.get(f"/scripts/groups/{world.a.group_id}"))
    assert "未开始" in page and "停电" in page and "跳过一天" in page


def test_pause_hides_the_tasks_and_resume_brings_them_back(app, world, login):
    lead = login(world.a.lead)
    operator = login(world.a.usernames[Role.OPERATOR])
    assert lead.post(f"/scripts/runs/{world.a.run_id}/pause").status_code == 302
    assert f"{world.a.playbook_name}话术" not in _text(operator.get("/scripts/today"))
    assert "已暂停" in _text(lead.get(f"/scripts/groups/{world.a.group_id}"))
    assert lead.post(f"/scripts/runs/{world.a.run_id}/resume").status_code == 302
    with app.app_context():
        assert db.session.get(ScriptRun, world.a.run_id).status == RunStatus.RUNNING
    assert f"{world.a.playbook_name}话术" in _text(operator.get("/scripts/today"))


def test_only_leads_and_operators_run_scripts(app, world, login):
    assistant = login(world.a.usernames[Role.ASSISTANT])
    assert assistant.post(f"/scripts/runs/{world.a.run_id}/pause").status_code == 403
    page = _text(assistant.get(f"/scripts/groups/{world.a.group_id}"))
    assert "暂停" not in page.split("</header>", 1)[1].split("日程", 1)[0]


def test_lead_hands_the_main_persona_to_a_colleague(app, world, login):
    lead = login(world.a.lead)
    response = lead.post(
        f"/scripts/runs/{world.a.run_id}/roles", data={"role": "main_ip", "user_id": world.a.user_ids[Role.ASSISTANT]}
    )
    assert response.status_code == 302
    assert f"{world.a.playbook_name}话术" in _text(login(world.a.usernames[Role.ASSISTANT]).get("/scripts/today"))
    assert f"{world.a.playbook_name}话术" not in _text(login(world.a.usernames[Role.OPERATOR]).get("/scripts/today"))
    refused = lead.post(
        f"/scripts/runs/{world.a.run_id}/roles",
        data={"role": "main_ip", "user_id": world.b.user_ids[Role.OPERATOR]},
        follow_redirects=True,
    )
    assert "请为“主IP”选择本店在职的账号" in _text(refused)
