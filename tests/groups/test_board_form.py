"""The board fetches a group's quick metrics form only when its 录入数据 is opened."""

from __future__ import annotations

from crm.core.roles import Role


def test_the_board_renders_no_metric_forms_until_one_is_opened(world, login):
    client = login(world.a.lead)
    board = client.get("/groups/board").get_data(as_text=True)
    gid = world.a.group_id
    assert f'hx-get="/groups/{gid}/metrics/board-form"' in board
    assert f'name="g{gid}-members"' not in board  # no form fields until asked

    fragment = client.get(f"/groups/{gid}/metrics/board-form").get_data(as_text=True)
    assert f'name="g{gid}-members"' in fragment
    assert f'hx-post="/groups/{gid}/metrics?view=board"' in fragment

    assert login(world.a.usernames[Role.DESIGNER]).get(f"/groups/{gid}/metrics/board-form").status_code == 403
