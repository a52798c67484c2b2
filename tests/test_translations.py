"""The English catalog covers every UI string, and the English UI really shows English."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from crm.config import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "crm" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
METHODS = [("crm/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_ui_string_has_an_english_translation():
    with Path(CATALOG).open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_messages() - translated.keys())
    assert not missing, "untranslated (run `make translations`, then fill messages.po):\n" + "\n".join(missing)


def test_english_ui(world, login):
    client = login(world.a.lead)
    client.post("/language/en", data={"next": "/"})
    body = client.get("/estates/").get_data(as_text=True)
    assert "Estates" in body or "Estate" in body
    assert "楼盘列表" not in body
    errors = client.post(
        "/estates/new",
        data={
            "name": "",
            "city_id": world.city_ids["齐齐哈尔"],
            "households": "-1",
            "coord_system": "wgs84",
            "stage": "target",
        },
    ).get_data(as_text=True)
    assert "请填写楼盘名称" not in errors
