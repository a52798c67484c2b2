"""Reading listing sites' estate lists (CSV/XLSX): the table, its headers, and what each cell means.

Nothing here touches the database: the service decides what a parsed row does to the dealer's estates.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _

from crm.core.i18n import lazy_gettext as _l
from crm.estates.models import EstateFinish

ALLOWED_EXTENSIONS = ("csv", "xlsx")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 100
# An .xlsx is a zip: refuse one that unpacks to far more than any real estate list (a zip bomb).
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024

# The estate facts a file column can feed, in the order the mapping select offers them.
FIELD_LABELS = {
    "name": _l("楼盘名称"),
    "district": _l("区域"),
    "address": _l("地址"),
    "households": _l("户数"),
    "delivery_date": _l("交房时间"),
    "avg_price": _l("均价（元/㎡）"),
    "developer": _l("开发商"),
    "finish": _l("交付标准"),
    "lng": _l("经度"),
    "lat": _l("纬度"),
    "lnglat": _l("经纬度（一列：经度,纬度）"),
    "competitors": _l("竞品"),
    "notes": _l("备注"),
    "source": _l("数据来源"),
}
IMPORT_FIELDS = tuple(FIELD_LABELS)

HEADER_ALIASES = {
    "name": (
        "小区名称",
        "楼盘名称",
        "名称",
        "小区",
        "楼盘",
        "项目名称",
        "小区名",
        "楼盘名",
        "name",
        "estate",
        "estatename",
    ),
    "district": ("区域", "区县", "行政区", "所属区域", "区", "district"),
    "address": ("地址", "楼盘地址", "小区地址", "项目地址", "address"),
    "households": ("户数", "总户数", "规划户数", "households"),
    "delivery_date": ("交房时间", "交房日期", "交付时间", "交付日期", "delivery", "deliverydate"),
    "avg_price": ("均价", "参考均价", "单价", "price", "avgprice", "averageprice"),
    "developer": ("开发商", "开发企业", "developer"),
    "lng": ("经度", "lng", "lon", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "lnglat": ("经纬度", "坐标", "lnglat", "coordinates"),
    "finish": ("装修", "装修情况", "交付标准", "装修标准", "finish"),
    "competitors": ("竞品", "competitors"),
    "notes": ("备注", "notes", "note", "remarks"),
    "source": ("来源", "数据来源", "source"),
}

# What listing sites write where they have nothing; such a cell is empty, not an error.
PLACEHOLDERS = frozenset(
    {
        "暂无资料",
        "暂无数据",
        "暂无",
        "不详",
        "未知",
        "待定",
        "--",
        "-",
        "—",
        "——",
        "无",
        "n/a",
        "null",
        "空",
        "none",
        "nan",
    }
)

TEXT_LIMITS = {"name": 100, "district": 50, "address": 255, "developer": 100, "source": 100, "competitors": 255}


class ImportFileError(ValueError):
    """The file cannot be read as an estate list; the message says why."""


class CellError(ValueError):
    """A cell's content cannot be read as the fact its column is mapped to."""


@dataclass
class SheetRow:
    number: int  # the row number the spreadsheet shows (header included, 1-based)
    cells: list


@dataclass
class Table:
    headers: list[str]
    rows: list[SheetRow] = field(default_factory=list)

    def samples(self, index: int, limit: int = 3) -> list[str]:
        """The first few non-empty values of a column, as text (to help the user map it)."""
        found = []
        for row in self.rows:
            value = row.cells[index] if index < len(row.cells) else None
            if not is_blank(value):
                found.append(cell_text(value)[:30])
                if len(found) == limit:
                    break
        return found


# ---- files -------------------------------------------------------------------------------------


def file_extension(filename: str) -> str:
    """The lower-case extension of an uploaded file's name ("" when it has none)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def read_table(data: bytes, extension: str) -> Table:
    """Read a CSV or XLSX file into its header and data rows; ImportFileError if it is unusable."""
    if extension not in ALLOWED_EXTENSIONS:
        if extension in ("xls", "et", "numbers", "ods"):
            raise ImportFileError(_("不支持该表格格式，请在 Excel/WPS 中另存为 .xlsx 或 CSV 后再上传"))
        raise ImportFileError(_("只能导入 .xlsx 或 .csv 文件"))
    if not data:
        raise ImportFileError(_("上传的文件是空的"))
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_("文件不能超过 %(mb)d MB", mb=MAX_FILE_BYTES // (1024 * 1024)))
    rows = _xlsx_rows(data) if extension == "xlsx" else _csv_rows(data)
    return _table(rows)


def _table(rows: Iterable[tuple[int, list]]) -> Table:
    table = None
    for number, cells in rows:
        cells = list(cells[:MAX_COLUMNS])
        if all(is_empty(cell) for cell in cells):
            continue
        if table is None:
            table = Table(headers=_headers(cells))
            continue
        if len(table.rows) == MAX_ROWS:
            raise ImportFileError(_("一次最多导入 %(n)d 行，请把文件拆开后分批导入", n=MAX_ROWS))
        width = len(table.headers)
        table.rows.append(SheetRow(number, (cells + [None] * width)[:width]))
    if table is None:
        raise ImportFileError(_("文件里没有表头行（第一行应是“小区名称”“户数”等列名）"))
    return table


def _headers(cells: list) -> list[str]:
    while cells and is_empty(cells[-1]):
        cells.pop()
    headers: list[str] = []
    for index, cell in enumerate(cells, start=1):
        # Not translated: the stored mapping is keyed by this name, whatever language the UI is in.
        header = " ".join(cell_text(cell).split()) or f"#{index}"
        # The mapping is keyed by header text, so two columns must never share one.
        unique, copy = header, 2
        while unique in headers:
            unique, copy = f"{header} ({copy})", copy + 1
        headers.append(unique)
    return headers


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                raise ImportFileError(_("文件解压后太大，无法导入"))
        with warnings.catch_warnings():
            # Exporters often omit styles or carry data validation openpyxl does not support: harmless here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                # Some exporters write a wrong sheet size; measure the rows themselves instead.
                sheet.reset_dimensions()
                rows, filled = [], 0
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    if all(is_empty(value) for value in values):
                        continue
                    rows.append((number, list(values)))
                    filled += 1
                    if filled > MAX_ROWS + 1:  # header + MAX_ROWS: enough for the row limit to speak
                        break
            finally:
                workbook.close()
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds of errors on a damaged file; all mean the same to the user
        raise ImportFileError(_("无法读取这个 Excel 文件，文件可能已损坏，请重新导出后再试")) from None
    return rows


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise ImportFileError(_("文件内容不是文本格式的 CSV，请从 Excel/WPS 另存为 CSV 或 .xlsx"))
    # Excel on Chinese Windows saves CSV in GBK; GB18030 is its superset.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("无法识别文件编码，请把 CSV 保存为 UTF-8 或 GBK 编码"))


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> list[tuple[int, list]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        return [(number, row) for number, row in enumerate(reader, start=1)]
    except csv.Error:
        raise ImportFileError(_("无法读取这个 CSV 文件，请检查文件内容")) from None


# ---- headers -----------------------------------------------------------------------------------

_BRACKETED = re.compile(r"[(\[【〔{][^)\]】〕}]*[)\]】〕}]")
_HEADER_NOISE = re.compile(r"[\s_\-*:：]+")


def normalize_header(header: str) -> str:
    """The key a header is matched on: width-folded, lower-case, no spaces or units such as (元/㎡)."""
    text = unicodedata.normalize("NFKC", header or "").strip().lower()
    return _HEADER_NOISE.sub("", _BRACKETED.sub("", text))


_FIELD_BY_ALIAS = {normalize_header(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """Guess each column's estate field from its header; unknown columns and second claimants are ignored."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        guess = _FIELD_BY_ALIAS.get(normalize_header(header), "")
        mapping[header] = "" if guess in taken else guess
        taken.add(guess)
    # Separate longitude and latitude columns beat a combined one: they cannot be swapped by accident.
    if {"lng", "lat"} <= taken and "lnglat" in taken:
        mapping = {header: "" if name == "lnglat" else name for header, name in mapping.items()}
    return mapping


def mapping_problems(mapping: dict[str, str]) -> list[str]:
    """Why a mapping cannot be imported (empty when it can)."""
    chosen = [name for name in mapping.values() if name]
    problems = []
    if "name" not in chosen:
        problems.append(_("请指定哪一列是“楼盘名称”"))
    for name in IMPORT_FIELDS:
        if chosen.count(name) > 1:
            problems.append(_("“%(field)s”只能对应一列", field=FIELD_LABELS[name]))
    if "lnglat" in chosen and ("lng" in chosen or "lat" in chosen):
        problems.append(_("坐标请选一种：要么“经纬度”一列，要么“经度”“纬度”两列"))
    return problems


# ---- cells -------------------------------------------------------------------------------------


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_blank(value) -> bool:
    """True for an empty cell or a placeholder such as 暂无资料 / -- / 待定."""
    if is_empty(value):
        return True
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip().lower() in PLACEHOLDERS
    return isinstance(value, float) and math.isnan(value)


def cell_text(value) -> str:
    """A cell as the text a person would read in it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _plain(value) -> str:
    """Cell text width-folded, lower-case and without spaces or thousands separators."""
    return re.sub(r"[\s,，]+", "", unicodedata.normalize("NFKC", cell_text(value))).lower()


def _shown(value) -> str:
    text = cell_text(value)
    return text if len(text) <= 30 else text[:30] + "…"


_COUNT = re.compile(r"(?:约|大约|共|总|近|规划)?(\d+(?:\.\d+)?)(万)?(?:余|多)?(?:户|套)?(?:左右)?")


def parse_households(value) -> int:
    """Households from 1200, "1,200户", "约1200户", "1.2万户"."""
    number = _number(value, _COUNT)
    if number is None or not number.is_integer():
        raise CellError(_("户数「%(value)s」不是数字", value=_shown(value)))
    return int(number)


_PRICE = re.compile(
    r"(?:约|均价|参考均价)?(\d+(?:\.\d+)?)(?:[-~～至到](\d+(?:\.\d+)?))?(万)?(?:元)?"
    r"(?:/(?:m2|平米|平方米|平))?(?:起|左右)?"
)


def parse_price(value) -> int:
    """Average price in yuan per m² from 12000, "12000元/㎡", "1.2万", "12000-14000元/㎡" (the midpoint)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return round(value)
        raise CellError(_("均价「%(value)s」不是数字", value=_shown(value)))
    match = _PRICE.fullmatch(_plain(value))
    if not match:
        raise CellError(_("均价「%(value)s」不是数字", value=_shown(value)))
    low = float(match[1])
    high = float(match[2]) if match[2] else low
    price = (low + high) / 2 * (10_000 if match[3] else 1)
    return round(price)


def _number(value, pattern: re.Pattern) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) and value >= 0 else None
    match = pattern.fullmatch(_plain(value))
    if not match:
        return None
    return float(match[1]) * (10_000 if match[2] else 1)


_DATE_PREFIX = re.compile(r"^(?:预计|计划|约)")
_DATE_SUFFIX = re.compile(r"(?:交房|交付|入住|左右|前后|之前|以前|前)$")
_QUARTER_DIGITS = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
_PART_OF_YEAR = {"上半年": 1, "年初": 1, "初": 1, "年中": 7, "下半年": 7, "年底": 12, "底": 12, "年末": 12, "末": 12}


def parse_delivery(value) -> date:
    """A delivery date; the first of the month (or of the quarter's first month) when no day is known."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _plain(value)
    for _round in range(2):
        text = _DATE_SUFFIX.sub("", _DATE_PREFIX.sub("", text))
    try:
        result = _delivery_from_text(text)
    except ValueError:
        result = None
    if result is None or not 1950 <= result.year <= 2100:
        raise CellError(_("交房时间「%(value)s」无法识别", value=_shown(value)))
    return result


def _delivery_from_text(text: str) -> date | None:
    if match := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})(?:月份?)?", text):
        return date(int(match[1]), int(match[2]), 1)
    if match := re.fullmatch(r"(\d{4})年?[-/]?(?:第?([1-4一二三四])季度|q([1-4]))", text):
        quarter = _QUARTER_DIGITS[match[2] or match[3]]
        return date(int(match[1]), 3 * quarter - 2, 1)
    if match := re.fullmatch(r"(\d{4})年?(上半年|下半年|年初|年中|年底|年末|初|底|末)", text):
        return date(int(match[1]), _PART_OF_YEAR[match[2]], 1)
    if match := re.fullmatch(r"(\d{4})年?", text):
        return date(int(match[1]), 1, 1)
    return None


def parse_degrees(value, label: str) -> float:
    """One coordinate in decimal degrees (123.95, "123.95°", "东经123.95")."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = re.sub(r"^(?:东经|北纬|e|n)|(?:°|度|e|n)$", "", _plain(value))
        try:
            number = float(text)
        except ValueError:
            number = math.nan
    if not math.isfinite(number):
        raise CellError(_("%(label)s「%(value)s」不是数字", label=label, value=_shown(value)))
    return number


def parse_lnglat(value) -> tuple[float, float]:
    """A "lng,lat" cell; swapped when it is clearly "lat,lng" (China: latitude < 60, longitude > 70)."""
    parts = [part for part in re.split(r"[,，;；/|\s]+", unicodedata.normalize("NFKC", cell_text(value))) if part]
    try:
        first, second = (float(part) for part in parts)
    except ValueError:
        raise CellError(_("经纬度「%(value)s」应写成“经度,纬度”", value=_shown(value))) from None
    if not (math.isfinite(first) and math.isfinite(second)):
        raise CellError(_("经纬度「%(value)s」应写成“经度,纬度”", value=_shown(value)))
    if first < 60 and second > 70:
        first, second = second, first
    return first, second


_ROUGH_WORDS = ("毛坯", "清水", "未装修", "不带装修")
_FINISHED_WORDS = ("精装", "简装", "全装修", "豪装", "带装修", "装修交付")


def parse_finish(value) -> EstateFinish:
    """毛坯/清水 → rough; 精装/简装/全装修 → finished."""
    text = _plain(value)
    if any(word in text for word in _ROUGH_WORDS):
        return EstateFinish.ROUGH
    if any(word in text for word in _FINISHED_WORDS):
        return EstateFinish.FINISHED
    raise CellError(_("交付标准「%(value)s」无法识别，应为毛坯或精装", value=_shown(value)))


def read_values(cells: dict[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """The facts in one row's mapped cells (blank ones left out), and per field why a cell could not be read."""
    # Coordinates stay as typed (`lng`, `lat`), in the file's coordinate system: the service converts them.
    values: dict[str, object] = {}
    problems: dict[str, str] = {}
    for name, raw in cells.items():
        if is_blank(raw):
            continue
        try:
            if name == "households":
                values[name] = parse_households(raw)
            elif name == "avg_price":
                values[name] = parse_price(raw)
            elif name == "delivery_date":
                values[name] = parse_delivery(raw)
            elif name == "finish":
                values[name] = parse_finish(raw)
            elif name in ("lng", "lat"):
                values[name] = parse_degrees(raw, str(FIELD_LABELS[name]))
            elif name == "lnglat":
                values["lng"], values["lat"] = parse_lnglat(raw)
            else:
                values[name] = _text(name, raw)
        except CellError as error:
            problems[name] = str(error)
    return values, problems


def _text(name: str, raw) -> str:
    text = cell_text(raw) if name == "notes" else " ".join(cell_text(raw).split())
    limit = TEXT_LIMITS.get(name)
    if limit and len(text) > limit:
        raise CellError(_("%(label)s超过 %(n)d 个字", label=FIELD_LABELS[name], n=limit))
    return text
