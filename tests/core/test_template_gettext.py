"""Templates look the catalogue up once per request, and still follow the language when it changes."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale


def test_template_translations_follow_force_locale_within_one_request(app):
    with app.test_request_context("/"):
        assert render_template_string("{{ _('楼盘') }}") == "楼盘"
        with force_locale("en"):
            assert render_template_string("{{ _('楼盘') }}") == "Estates"
        assert render_template_string("{{ _('楼盘') }}") == "楼盘"


def test_a_visitor_who_chose_english_gets_english_pages(world, login):
    client = login(world.a.lead)
    client.post("/language/en", data={"next": "/estates/"})
    assert "Estates" in client.get("/estates/").get_data(as_text=True)


def test_template_gettext_formats_and_escapes_like_jinja_newstyle(app):
    with app.test_request_context("/"):
        template = "{{ _('楼盘') }}|{{ _('楼盘') }}|{{ _('%(n)s 户', n='<b>') }}|{{ _('100%% 完成') }}"
        rendered = render_template_string(template)
    assert rendered == "楼盘|楼盘|&lt;b&gt; 户|100% 完成"
