"""The PDF engine: page sizes, header and footer, the embedded Chinese font, escaping, the URL fetcher, the cache."""

from __future__ import annotations

import base64
import logging
import re
import socket
import subprocess
import sys
from datetime import datetime

import pytest
from jinja2 import ChoiceLoader, DictLoader

from crm.config import PROJECT_ROOT
from crm.pdf import engine
from crm.pdf.engine import (
    ASSET_ORIGIN,
    PRINT_TIMEZONE,
    AssetFetcher,
    AssetRefused,
    cache_dir,
    content_disposition,
    css_string,
    pdf_response,
    render_pdf,
)
from tests.factories import png_bytes
from tests.pdf import poppler

DOCUMENT = """{% extends "pdf/base.html" %}
{% block content %}<h1>{{ heading }}</h1>{{ body|safe }}
{% for name in names %}<p>{{ name }}</p>{% endfor %}
{% if second_page %}<p class="page-break">第二页：{{ heading }}</p>{% endif %}
{% endblock %}"""
TABLE = """{% extends "pdf/base.html" %}
{% block content %}<table><thead><tr><th>序号</th><th>楼盘名称</th></tr></thead>
<tbody>{% for i in range(rows) %}
<tr><td>{{ i }}</td><td>表格楼盘{{ i }}号<br>第二行{{ i }}号</td></tr>{% endfor %}</tbody>
</table>{% endblock %}"""


@pytest.fixture
def documents(app, monkeypatch, tmp_path):
    """Test templates beside the app's own, and a PDF cache of this test's own."""
    loader = ChoiceLoader([DictLoader({"tests/document.html": DOCUMENT, "tests/table.html": TABLE}), app.jinja_loader])
    monkeypatch.setattr(app, "jinja_loader", loader)
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "pdf-cache"))
    return app


def render(app, template="tests/document.html", **options) -> bytes:
    options.setdefault("heading", "齐齐哈尔龙沙区楼盘作战规划图")
    options.setdefault("body", "")
    options.setdefault("names", [])
    with app.test_request_context():
        return render_pdf(template, **options)


def today() -> str:
    return datetime.now(PRINT_TIMEZONE).date().isoformat()


def test_a3_landscape_and_a4_portrait(documents):
    a3 = render(documents, page_size="A3", landscape=True)
    assert poppler.info(a3)["Page size"].startswith("1190.55 x 841.89 pts")  # A3 landscape
    assert poppler.page_size_mm(a3) == (420.0, 297.0)
    assert poppler.info(a3)["Pages"] == "1"
    assert poppler.page_size_mm(render(documents)) == (210.0, 297.0)
    assert poppler.page_size_mm(render(documents, page_size="A3")) == (297.0, 420.0)
    with pytest.raises(ValueError):
        render(documents, page_size="Letter")


def test_header_and_footer_on_every_page(documents):
    pdf = render(documents, title="楼盘流量地图 · 齐齐哈尔", dealer_name="甲经销商", second_page=True)
    assert poppler.info(pdf)["Pages"] == "2"
    assert poppler.info(pdf)["Title"] == "楼盘流量地图 · 齐齐哈尔"
    assert poppler.info(pdf)["Author"] == "甲经销商"
    for page in (1, 2):
        text = poppler.squeezed(poppler.text(pdf, page=page))
        assert "楼盘流量地图·齐齐哈尔" in text and "甲经销商" in text
        assert f"打印日期{today()}" in text
        assert f"第{page}/2页" in text


def test_chinese_is_real_text_in_the_embedded_subset_font(documents):
    pdf = render(documents, names=["Latin 0123456789 ABC xyz"])
    text = poppler.text(pdf)
    assert "齐齐哈尔龙沙区楼盘作战规划图" in text
    assert "Latin 0123456789 ABC xyz" in text
    fonts = poppler.fonts(pdf)
    assert fonts, "no font in the PDF"
    for font in fonts:
        assert re.sub(r"^[A-Z]{6}\+", "", font["name"]).replace("-", "").startswith("NotoSansSC"), font
        assert font["emb"] == font["sub"] == font["uni"] == "yes", font
    assert len(pdf) < 60_000  # subset: kilobytes, not the 2.5 MB font


def test_names_print_literally_in_body_and_header(documents):
    nasty = '<script>alert(1)</script> & 金地"华府\\'
    pdf = render(documents, names=[nasty], title=f"标题 {nasty}", dealer_name="A&B </style> 经销商")
    text = poppler.squeezed(poppler.text(pdf))
    assert poppler.squeezed(nasty) in text
    assert poppler.squeezed(f"标题 {nasty}") in text  # the header's CSS string survived quotes and backslashes
    assert "A&B</style>经销商" in text


def test_css_strings_cannot_break_out():
    quoted = css_string('a"b\\c</style>{}')
    assert quoted.count('"') == 2 and "<" not in quoted and "{" not in quoted and "\\" in quoted


def test_table_header_repeats_and_rows_stay_whole(documents):
    pdf = render(documents, template="tests/table.html", rows=90)
    pages = [poppler.text(pdf, page=page) for page in range(1, int(poppler.info(pdf)["Pages"]) + 1)]
    assert len(pages) >= 2
    assert all("楼盘名称" in text for text in pages)  # the header row repeats
    for i in range(90):  # a row's two lines always land on the same page
        assert any(f"表格楼盘{i}号" in text and f"第二行{i}号" in text for text in pages), i


# --- the URL fetcher ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) every attempt to open a network connection."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_external_and_local_files_outside_the_app_are_never_fetched(documents, no_network, caplog, upload_folder):
    (upload_folder / "plans").mkdir(exist_ok=True)
    (upload_folder / "plans" / "plan.png").write_bytes(png_bytes())
    data_png = "data:image/png;base64," + base64.b64encode(png_bytes(8, 8)).decode()
    body = f"""
        <img src="https://example.com/x.png"><img src="http://127.0.0.1:9/x.png">
        <img src="file:///etc/passwd"><img src="/static/../../../../etc/passwd">
        <link rel="attachment" href="file:///etc/passwd"><a rel="attachment" href="https://example.com/a.pdf">a</a>
        <link rel="stylesheet" href="https://example.com/evil.css">
        <img src="/uploads/plans/plan.png"><img src="{data_png}">
        <link rel="attachment" href="/static/fonts/OFL.txt">
    """
    with caplog.at_level(logging.WARNING, logger="crm.pdf.engine"):
        pdf = render(documents, body=body)
    assert poppler.info(pdf)["Pages"] == "1"  # refusals did not stop the render
    assert no_network == []
    assert poppler.attachments(pdf) == ["OFL.txt"]  # the static file, never /etc/passwd
    assert poppler.images(pdf) == 2  # the upload and the data: image
    refused = " ".join(record.getMessage() for record in caplog.records)
    for url in ("https://example.com/x.png", "http://127.0.0.1:9/x.png", "file:///etc/passwd", "evil.css"):
        assert url in refused
    assert "root:" not in poppler.text(pdf)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/static/favicon.svg",
        "http://localhost/static/favicon.svg",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        "file://example.com/etc/passwd",
        f"{ASSET_ORIGIN}/static/%2e%2e/crm/config.py",
        f"{ASSET_ORIGIN}/static/..%2F..%2Fcrm/config.py",
        f"{ASSET_ORIGIN}/uploads/../../crm/config.py",
        f"{ASSET_ORIGIN}/etc/passwd",
        f"{ASSET_ORIGIN}/static/no-such-file.png",
        f"{ASSET_ORIGIN}/static/",
    ],
)
def test_fetcher_refuses(app, url):
    with app.app_context():
        fetcher = AssetFetcher.for_app(app)
    with pytest.raises(AssetRefused):
        fetcher.resolve(url)
    with pytest.raises(AssetRefused):
        fetcher.fetch(url)


def test_fetcher_serves_static_files_and_uploads_but_not_symlinks_out_or_the_cache(app, upload_folder):
    (upload_folder / "plans").mkdir(exist_ok=True)
    (upload_folder / "plans" / "a.png").write_bytes(png_bytes())
    (upload_folder / "plans" / "escape.txt").symlink_to("/etc/passwd")
    with app.app_context():
        fetcher = AssetFetcher.for_app(app)
        cache = cache_dir(app)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / ("0" * 64 + ".pdf")).write_bytes(b"%PDF-")
    static = fetcher.resolve(f"{ASSET_ORIGIN}/static/fonts/NotoSansSC-Regular.ttf")
    assert static.name == "NotoSansSC-Regular.ttf"
    assert fetcher.resolve((upload_folder / "plans" / "a.png").as_uri()).name == "a.png"
    assert fetcher.resolve(f"{ASSET_ORIGIN}/uploads/plans/a.png").name == "a.png"
    assert fetcher.fetch(f"{ASSET_ORIGIN}/uploads/plans/a.png").read() == png_bytes()
    with pytest.raises(AssetRefused):
        fetcher.resolve(f"{ASSET_ORIGIN}/uploads/plans/escape.txt")
    with pytest.raises(AssetRefused):
        fetcher.resolve(f"{ASSET_ORIGIN}/uploads/pdf-cache/{'0' * 64}.pdf")


# --- the cache ---------------------------------------------------------------------------------


def test_an_unchanged_document_is_not_rendered_again(documents, monkeypatch):
    calls = []
    real = engine._write_pdf

    def counting(html):
        calls.append(html)
        return real(html)

    monkeypatch.setattr(engine, "_write_pdf", counting)
    first = render(documents, names=["缓存小区"])
    second = render(documents, names=["缓存小区"])
    assert len(calls) == 1 and first == second
    with documents.app_context():
        cached = list(cache_dir().glob("*.pdf"))
    assert len(cached) == 1 and re.fullmatch(r"[0-9a-f]{64}\.pdf", cached[0].name)
    assert cached[0].read_bytes() == first

    render(documents, names=["另一个小区"])  # other content
    render(documents, names=["缓存小区"], page_size="A3")  # other page options
    assert len(calls) == 3


def test_a_broken_cache_folder_only_costs_the_cache(documents, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    documents.config["PDF_CACHE_DIR"] = str(blocker / "pdf-cache")
    assert render(documents).startswith(b"%PDF-")


# --- the response ------------------------------------------------------------------------------


def test_pdf_response_keeps_the_chinese_filename(app):
    with app.test_request_context():
        response = pdf_response(b"%PDF-1.7", "楼盘流量地图-齐齐哈尔-2026-11-22.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''%E6%A5%BC%E7%9B%98%E6%B5%81%E9%87%8F%E5%9C%B0%E5%9B%BE-%E9%BD%90" in disposition
    assert 'filename="2026-11-22.pdf"' in disposition


def test_content_disposition_drops_quotes_slashes_and_newlines():
    header = content_disposition('a"b/c\\d\r\nX: y.pdf')
    assert "\r" not in header and "\n" not in header
    ascii_name = header.split('filename="')[1].split('"')[0]
    assert "/" not in ascii_name and "\\" not in ascii_name
    assert content_disposition("报表").endswith("filename*=UTF-8''%E6%8A%A5%E8%A1%A8.pdf")
    assert 'filename="document.pdf"' in content_disposition("报表")


def test_data_urls_are_decoded_locally(app):
    with app.app_context():
        fetcher = AssetFetcher.for_app(app)
    assert fetcher.fetch("data:text/plain;charset=utf-8,%E4%B8%AD%E6%96%87").read() == "中文".encode()
    image = fetcher.fetch("data:image/png;base64," + base64.b64encode(png_bytes(4, 4)).decode())
    assert image.content_type == "image/png" and image.read() == png_bytes(4, 4)


def test_the_app_starts_without_importing_weasyprint():
    """Importing WeasyPrint costs ~0.7 s: only a printout should pay it, not every worker start or CLI call."""
    code = (
        "import sys; from crm import create_app; "
        "create_app({'TESTING': True, 'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
        "assert 'weasyprint' not in sys.modules, 'imported at app start'"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, cwd=PROJECT_ROOT, timeout=60)


def test_renders_outside_a_request_too(documents):
    """A background job or CLI command has an app context but no request."""
    with documents.app_context():
        pdf = render_pdf("tests/document.html", heading="后台生成", body="", names=[], title="作业")
    assert "后台生成" in poppler.text(pdf)


def _translated_as(text: str):
    """A stand-in for gettext whose catalog says `text` (formatted the way gettext formats)."""
    return lambda message, **values: text % values  # noqa: UP031


def test_page_numbers_follow_the_translation(monkeypatch):
    monkeypatch.setattr(engine, "_", _translated_as("Page %(page)s of %(pages)s"))
    assert engine.page_number_content() == '"Page " counter(page) " of " counter(pages)'
    monkeypatch.setattr(engine, "_", _translated_as("第 %(page)s / %(pages)s 页"))
    assert engine.page_number_content() == '"第 " counter(page) " \\2f  " counter(pages) " 页"'
