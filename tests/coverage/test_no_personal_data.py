"""Every HQ coverage page, fragment and export, walked over the registered routes: estate facts and
counts only — never an owner's name or phone, a group's name, or a dealer's staff."""

from __future__ import annotations

import pytest

from crm.core.roles import Role
from tests.test_isolation import _readable, _url


def _personal(world) -> list[str]:
    markers = []
    for dealer in (world.a, world.b):
        markers += [dealer.person_name, dealer.person_phone, dealer.person_phone[-4:] + "", dealer.group_name]
        markers += [dealer.usernames[role] for role in dealer.usernames]
        markers += [dealer.user_display_names[role] for role in dealer.user_display_names]
    return [m for m in markers if len(m) >= 4 or not m.isdigit()]


@pytest.mark.parametrize("hq_user", ["hq_admin", "hq_viewer"])
def test_no_coverage_route_shows_personal_data(app, world, login, hq_user):
    client = login(getattr(world, hq_user))
    markers = _personal(world)
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("coverage.") or "GET" not in rule.methods:
            continue
        url = _url(rule, world.a) if rule.arguments else rule.rule
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers, buffered=True)
            assert response.status_code == 200, f"{url} → {response.status_code}"
            body = _readable(response)
            leaks = [m for m in markers if m and m in body]
            assert not leaks, f"{url} {headers} shows {leaks}"
            seen += 1
    assert seen >= 24  # the walker walked the section (pages, fragments, GeoJSON, XLSX, PDF)


def test_dealer_users_get_403_on_every_coverage_route_without_an_object(app, world, login):
    for role in (Role.DEALER_LEAD, Role.OPERATOR):
        client = login(world.a.usernames[role])
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("coverage.") and not rule.arguments - {"city_id", "rate_id"}:
                url = _url(rule, world.a) if rule.arguments else rule.rule
                method = "GET" if "GET" in rule.methods else "POST"
                assert client.open(url, method=method).status_code == 403, f"{role} {method} {url}"
