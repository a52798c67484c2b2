"""A playbook as an .xlsx a store edits in Excel/WPS: export a version, import an edited copy.

The workbook has four sheets: 说明 (name, description, how to edit), 阶段 (one row per phase),
脚本 (one row per script item, roles and kinds as their labels) and 常用文案 (the group's standing
texts). Sheets and columns are found by their names in any of the app's languages, so a file
exported with the English UI imports under the Chinese one. Images stay out of the file.

Nothing here touches the database: the caller stores what parse_xlsx returns.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, time

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from crm.core.i18n import lazy_gettext as _l
from crm.core.xlsx import keep_text, xlsx_text
from crm.groups.models import AccountRole
from crm.imports.parsing import MAX_FILE_BYTES, MAX_XLSX_UNPACKED_BYTES, cell_text, is_empty
from crm.scripts.content import (
    MAX_DAYS_PER_PHASE,
    MAX_ITEMS_PER_DAY,
    MAX_NAME_CHARS,
    MAX_PHASES,
    ScriptKind,
    default_slot_name,
    item_problems,
    new_key,
    problems,
    sorted_items,
)

# The biggest playbook content allows, plus the header row: a longer sheet is not a playbook.
MAX_SHEET_ROWS = MAX_PHASES * MAX_DAYS_PER_PHASE * MAX_ITEMS_PER_DAY + 1

SHEET_GUIDE = _l("说明")
SHEET_PHASES = _l("阶段")
SHEET_ITEMS = _l("脚本")
SHEET_TEMPLATES = _l("常用文案")

GUIDE_NAME = _l("剧本名称")
GUIDE_DESCRIPTION = _l("剧本说明")
GUIDE_VERSION = _l("版本")

# Column key → header; the import finds columns by header, so a store may reorder or add columns.
PHASE_COLUMNS = {"number": _l("序号"), "name": _l("阶段"), "goal": _l("目标"), "days": _l("天数")}
ITEM_COLUMNS = {
    "phase": _l("阶段"),
    "day": _l("第几天"),
    "time": _l("时间"),
    "slot": _l("时段"),
    "role": _l("角色"),
    "kind": _l("类型"),
    "text": _l("内容"),
    "intent": _l("意图说明"),
}
TEMPLATE_COLUMNS = {"name": _l("名称"), "text": _l("内容")}
REQUIRED_PHASE_COLUMNS = ("name", "days")
REQUIRED_ITEM_COLUMNS = ("phase", "day", "time", "role", "kind", "text")
REQUIRED_TEMPLATE_COLUMNS = ("name", "text")

PHASE_WIDTHS = (6, 16, 50, 8)
ITEM_WIDTHS = (14, 8, 8, 12, 10, 12, 60, 32)
TEMPLATE_WIDTHS = (18, 80)

# The standing texts the editor knows by key; any other template gets a fresh key.
TEMPLATE_KEYS = {"welcome": _l("入群欢迎语"), "rules": _l("群公告/群规")}

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .xls / .et files
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DAY = re.compile(r"第?(\d{1,4})天?")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class PlaybookFileError(Exception):
    """The file cannot become a playbook; `problems` says why, in words naming sheet and row."""

    def __init__(self, problems: list[str]):
        self.problems = [str(problem) for problem in problems]
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class ParsedPlaybook:
    name: str
    description: str
    content: dict


# ---- export ------------------------------------------------------------------------------------


def export_xlsx(name: str, description: str, content: dict, version_label: str) -> bytes:
    """The playbook as an .xlsx with the sheets 说明, 阶段, 脚本 and 常用文案 (images are left out)."""
    from openpyxl import Workbook

    workbook = Workbook()
    guide = workbook.active
    guide.title = _sheet_title(SHEET_GUIDE)
    _write_guide(guide, name, description, version_label)

    phases_sheet = workbook.create_sheet(_sheet_title(SHEET_PHASES))
    phase_rows = [
        [number, phase["name"], phase.get("goal", ""), len(phase["days"])]
        for number, phase in enumerate(content["phases"], start=1)
    ]
    _write_table(phases_sheet, PHASE_COLUMNS, phase_rows, PHASE_WIDTHS, wrapped=("goal",))

    items_sheet = workbook.create_sheet(_sheet_title(SHEET_ITEMS))
    item_rows = [
        [
            phase["name"],
            day_number,
            item["time"],
            item.get("slot", ""),
            _label(AccountRole, item["role"]),
            _label(ScriptKind, item["kind"]),
            item["text"],
            item.get("intent", ""),
        ]
        for phase in content["phases"]
        for day_number, day in enumerate(phase["days"], start=1)
        for item in sorted_items(day["items"])
    ]
    _write_table(items_sheet, ITEM_COLUMNS, item_rows, ITEM_WIDTHS, wrapped=("text", "intent"))
    for (cell,) in items_sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.number_format = "@"  # "09:00" stays text: Excel would turn it into a fraction of a day
    _add_choices(items_sheet, "E", [role.label for role in AccountRole])
    _add_choices(items_sheet, "F", [kind.label for kind in ScriptKind])

    templates_sheet = workbook.create_sheet(_sheet_title(SHEET_TEMPLATES))
    template_rows = [[template["name"], template["text"]] for template in content.get("templates", [])]
    _write_table(templates_sheet, TEMPLATE_COLUMNS, template_rows, TEMPLATE_WIDTHS, wrapped=("text",))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_guide(sheet, name: str, description: str, version_label: str) -> None:
    from openpyxl.styles import Alignment, Font

    roles = _choices_text([role.label for role in AccountRole])
    kinds = "、".join(kind.label for kind in ScriptKind)
    how_to = [
        _(
            "在“%(sheet)s”表里每行一个阶段：阶段名称不能重复，天数为 1 到 %(n)d 的整数，阶段按序号排列。",
            sheet=str(SHEET_PHASES),
            n=MAX_DAYS_PER_PHASE,
        ),
        _(
            "在“%(sheet)s”表里每行一条脚本：“阶段”须与“%(phases)s”表里的名称一致，“第几天”不能超过该阶段的天数。",
            sheet=str(SHEET_ITEMS),
            phases=str(SHEET_PHASES),
        ),
        _("时间用 24 小时制的 时:分，如 09:00；时段留空时按时间自动填写（早间巡查、午间活跃等）。"),
        _("角色须为 %(roles)s。", roles=roles),
        _("类型须为以下之一：%(kinds)s。", kinds=kinds),
        _("内容里的占位符（如 {楼盘}、{群名}、{主IP}）请原样保留，应用到社群时会替换成实际内容。"),
        _("“%(sheet)s”表每行一条常用文案，如入群欢迎语、群公告/群规。", sheet=str(SHEET_TEMPLATES)),
        _("图片不会导出到表格里，导入的剧本也不带图片；需要图片时请在系统里重新上传。"),
        _("空行会被跳过。文件里只要有一处问题，整个文件都不会导入，系统会逐行列出问题。"),
        _("请不要修改工作表和表头的名称。"),
    ]
    sheet.append([str(GUIDE_NAME), xlsx_text(name)])
    sheet.append([str(GUIDE_DESCRIPTION), xlsx_text(description)])
    sheet.append([str(GUIDE_VERSION), xlsx_text(version_label)])
    sheet.append([])
    sheet.append([_("如何修改后导入")])
    for number, line in enumerate(how_to, start=1):
        sheet.append([number, line])
    keep_text(sheet)
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column == 2)
    for row in (1, 2, 3, 5):
        sheet.cell(row=row, column=1).font = Font(bold=True)
    sheet.cell(row=1, column=2).font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 90


def _write_table(sheet, columns: dict, rows: list[list], widths: tuple[int, ...], wrapped: tuple[str, ...]) -> None:
    """Header (bold, frozen) and rows; long-text columns wrap."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet.append([str(header) for header in columns.values()])
    for row in rows:
        sheet.append([xlsx_text(value) for value in row])
    keep_text(sheet)
    header_fill = PatternFill("solid", fgColor="EEF1F4")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    wrapped_columns = {index for index, key in enumerate(columns, start=1) if key in wrapped}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column in wrapped_columns)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _add_choices(sheet, column: str, labels: list[str]) -> None:
    """A drop-down of `labels` on a column (typing something else, such as main_ip, is still allowed)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    choices = ",".join(labels)
    if len(choices) > 255 or any("," in label or '"' in label for label in labels):
        return  # Excel's limits for a list typed into the rule; the drop-down is only a convenience
    validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
    validation.add(f"{column}2:{column}{max(sheet.max_row, 1) + 500}")
    sheet.add_data_validation(validation)


def _sheet_title(label) -> str:
    return _SHEET_TITLE_FORBIDDEN.sub("", str(label))[:31]


def _label(enum, value: str) -> str:
    try:
        return enum(value).label
    except ValueError:
        return value


def _choices_text(labels: list[str]) -> str:
    """主IP、马甲、客服 或 设计师."""
    if len(labels) < 2:
        return "".join(labels)
    return _("%(first)s 或 %(last)s", first="、".join(labels[:-1]), last=labels[-1])


# ---- import ------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    title: str  # as the file names it: problems quote what the user sees
    rows: list[tuple[int, list]]  # (spreadsheet row number, cells), empty rows left out


@dataclass
class _Phase:
    row: int
    number: int | None
    name: str
    goal: str
    days: int | None
    items: list[list[dict]] = field(default_factory=list)


class _Problems(list):
    def at(self, sheet: _Sheet, row: int, message: str) -> None:
        self.append(_("%(sheet)s 第 %(row)d 行：%(problem)s", sheet=sheet.title, row=row, problem=message))


def parse_xlsx(data: bytes) -> ParsedPlaybook:
    """Read an edited playbook workbook; PlaybookFileError lists every problem, and nothing is returned then."""
    sheets = _read_workbook(data)
    found = _Problems()
    guide = _find_sheet(sheets, SHEET_GUIDE, found)
    phases_sheet = _find_sheet(sheets, SHEET_PHASES, found)
    items_sheet = _find_sheet(sheets, SHEET_ITEMS, found)
    templates_sheet = _find_sheet(sheets, SHEET_TEMPLATES, found)
    if found:
        raise PlaybookFileError(found)

    name, description = _read_guide(guide, found)
    phases = _read_phases(phases_sheet, found)
    _read_items(items_sheet, phases, phases_sheet.title, found)
    templates = _read_templates(templates_sheet, found)
    if found:
        raise PlaybookFileError(found)

    ordered = sorted(phases.values(), key=lambda phase: (phase.number is None, phase.number or 0, phase.row))
    content = {
        "phases": [
            {
                "key": new_key(),
                "name": phase.name,
                "goal": phase.goal,
                "days": [{"items": sorted_items(items)} for items in phase.items],
            }
            for phase in ordered
        ],
        "templates": templates,
    }
    if content_problems := problems(content):
        raise PlaybookFileError([str(problem) for problem in content_problems])
    return ParsedPlaybook(name=name, description=description, content=content)


def _read_workbook(data: bytes) -> list[_Sheet]:
    """Every worksheet's non-empty rows; PlaybookFileError for anything that is not a readable .xlsx."""
    from openpyxl import load_workbook

    if not data:
        raise PlaybookFileError([_("上传的文件是空的")])
    if len(data) > MAX_FILE_BYTES:
        raise PlaybookFileError([_("文件不能超过 %(mb)d MB", mb=MAX_FILE_BYTES // (1024 * 1024))])
    if data.startswith(_OLE_MAGIC):
        raise PlaybookFileError([_("这是旧版 Excel（.xls）文件，请在 Excel/WPS 中另存为 .xlsx 后再导入")])
    if not data.startswith(_XLSX_MAGIC):
        raise PlaybookFileError([_("这个文件不是 Excel 表格（.xlsx），请用导出的剧本表格修改后再导入")])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                raise PlaybookFileError([_("文件解压后太大，无法导入")])
        with warnings.catch_warnings():
            # Files saved by WPS or older Excel carry extensions openpyxl does not support: harmless here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return [_sheet_rows(sheet) for sheet in workbook.worksheets]
            finally:
                workbook.close()
    except PlaybookFileError:
        raise
    except Exception:  # openpyxl raises many kinds of errors on a damaged file; all mean the same to the user
        raise PlaybookFileError([_("无法读取这个 Excel 文件，文件可能已损坏，请重新导出后再试")]) from None


def _sheet_rows(sheet) -> _Sheet:
    # Some programs write a wrong sheet size; measure the rows themselves instead.
    sheet.reset_dimensions()
    rows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if all(is_empty(value) for value in values):
            continue
        if len(rows) == MAX_SHEET_ROWS:
            raise PlaybookFileError([_("“%(sheet)s”表超过 %(n)d 行，无法导入", sheet=sheet.title, n=MAX_SHEET_ROWS)])
        rows.append((number, list(values)))
    return _Sheet(sheet.title, rows)


def _normalized(text: str) -> str:
    """The key names are matched on: width-folded, lower-case, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _spellings(label) -> set[str]:
    """A label (a lazy string, or a function giving one) as every language of the app writes it, normalized."""

    def spelled() -> str:
        return _normalized(str(label() if callable(label) else label))

    if not has_app_context():
        return {spelled()}
    spellings = set()
    for language in current_app.config.get("LANGUAGES") or (current_app.config["BABEL_DEFAULT_LOCALE"],):
        with force_locale(language):
            spellings.add(spelled())
    return spellings


def _find_sheet(sheets: list[_Sheet], label, found: _Problems) -> _Sheet | None:
    names = _spellings(label)
    for sheet in sheets:
        if _normalized(sheet.title) in names:
            return sheet
    found.append(_("文件里没有“%(sheet)s”工作表，请用导出的剧本表格修改后再导入", sheet=str(label)))
    return None


def _columns(sheet: _Sheet, columns: dict, required: tuple[str, ...], found: _Problems) -> dict[str, int] | None:
    """Column key → index from the sheet's first row; None (with problems) when a required one is missing."""
    if not sheet.rows:
        found.append(_("“%(sheet)s”表是空的，缺少表头行", sheet=sheet.title))
        return None
    row, headers = sheet.rows[0]
    spelled = [_normalized(cell_text(header)) for header in headers]
    indexes = {}
    for key, label in columns.items():
        names = _spellings(label)
        index = next((i for i, header in enumerate(spelled) if header in names), None)
        if index is not None:
            indexes[key] = index
        elif key in required:
            found.at(sheet, row, _("缺少“%(column)s”列", column=str(label)))
    return indexes if all(key in indexes for key in required) else None


def _cells(cells: list, indexes: dict[str, int]) -> dict[str, object]:
    return {key: cells[index] if index < len(cells) else None for key, index in indexes.items()}


def _text(value) -> str:
    return cell_text(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _read_guide(sheet: _Sheet, found: _Problems) -> tuple[str, str]:
    name_labels, description_labels = _spellings(GUIDE_NAME), _spellings(GUIDE_DESCRIPTION)
    name = description = None
    name_row = 0
    for number, cells in sheet.rows:
        label = _normalized(cell_text(cells[0]))
        value = _text(cells[1]) if len(cells) > 1 else ""
        if label in name_labels and name is None:
            name, name_row = value, number
        elif label in description_labels and description is None:
            description = value
    if name is None:
        found.append(_("“%(sheet)s”表里没有“%(label)s”一行", sheet=sheet.title, label=str(GUIDE_NAME)))
    elif not name:
        found.at(sheet, name_row, _("剧本名称不能为空"))
    elif len(name) > MAX_NAME_CHARS:
        found.at(sheet, name_row, _("剧本名称不能超过 %(n)d 个字", n=MAX_NAME_CHARS))
    return name or "", description or ""


def _read_phases(sheet: _Sheet, found: _Problems) -> dict[str, _Phase]:
    indexes = _columns(sheet, PHASE_COLUMNS, REQUIRED_PHASE_COLUMNS, found)
    if indexes is None:
        return {}
    phases: dict[str, _Phase] = {}
    numbers: dict[int, int] = {}
    for row, raw in sheet.rows[1:]:
        cells = _cells(raw, indexes)
        name = _text(cells["name"])
        days = _whole_number(cells["days"])
        number = None
        if not is_empty(cells.get("number")):
            number = _whole_number(cells["number"])
            if number is None:
                found.at(sheet, row, _("序号“%(value)s”应为整数", value=_shown(cells["number"])))
            elif number in numbers:
                found.at(sheet, row, _("序号 %(n)d 与第 %(row)d 行重复", n=number, row=numbers[number]))
            else:
                numbers[number] = row
        if days is None or not 1 <= days <= MAX_DAYS_PER_PHASE:
            found.at(
                sheet,
                row,
                _("天数“%(value)s”应为 1 到 %(n)d 之间的整数", value=_shown(cells["days"]), n=MAX_DAYS_PER_PHASE),
            )
            days = None
        if not name:
            found.at(sheet, row, _("阶段名称不能为空"))
        elif len(name) > MAX_NAME_CHARS:
            found.at(sheet, row, _("阶段名称不能超过 %(n)d 个字", n=MAX_NAME_CHARS))
        elif name in phases:
            found.at(sheet, row, _("阶段名称“%(name)s”与第 %(row)d 行重复", name=name, row=phases[name].row))
        else:
            goal = _text(cells.get("goal"))
            phases[name] = _Phase(row, number, name, goal, days, [[] for _day in range(days or 0)])
    return phases


def _read_items(sheet: _Sheet, phases: dict[str, _Phase], phases_title: str, found: _Problems) -> None:
    indexes = _columns(sheet, ITEM_COLUMNS, REQUIRED_ITEM_COLUMNS, found)
    if indexes is None:
        return
    roles = _lookup(AccountRole)
    kinds = _lookup(ScriptKind)
    for row, raw in sheet.rows[1:]:
        cells = _cells(raw, indexes)
        before = len(found)
        phase_name = _text(cells["phase"])
        phase = phases.get(phase_name)
        if not phase_name:
            found.at(sheet, row, _("阶段不能为空"))
        elif phase is None:
            found.at(sheet, row, _("阶段“%(name)s”不在“%(sheet)s”表里", name=phase_name, sheet=phases_title))
        day = _whole_number(cells["day"])
        if day is None or day < 1:
            found.at(sheet, row, _("第几天“%(value)s”应为从 1 开始的整数", value=_shown(cells["day"])))
        elif phase is not None and phase.days is not None and day > phase.days:
            found.at(
                sheet,
                row,
                _(
                    "第 %(day)d 天超出了阶段“%(phase)s”的天数（%(days)d 天）",
                    day=day,
                    phase=phase_name,
                    days=phase.days,
                ),
            )
        when = _time_text(cells["time"])
        if when is None:
            found.at(
                sheet, row, _("时间“%(value)s”不对，应为 24 小时制的 时:分，如 09:00", value=_shown(cells["time"]))
            )
        role = roles.get(_normalized(_text(cells["role"])))
        if role is None:
            found.at(
                sheet,
                row,
                _(
                    "角色“%(value)s”不认识，应为 %(choices)s",
                    value=_shown(cells["role"]),
                    choices=_choices_text([role.label for role in AccountRole]),
                ),
            )
        kind = kinds.get(_normalized(_text(cells["kind"])))
        if kind is None:
            found.at(
                sheet,
                row,
                _(
                    "类型“%(value)s”不认识，应为 %(choices)s",
                    value=_shown(cells["kind"]),
                    choices=_choices_text([kind.label for kind in ScriptKind]),
                ),
            )
        slot = _text(cells.get("slot"))
        item = {
            "key": new_key(),
            "time": when or "00:00",
            "slot": slot or (default_slot_name(when) if when else ""),
            "role": (role or AccountRole.MAIN_IP).value,
            "kind": (kind or ScriptKind.TOPIC).value,
            "text": _text(cells["text"]),
            "intent": _text(cells.get("intent")),
            "images": [],
        }
        # Time, role and kind were checked above in the user's words; the stand-ins keep them from repeating.
        for problem in item_problems(item):
            found.at(sheet, row, problem)
        if len(found) == before and phase is not None and phase.days is not None:
            phase.items[day - 1].append(item)


def _read_templates(sheet: _Sheet, found: _Problems) -> list[dict]:
    indexes = _columns(sheet, TEMPLATE_COLUMNS, REQUIRED_TEMPLATE_COLUMNS, found)
    if indexes is None:
        return []
    known = {spelling: key for key, label in TEMPLATE_KEYS.items() for spelling in _spellings(label)}
    templates = []
    for row, raw in sheet.rows[1:]:
        cells = _cells(raw, indexes)
        name, text = _text(cells["name"]), _text(cells["text"])
        if not name and not text:
            continue  # a note beside the table
        if not name or not text:
            found.at(sheet, row, _("名称和内容都不能为空"))
            continue
        if len(name) > MAX_NAME_CHARS:
            found.at(sheet, row, _("名称不能超过 %(n)d 个字", n=MAX_NAME_CHARS))
            continue
        key = known.pop(_normalized(name), None) or new_key()
        templates.append({"key": key, "name": name, "text": text})
    return templates


def _lookup(enum) -> dict[str, object]:
    """Normalized spelling → member, for the raw value and the label in every language."""
    table = {}
    for member in enum:
        table[_normalized(member.value)] = member
        for spelling in _spellings(lambda member=member: member.label):
            table[spelling] = member
    return table


def _whole_number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    match = _DAY.fullmatch(_normalized(cell_text(value)))
    return int(match[1]) if match else None


def _time_text(value) -> str | None:
    """HH:MM from "9:00", "09:00", "9：00", a time, or an Excel time (a fraction of a day); None if it is none."""
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1_000_000
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < 1:
            return None
        seconds = value * 86400
    else:
        match = _TIME.fullmatch(_normalized(cell_text(value)))
        if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
            return None
        seconds = int(match[1]) * 3600 + int(match[2]) * 60
    minutes = round(seconds / 60)  # Excel stores times as binary fractions: 9:00 may come back as 8:59:59.999
    if minutes >= 24 * 60:
        return None
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _shown(value) -> str:
    text = cell_text(value)
    return text if len(text) <= 30 else text[:30] + "…"
