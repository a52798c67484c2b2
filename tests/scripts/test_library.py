"""The shipped playbook library: every playbook is content a store could publish as is."""

from __future__ import annotations

import re

import pytest

from crm.groups.models import AccountRole
from crm.scripts.content import (
    DATA_PLACEHOLDERS,
    PLACEHOLDER_PATTERN,
    ScriptKind,
    all_placeholders,
    problems,
    roles_used,
)
from crm.scripts.library import SHIPPED_PLAYBOOKS, load

ASKED_PLACEHOLDERS = {"团购价", "活动日期", "到店礼", "报名截止"}
HEX_KEY = re.compile(r"^[0-9a-f]{8}$")


def _items(content: dict) -> list[dict]:
    return [item for phase in content["phases"] for day in phase["days"] for item in day["items"]]


def _texts(content: dict) -> list[str]:
    return [item["text"] for item in _items(content)] + [template["text"] for template in content["templates"]]


@pytest.mark.parametrize("slug", SHIPPED_PLAYBOOKS)
def test_playbook_passes_the_publish_checks(app, slug):
    playbook = load(slug)
    with app.app_context():
        assert [str(problem) for problem in problems(playbook["content"])] == []


@pytest.mark.parametrize("slug", SHIPPED_PLAYBOOKS)
def test_playbook_has_a_name_a_description_and_the_two_standing_texts(slug):
    playbook = load(slug)
    assert playbook["name"].strip()
    assert playbook["description"].strip()
    templates = playbook["content"]["templates"]
    assert [(template["key"], template["name"]) for template in templates] == [
        ("welcome", "入群欢迎语"),
        ("rules", "群公告/群规"),
    ]
    rules = next(template["text"] for template in templates if template["key"] == "rules")
    numbered = re.findall(r"^\d+\.", rules, flags=re.MULTILINE)
    assert 5 <= len(numbered) <= 7


@pytest.mark.parametrize("slug", SHIPPED_PLAYBOOKS)
def test_every_day_has_items_and_every_key_is_unique_hex(slug):
    content = load(slug)["content"]
    for phase in content["phases"]:
        assert phase["days"], phase["name"]
        for number, day in enumerate(phase["days"], start=1):
            assert day["items"], f"{phase['name']} day {number}"
    keys = [phase["key"] for phase in content["phases"]] + [item["key"] for item in _items(content)]
    assert len(keys) == len(set(keys))
    assert all(HEX_KEY.match(key) for key in keys)


@pytest.mark.parametrize("slug", SHIPPED_PLAYBOOKS)
def test_placeholders_are_filled_by_data_or_asked_for(slug):
    content = load(slug)["content"]
    used = set(all_placeholders(content))
    assert used - set(DATA_PLACEHOLDERS) - ASKED_PLACEHOLDERS == set()
    for text in _texts(content):
        leftover = PLACEHOLDER_PATTERN.sub("", text)
        assert "{" not in leftover and "}" not in leftover, text


@pytest.mark.parametrize("slug", SHIPPED_PLAYBOOKS)
def test_all_four_roles_speak_and_no_images_are_shipped(slug):
    content = load(slug)["content"]
    assert roles_used(content) == list(AccountRole)
    assert all(item["images"] == [] for item in _items(content))


def test_new_estate_playbook_opens_with_the_sign_up_run():
    content = load("new_estate_self_built")["content"]
    first_four = [(phase["name"], len(phase["days"])) for phase in content["phases"][:4]]
    assert first_four == [("铺垫期", 3), ("信任期", 3), ("价值期", 2), ("报名期", 2)]


def test_new_estate_playbook_uses_every_kind_and_asks_for_the_sign_up_details():
    content = load("new_estate_self_built")["content"]
    assert {item["kind"] for item in _items(content)} == {kind.value for kind in ScriptKind}
    assert ASKED_PLACEHOLDERS <= set(all_placeholders(content))


def test_unknown_slug_is_refused():
    with pytest.raises(KeyError):
        load("no_such_playbook")
