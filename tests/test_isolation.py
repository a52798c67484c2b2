"""Dealer isolation, checked over every registered route so routes added later are covered too.

A new route whose URL takes an object id must name it in OBJECT_ARGUMENTS (which object of
dealer B to aim at); the walker fails until it does.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from crm.core.roles import DEALER_ROLES, Role
from tests.pdf import poppler

# URL argument → attribute of tests.factories.DealerWorld holding that object's id.
OBJECT_ARGUMENTS = {
    "estate_id": "estate_id",
    "floor_plan_id": "floor_plan_id",
    "dealer_id": "dealer_id",
    "store_id": "store_id",
    "user_id": "user_id",
    "import_id": "import_id",
    "plan_id": "plan_id",
    "plan_estate_id": "plan_estate_id",
    "phase_id": "phase_id",
    "template_id": "template_id",
    "group_id": "group_id",
    "person_id": "person_id",
    "account_id": "account_id",
    "interaction_id": "interaction_id",
    "playbook_id": "playbook_id",
    "run_id": "run_id",
    "task_id": "task_id",
    "product_id": "product_id",
    "offer_id": "offer_id",
    "tier_id": "tier_id",
    "early_bird_id": "early_bird_id",
    "promise_id": "promise_id",
    "proposal_id": "proposal_id",
    "proposal_image_id": "proposal_image_id",
    "proposal_item_id": "proposal_item_id",
    "comment_id": "comment_id",
    "order_id": "order_id",
    "order_item_id": "order_item_id",
    "contract_id": "contract_id",
    "job_id": "job_id",
    "attempt_id": "attempt_id",
    "photo_id": "photo_id",
    "defect_id": "defect_id",
    "warranty_item_id": "warranty_item_id",
    "claim_id": "claim_id",
    "background_job_id": "background_job_id",
}
# URL arguments that name no dealer object, and a value to put in the URL for each.
NON_OBJECT_ARGUMENTS = {
    "filename",
    "code",
    "move",
    "part",
    "kind",
    "stage",
    "token",
    "phase_key",
    "item_key",
    "key",
    "day",
    "name",
    "n",
    "city_id",  # cities are reference data shared by every dealer
    "rate_id",  # HQ's base-deals table: no dealer's data
}
NON_OBJECT_SAMPLES = {
    "token": "0123456789abcdef0123456789abcdef.csv",  # a well-formed people-import token
    "day": "1",
    "name": lambda dealer_world: dealer_world.playbook_image_name,  # a script image the dealer uploaded
    "n": "0",
    "city_id": "1",
    "rate_id": "1",
}


def _object_id(dealer_world, argument: str) -> int:
    if argument == "user_id":
        return dealer_world.user_ids[Role.OPERATOR]
    return getattr(dealer_world, OBJECT_ARGUMENTS[argument])


def _object_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        object_args = rule.arguments - NON_OBJECT_ARGUMENTS
        unknown = object_args - OBJECT_ARGUMENTS.keys()
        assert not unknown, f"{rule.rule}: add {unknown} to OBJECT_ARGUMENTS in {__file__}"
        if object_args:
            rules.append(rule)
    return rules


def _url(rule, dealer_world) -> str:
    path = rule.rule
    for argument in rule.arguments:
        if argument in NON_OBJECT_ARGUMENTS:
            sample = NON_OBJECT_SAMPLES.get(argument, "x")
            value = sample(dealer_world) if callable(sample) else sample
            path = re.sub(rf"<(?:[^:<>]+:)?{argument}>", value, path)
        else:
            path = path.replace(f"<int:{argument}>", str(_object_id(dealer_world, argument)))
    assert "<" not in path, path
    return path


def test_walker_sees_routes_with_object_ids(app):
    endpoints = {rule.endpoint for rule in _object_rules(app)}
    # A guard against the walker silently walking nothing.
    assert {"estates.detail", "estates.edit", "org.dealer_detail", "org.edit_user", "maps.estate_card"} <= endpoints


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_every_object_route_answers_404_for_another_dealers_object(app, world, login, role):
    client = login(world.a.usernames[role])
    failures = []
    for rule in _object_rules(app):
        url = _url(rule, world.b)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={})
            response.close()
            if response.status_code != 404:
                failures.append(f"{method} {url} ({rule.endpoint}) → {response.status_code}")
    assert not failures, "\n".join(failures)


def test_the_same_urls_work_for_the_owning_dealer(app, world, login):
    """The ids used above are real: dealer B's lead reaches every GET page of theirs."""
    client = login(world.b.lead)
    for rule in _object_rules(app):
        if "GET" not in rule.methods:
            continue
        response = client.get(_url(rule, world.b))
        response.close()
        assert response.status_code in (200, 403), f"{rule.rule} → {response.status_code}"
        if rule.endpoint == "estates.detail":
            assert world.b.estate_name in response.get_data(as_text=True)


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_no_list_or_search_shows_another_dealers_rows(app, world, login, role):
    client = login(world.a.usernames[role])
    probes = {
        "q": world.b.estate_name[:4],  # a prefix that finds B's estate, without echoing a full marker
        "dealer_id": world.b.dealer_id,
        "city_id": world.city_ids["长春"],
    }
    leaks = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for query in ({}, probes):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(rule.rule, query_string=query, headers=headers)
                body = _readable(response)
                for marker in world.b.markers():
                    if poppler.squeezed(marker) in body:
                        leaks.append(f"{rule.rule} {query} {headers}: shows {marker!r}")
    assert not leaks, "\n".join(leaks)


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _readable(response) -> str:
    """What a person would read in the response: a PDF's or a workbook's text, or the page (whitespace dropped)."""
    if response.mimetype == "application/pdf":
        return poppler.squeezed(poppler.text(response.data))
    if response.mimetype == XLSX_MIMETYPE:
        workbook = load_workbook(io.BytesIO(response.data), read_only=True)
        try:
            cells = [str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row]
        finally:
            workbook.close()
        return poppler.squeezed(" ".join(cells))
    return poppler.squeezed(response.get_data(as_text=True))


def test_anonymous_visitors_reach_nothing_but_login(app, world, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "auth.login", "auth.set_language", "home.healthz"}:
            continue
        if rule.endpoint.startswith("share."):  # public share pages (see tests/proposals)
            continue
        url = _url(rule, world.a) if rule.arguments else rule.rule
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method)
            response.close()
            assert response.status_code == 302, f"{method} {url} → {response.status_code}"
            assert "/login" in response.headers["Location"]
