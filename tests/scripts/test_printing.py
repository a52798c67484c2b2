"""The printed playbook a store pins up: A4 portrait, real text in the shipped font, every item whole."""

from __future__ import annotations

import re

import pytest

from crm.scripts.printing import marked_placeholders, playbook_pdf
from tests.pdf import poppler
from tests.scripts.test_io import CONTENT, NAME


@pytest.fixture
def render(app):
    def _render(content=CONTENT, name=NAME, version_label="第 3 版", dealer_name="甲经销商"):
        with app.app_context():
            return playbook_pdf(name, version_label, dealer_name, content)

    return _render


def test_the_printout_reads_like_the_playbook(render):
    pdf = render()
    assert poppler.page_size_mm(pdf) == (210.0, 297.0)  # A4 portrait
    text = poppler.squeezed(poppler.text(pdf))
    for expected in (
        NAME,
        "第3版",
        "甲经销商",
        "第1阶段·铺垫期",
        "目标让{楼盘}的业主认识{主IP}，建立信任",
        "第2阶段·爆发期",
        "欢迎{楼盘}的邻居们入群！我是{主IP}，以后装修的事都可以问我。",
        "意图：先让大家记住主IP",
        "主IP",
        "马甲",
        "客服",
        "设计师",
        "欢迎新人",
        "红包",
        "早间巡查",
        "这一天没有安排脚本",  # day 2 of 铺垫期
        "（总第4天）",  # 爆发期's first day, counted from the start
        "入群欢迎语",
        "欢迎新邻居加入{群名}！",
        "群公告/群规",
        "1.不发广告",
    ):
        assert poppler.squeezed(expected) in text, expected
    assert "main_ip" not in text and "red_packet" not in text


def test_items_print_in_time_order(render):
    content = {
        "phases": [
            {
                "key": "p",
                "name": "单日",
                "goal": "",
                "days": [
                    {
                        "items": [
                            {
                                "key": "b",
                                "time": "20:00",
                                "slot": "",
                                "role": "service",
                                "kind": "recap",
                                "text": "晚上的总结",
                                "intent": "",
                                "images": [],
                            },  # fmt: skip
                            {
                                "key": "a",
                                "time": "08:30",
                                "slot": "",
                                "role": "main_ip",
                                "kind": "topic",
                                "text": "早上的话题",
                                "intent": "",
                                "images": [],
                            },  # fmt: skip
                        ]
                    }
                ],
            }
        ],
        "templates": [],
    }
    text = poppler.squeezed(poppler.text(render(content)))
    assert text.index("早上的话题") < text.index("晚上的总结")


def test_text_prints_literally_in_the_embedded_chinese_font(render):
    content = {
        "phases": [
            {
                "key": "p",
                "name": "<b>铺垫期</b>",
                "goal": "",
                "days": [
                    {
                        "items": [
                            {
                                "key": "a",
                                "time": "09:00",
                                "slot": "早间巡查",
                                "role": "main_ip",
                                "kind": "topic",
                                "text": '<script>alert(1)</script> & "{楼盘}" 不是标签',
                                "intent": "a < b",
                                "images": [],
                            },  # fmt: skip
                        ]
                    }
                ],
            }
        ],
        "templates": [],
    }
    pdf = render(content)
    text = poppler.squeezed(poppler.text(pdf))
    assert "<b>铺垫期</b>" in text
    assert poppler.squeezed('<script>alert(1)</script> & "{楼盘}" 不是标签') in text
    assert "意图：a<b" in text
    fonts = poppler.fonts(pdf)
    assert fonts, "no font in the PDF"
    for font in fonts:
        assert re.sub(r"^[A-Z]{6}\+", "", font["name"]).replace("-", "").startswith("NotoSansSC"), font
        assert font["emb"] == font["sub"] == font["uni"] == "yes", font
    assert poppler.images(pdf) == 0  # text, not pictures of text


def test_a_long_playbook_spans_pages_without_cutting_an_item(render):
    days = [
        {
            "items": [
                {
                    "key": f"{day}-{n}",
                    "time": f"{8 + n // 2:02d}:{30 * (n % 2):02d}",
                    "slot": "时段",
                    "role": "helper",
                    "kind": "topic",
                    "text": f"第{day}天脚本{n}号\n第二行{day}-{n}",
                    "intent": f"意图{day}-{n}",
                    "images": [],
                }  # fmt: skip
                for n in range(10)
            ]
        }
        for day in range(1, 9)
    ]
    content = {"phases": [{"key": "p", "name": "长阶段", "goal": "", "days": days}], "templates": []}
    pdf = render(content)
    pages = [poppler.squeezed(poppler.text(pdf, page=page)) for page in range(1, int(poppler.info(pdf)["Pages"]) + 1)]
    assert len(pages) >= 3
    for day in range(1, 9):
        for n in range(10):  # an item's text, second line and intent always land on one page
            assert any(
                f"第{day}天脚本{n}号" in page and f"第二行{day}-{n}" in page and f"意图{day}-{n}" in page
                for page in pages
            ), (day, n)
    for number, page in enumerate(pages, start=1):
        assert f"第{number}/{len(pages)}页" in page and NAME in page  # running header and page numbers


def test_placeholders_are_marked_but_stay_text():
    marked = marked_placeholders("<{楼盘}> & {群名}")
    assert str(marked) == '&lt;<span class="ph">{楼盘}</span>&gt; &amp; <span class="ph">{群名}</span>'
