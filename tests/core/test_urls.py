"""Links built in bulk are the links url_for builds."""

from __future__ import annotations

from flask import url_for

from crm.core.urls import url_pattern


def test_url_pattern_builds_what_url_for_builds(app):
    with app.test_request_context("/", base_url="http://tablet.example/pantu"):
        estate = url_pattern("estates.detail", "estate_id")
        add_group = url_pattern("groups.create", "estate_id")  # the id in the query string
        metric_form = url_pattern("groups.board_metric_form", "group_id")
        for value in (1, 42, 987654320, 123456789012):
            assert estate(value) == url_for("estates.detail", estate_id=value)
            assert add_group(value) == url_for("groups.create", estate_id=value)
            assert metric_form(value) == url_for("groups.board_metric_form", group_id=value)
        assert estate(7).startswith("/pantu/")
