"""A 主IP on a tablet copies today's filled script into WeChat and marks it sent, all from 今天."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from crm.core.roles import Role
from crm.extensions import db
from crm.scripts.models import ScriptTask, TaskStatus
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def _log_in_and_open_today(page, live_server, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="今天", exact=True).click()
    expect(page).to_have_url(f"{live_server}/scripts/today")
    expect(page.get_by_role("heading", name="今天")).to_be_visible()
    page.wait_for_load_state("load")  # htmx and scripts.js are deferred


def _task(app, task_id: int) -> tuple[TaskStatus, str | None]:
    with app.app_context():
        task = db.session.get(ScriptTask, task_id)
        result = (task.status, task.sent_text)
        db.session.remove()
    return result


def test_main_ip_copies_the_filled_script_and_marks_it_sent(app, world, live_server, page):
    task_id = world.a.task_id
    filled = f"{world.a.playbook_name}话术：欢迎来到{world.a.group_name}"
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)

    _log_in_and_open_today(page, live_server, world.a.usernames[Role.OPERATOR])

    # The overdue task waits under 逾期未发, its {群名} already filled in.
    card = page.get_by_role("region", name="逾期未发").locator(f"#task-{task_id}")
    expect(card).to_be_visible()
    expect(card.locator("[data-copy-source]")).to_have_value(filled)
    expect(card.locator(".task-preview")).to_have_text(filled)
    expect(card.get_by_text("{群名}")).to_have_count(0)

    # 复制话术 puts exactly the filled text on the clipboard (which held something else before).
    page.evaluate("navigator.clipboard.writeText('剪贴板里原来的内容')")
    copy = card.get_by_role("button", name="复制话术")
    copy.click()
    expect(card.get_by_role("button", name="已复制")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == filled
    expect(copy).to_have_text("复制话术", timeout=5_000)  # only briefly

    # Sent unchanged: the card turns done in place, without a page load.
    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: f"/scripts/tasks/{task_id}/done" in r.url) as response:
        card.get_by_role("button", name="已发送，标记完成").click()
    assert response.value.status == 200
    card = page.locator(f"#task-{task_id}")
    expect(card).to_have_class(re.compile(r"\btask-done\b"))
    expect(card).to_contain_text("已完成")
    expect(card.locator(".task-sent")).to_have_text(filled)
    expect(card.get_by_role("button", name="已发送，标记完成")).to_have_count(0)
    assert page.evaluate("window.__samePage") is True

    # After a reload it is listed under 今日已处理, and the record keeps exactly what was posted.
    page.reload()
    expect(page.get_by_role("region", name="今日已处理").locator(f"#task-{task_id}")).to_contain_text("已完成")
    expect(page.get_by_role("region", name="逾期未发")).to_have_count(0)
    assert _task(app, task_id) == (TaskStatus.DONE, filled)
    assert page_errors == []


def test_a_script_with_a_gap_cannot_be_marked_sent_unchanged(app, world, live_server, page):
    task_id = world.a.task_id
    with app.app_context():
        db.session.get(ScriptTask, task_id).text = "开发商：{开发商}"  # the world estate has no developer on record
        db.session.commit()
        db.session.remove()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    _log_in_and_open_today(page, live_server, world.a.usernames[Role.OPERATOR])

    card = page.locator(f"#task-{task_id}")
    gap = card.locator("mark.gap")
    expect(gap).to_be_visible()
    expect(gap).to_have_text("【待补：开发商】")
    expect(card.locator("[data-copy-source]")).to_have_value("开发商：【待补：开发商】")

    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: f"/scripts/tasks/{task_id}/done" in r.url) as response:
        card.get_by_role("button", name="已发送，标记完成").click()
    assert response.value.status == 422
    card = page.locator(f"#task-{task_id}")
    expect(card.get_by_text("内容里还有【待补】的地方，请先补全再标记完成")).to_be_visible()
    expect(card).to_have_class(re.compile(r"\btask-pending\b"))
    expect(card.get_by_role("button", name="已发送，标记完成")).to_be_visible()
    expect(card).not_to_contain_text("已完成")
    assert page.evaluate("window.__samePage") is True
    assert _task(app, task_id) == (TaskStatus.PENDING, None)
    assert page_errors == []
