"""Estate-list imports: store the upload, map its columns, preview what it would change, apply it.

The preview is a dry run over the file and the dealer's estates in the import's city; applying
runs the same plan through the estate service, so an imported estate obeys the same rules as a
typed one. Functions flush; the request (or CLI command) commits once, so an apply writes every
row or, if any row fails, none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.models import utcnow
from crm.core.uploads import upload_root
from crm.core.validation import FieldError
from crm.estates.models import City, Estate, EstateFinish, normalize_estate_name
from crm.estates.service import EstateFields, create_estate, update_estate
from crm.imports.models import EstateImport
from crm.imports.parsing import (
    FIELD_LABELS,
    IMPORT_FIELDS,
    ImportFileError,
    Table,
    auto_mapping,
    cell_text,
    file_extension,
    mapping_problems,
    read_table,
    read_values,
)
from crm.maps.coords import CoordSystem, distance_m, from_wgs84, is_in_mainland_china_box, to_wgs84

# An estate farther than this from its city's centre is almost surely a wrong coordinate system or city.
MAX_DISTANCE_FROM_CITY_KM = 80
# Positions closer than this are the same point (conversions between systems are not bit-exact).
SAME_POSITION_M = 0.5
# Facts an import may overwrite on an existing estate (never its name key or stage).
UPDATABLE_FIELDS = (
    "district",
    "address",
    "households",
    "delivery_date",
    "avg_price",
    "developer",
    "finish",
    "competitors",
    "notes",
    "source",
)


class RowStatus(StrEnum):
    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"

    @property
    def summary_key(self) -> str:
        """The key this status is counted under in EstateImport.summary."""
        return SUMMARY_KEYS[self]


SUMMARY_KEYS = {
    RowStatus.ADD: "added",
    RowStatus.UPDATE: "updated",
    RowStatus.UNCHANGED: "unchanged",
    RowStatus.REJECTED: "rejected",
}


class ImportApplyError(Exception):
    """Applying stopped; nothing may be committed. The message says which row and why."""


@dataclass
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class PreviewRow:
    row_number: int
    name: str
    status: RowStatus
    values: dict[str, object] = field(default_factory=dict)
    changes: list[FieldChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    estate: Estate | None = None


@dataclass
class PreviewColumn:
    index: int
    header: str
    field: str
    samples: list[str]


@dataclass
class ImportPreview:
    columns: list[PreviewColumn] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why nothing can be applied

    def rows_with(self, status: RowStatus) -> list[PreviewRow]:
        return [row for row in self.rows if row.status is status]

    @property
    def counts(self) -> dict[str, int]:
        """Rows per outcome, keyed like EstateImport.summary."""
        counts = {status.summary_key: 0 for status in RowStatus}
        for row in self.rows:
            counts[row.status.summary_key] += 1
        return counts

    @property
    def can_apply(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ImportSettings:
    """What the user declared about a file: whose it is, which city, which coordinate system, which columns."""

    dealer_id: int
    city: City
    coord_system: CoordSystem
    mapping: dict[str, str]

    @classmethod
    def of(cls, estate_import: EstateImport) -> ImportSettings:
        return cls(
            dealer_id=estate_import.dealer_id,
            city=estate_import.city,
            coord_system=CoordSystem(estate_import.coord_system),
            mapping=dict(estate_import.column_mapping or {}),
        )


# ---- upload and mapping ------------------------------------------------------------------------


def create_import(
    session: Session,
    *,
    dealer_id: int,
    city_id: int,
    coord_system: CoordSystem | str,
    filename: str,
    data: bytes,
    created_by_id: int | None = None,
) -> EstateImport:
    """Store an uploaded estate list with its columns mapped from the headers; FieldError if it is unusable."""
    if session.get(City, city_id) is None:
        raise FieldError("city_id", _("请选择城市"))
    extension = file_extension(filename)
    try:
        table = read_table(data, extension)
    except ImportFileError as error:
        raise FieldError("file", str(error)) from None
    estate_import = EstateImport(
        dealer_id=dealer_id,
        city_id=city_id,
        coord_system=CoordSystem(coord_system),
        original_filename=_display_name(filename),
        stored_path=f"imports/{dealer_id}/{uuid.uuid4().hex}.{extension}",
        column_mapping=auto_mapping(table.headers),
        created_by_id=created_by_id,
        summary={},
    )
    session.add(estate_import)
    session.flush()
    target = upload_root() / estate_import.stored_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return estate_import


def _display_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "estates"
    return name[-255:]


def load_table(estate_import: EstateImport) -> Table:
    """The stored file of an import, read again; ImportFileError if it is gone or unreadable."""
    path = upload_root() / estate_import.stored_path
    try:
        data = path.read_bytes()
    except OSError:
        raise ImportFileError(_("找不到上传的文件，请重新上传")) from None
    return read_table(data, file_extension(estate_import.stored_path))


def remap_import(
    session: Session, estate_import: EstateImport, fields_by_column: dict[int, str], coord_system: CoordSystem | str
) -> ImportPreview:
    """Save the user's column mapping (column index → field, "" to ignore) and coordinate system; return the preview."""
    if estate_import.applied_at is not None:
        raise FieldError("column_mapping", _("这份楼盘表已经导入，不能再修改"))
    try:
        table = load_table(estate_import)
    except ImportFileError as error:
        return ImportPreview(problems=[str(error)])
    estate_import.column_mapping = {
        header: field_name if field_name in IMPORT_FIELDS else ""
        for header, field_name in ((header, fields_by_column.get(i, "")) for i, header in enumerate(table.headers))
    }
    estate_import.coord_system = CoordSystem(coord_system)
    session.flush()
    return plan_import(session, table, ImportSettings.of(estate_import))


# ---- preview -----------------------------------------------------------------------------------


def preview_import(session: Session, estate_import: EstateImport) -> ImportPreview:
    """What applying the import would do now, row by row (a dry run: nothing is written)."""
    try:
        table = load_table(estate_import)
    except ImportFileError as error:
        return ImportPreview(problems=[str(error)])
    return plan_import(session, table, ImportSettings.of(estate_import))


def preview_file(
    session: Session, *, dealer_id: int, city: City, coord_system: CoordSystem | str, filename: str, data: bytes
) -> ImportPreview:
    """Preview a file that is not stored, with the mapping guessed from its headers; ImportFileError if unreadable."""
    table = read_table(data, file_extension(filename))
    settings = ImportSettings(dealer_id, city, CoordSystem(coord_system), auto_mapping(table.headers))
    return plan_import(session, table, settings)


def plan_import(session: Session, table: Table, settings: ImportSettings) -> ImportPreview:
    """Sort every row of `table` into add / update / unchanged / rejected against the dealer's estates."""
    columns = [
        PreviewColumn(index, header, settings.mapping.get(header, ""), table.samples(index))
        for index, header in enumerate(table.headers)
    ]
    preview = ImportPreview(columns=columns, problems=mapping_problems(settings.mapping))
    if preview.problems:
        return preview
    mapped = [(column.index, column.field) for column in columns if column.field]
    existing = _existing_estates(session, settings)
    first_row_by_key: dict[str, int] = {}
    for sheet_row in table.rows:
        cells = {name: sheet_row.cells[index] for index, name in mapped}
        values, problems = read_values(cells)
        row = PreviewRow(sheet_row.number, _row_name(values, cells), RowStatus.REJECTED, values)
        preview.rows.append(row)
        key = normalize_estate_name(str(values.get("name", "")))
        if not key and "name" not in problems:
            row.reasons.append(_("缺少楼盘名称"))
        elif key in first_row_by_key:
            row.reasons.append(_("与第 %(row)d 行的楼盘重名", row=first_row_by_key[key]))
        elif key:
            first_row_by_key[key] = sheet_row.number
        row.reasons.extend(problems.values())
        if not problems.keys() & {"lng", "lat", "lnglat"}:
            row.reasons.extend(_check_position(values, settings))
        if row.reasons:
            continue
        row.estate = existing.get(key)
        if row.estate is None:
            row.status = RowStatus.ADD
        else:
            row.changes = _changes(row.estate, values)
            row.status = RowStatus.UPDATE if row.changes else RowStatus.UNCHANGED
    return preview


def _row_name(values: dict[str, object], cells: dict[str, object]) -> str:
    """The name a row is shown under: the parsed name, else what the name cell holds (cut short)."""
    if "name" in values:
        return str(values["name"])
    raw = cell_text(cells.get("name"))
    return raw if len(raw) <= 30 else raw[:30] + "…"


def _existing_estates(session: Session, settings: ImportSettings) -> dict[str, Estate]:
    estates = session.scalars(
        sa.select(Estate).where(Estate.dealer_id == settings.dealer_id, Estate.city_id == settings.city.id)
    )
    return {estate.name_key: estate for estate in estates}


def _check_position(values: dict[str, object], settings: ImportSettings) -> list[str]:
    """Reasons the row's coordinates are unusable; on success adds the WGS-84 point as values["position"]."""
    if ("lng" in values) != ("lat" in values):
        return [_("经度和纬度需要同时填写")]
    if "lng" not in values:
        return []
    lng, lat = values["lng"], values["lat"]
    if not is_in_mainland_china_box(lng, lat):
        return [_("坐标（%(lng)s, %(lat)s）不在中国境内", lng=lng, lat=lat)]
    wgs_lng, wgs_lat = to_wgs84(lng, lat, settings.coord_system)
    city = settings.city
    if city.center_lng is not None and city.center_lat is not None:
        km = distance_m(wgs_lng, wgs_lat, city.center_lng, city.center_lat) / 1000
        if km > MAX_DISTANCE_FROM_CITY_KM:
            return [
                _(
                    "坐标距%(city)s市中心 %(km).1f 公里，超过 %(limit)d 公里，请检查城市和坐标系",
                    city=city.name,
                    km=km,
                    limit=MAX_DISTANCE_FROM_CITY_KM,
                )
            ]
    values["position"] = (wgs_lng, wgs_lat)
    return []


def _changes(estate: Estate, values: dict[str, object]) -> list[FieldChange]:
    """What the row's non-empty cells would change on the estate (an empty cell changes nothing)."""
    changes = []
    for name in UPDATABLE_FIELDS:
        if name not in values:
            continue
        old, new = getattr(estate, name), values[name]
        if isinstance(new, str):
            old = old or ""
        if old != new:
            changes.append(
                FieldChange(name, str(FIELD_LABELS[name]), display_value(name, old), display_value(name, new))
            )
    if "position" in values:
        new_lng, new_lat = values["position"]
        if not estate.has_position or distance_m(estate.lng, estate.lat, new_lng, new_lat) > SAME_POSITION_M:
            old = (estate.lng, estate.lat) if estate.has_position else None
            changes.append(
                FieldChange(
                    "position", _("位置"), display_value("position", old), display_value("position", (new_lng, new_lat))
                )
            )
    return changes


def display_value(name: str, value) -> str:
    """A fact as the preview shows it."""
    if value is None or value == "":
        return "—"
    if name == "households":
        return f"{value:,}"
    if name == "avg_price":
        return _("%(price)s 元/㎡", price=f"{value:,}")
    if name == "delivery_date" and isinstance(value, date):
        return value.strftime("%Y-%m") if value.day == 1 else value.isoformat()
    if name == "finish":
        return EstateFinish(value).label
    if name == "position":
        return "{:.6f}, {:.6f}".format(*value)
    return str(value)


# ---- apply -------------------------------------------------------------------------------------


def apply_import(session: Session, estate_import: EstateImport) -> ImportPreview:
    """Add and update the previewed estates and record the summary; ImportApplyError leaves the caller to roll back."""
    if estate_import.applied_at is not None:
        raise ImportApplyError(_("这份楼盘表已经导入过了"))
    preview = preview_import(session, estate_import)
    if not preview.can_apply:
        raise ImportApplyError("；".join(preview.problems))
    settings = ImportSettings.of(estate_import)
    for row in preview.rows:
        if row.status in (RowStatus.ADD, RowStatus.UPDATE):
            _write_row(session, row, settings)
    estate_import.applied_at = utcnow()
    estate_import.summary = preview.counts
    session.flush()
    return preview


def _write_row(session: Session, row: PreviewRow, settings: ImportSettings) -> Estate:
    if row.estate is None:
        data = EstateFields(name=row.name, city_id=settings.city.id, coord_system=settings.coord_system)
    else:
        data = _current_fields(row.estate)
    for name in UPDATABLE_FIELDS:
        if name in row.values and hasattr(data, name):
            setattr(data, name, row.values[name])
    if "position" in row.values:
        data.lng, data.lat, data.coord_system = row.values["lng"], row.values["lat"], settings.coord_system
    try:
        if row.estate is None:
            estate = create_estate(session, settings.dealer_id, data)
        else:
            estate = update_estate(session, row.estate, data)
    except FieldError as error:
        raise ImportApplyError(
            _("第 %(row)d 行（%(name)s）：%(message)s", row=row.row_number, name=row.name, message=error.message)
        ) from None
    return estate


def _current_fields(estate: Estate) -> EstateFields:
    """The estate's facts as EstateFields, its position exactly as stored (no 6-decimal rounding)."""
    data = EstateFields.from_estate(estate)
    if estate.has_position:
        data.lng, data.lat = from_wgs84(estate.lng, estate.lat, estate.coord_system)
    return data


# ---- report ------------------------------------------------------------------------------------


def report_lines(preview: ImportPreview) -> list[str]:
    """The preview as plain text: counts, then the updates and the rejected rows with their reasons."""
    counts = preview.counts
    lines = [
        _(
            "新增 %(added)d · 更新 %(updated)d · 不变 %(unchanged)d · 有问题 %(rejected)d",
            added=counts["added"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            rejected=counts["rejected"],
        )
    ]
    lines.extend(preview.problems)
    updates = preview.rows_with(RowStatus.UPDATE)
    if updates:
        lines.append(_("将更新："))
        for row in updates:
            changes = "；".join(f"{c.label} {c.old} → {c.new}" for c in row.changes)
            lines.append(
                "  " + _("第 %(row)d 行 %(name)s：%(changes)s", row=row.row_number, name=row.name, changes=changes)
            )
    rejected = preview.rows_with(RowStatus.REJECTED)
    if rejected:
        lines.append(_("有问题的行（不会导入）："))
        for row in rejected:
            reasons = "；".join(row.reasons)
            lines.append(
                "  "
                + _("第 %(row)d 行 %(name)s：%(changes)s", row=row.row_number, name=row.name or "—", changes=reasons)
            )
    return lines
