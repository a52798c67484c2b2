"""People lists in and out: read a CSV/XLSX of owners, preview what it would change, apply it; export to XLSX.

The file reading (encodings, XLSX, placeholders, header normalisation) is the estate import's
(`crm.imports.parsing`); this module decides what a row means for the dealer's people. Rows are
matched on the phone number, else the WeChat ID, always within the one dealer. The preview is a
dry run; applying runs the same plan and only flushes, so the request commits every row or none.
Nothing here knows about HTTP: the viewer passed in only decides how phone numbers are shown.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from crm.core.i18n import lazy_gettext as _l
from crm.core.roles import Permission, has_permission
from crm.core.uploads import upload_root
from crm.core.xlsx import keep_text
from crm.estates.models import Estate, FloorPlan, normalize_estate_name
from crm.imports.parsing import (
    CellError,
    Table,
    cell_text,
    file_extension,
    is_blank,
    normalize_header,
    parse_delivery,
    read_table,
)
from crm.imports.service import FieldChange, ImportPreview, PreviewColumn, RowStatus
from crm.people.masking import can_see_phone, is_valid_mobile, mask_phone, normalize_phone, shown_phone
from crm.people.models import PERSON_TAGS, LadderStage, Person, group_member

# ---- fields and headers ------------------------------------------------------------------------

# The person facts a file column can feed, in the order the mapping select offers them.
FIELD_LABELS = {
    "name": _l("姓名/昵称"),
    "phone": _l("手机号"),
    "wechat_id": _l("微信号"),
    "estate": _l("楼盘"),
    "building": _l("楼栋"),
    "unit": _l("单元"),
    "room": _l("房号"),
    "floor_plan": _l("户型"),
    "needs_style": _l("需求风格"),
    "needs_budget": _l("预算"),
    "decoration_start": _l("装修时间"),
    "source": _l("来源"),
    "tags": _l("标签"),
    "notes": _l("备注"),
    "referred_by": _l("推荐人"),
}

HEADER_ALIASES = {
    "name": ("姓名", "昵称", "微信昵称", "名字", "客户姓名", "业主姓名", "客户", "业主", "name", "nickname"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "联系方式", "phone", "mobile", "tel"),
    "wechat_id": ("微信号", "微信", "微信id", "wechat", "wechatid", "wxid"),
    "estate": ("楼盘", "小区", "楼盘名称", "小区名称", "estate"),
    "building": ("楼栋", "楼号", "栋", "栋号", "楼", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("房号", "门牌", "门牌号", "房间号", "室", "room"),
    "floor_plan": ("户型", "floorplan", "plan"),
    "needs_style": ("需求风格", "风格", "装修风格", "style"),
    "needs_budget": ("预算", "装修预算", "budget"),
    "decoration_start": ("装修时间", "装修日期", "开工时间", "计划装修时间"),
    "source": ("来源", "渠道", "source"),
    "tags": ("标签", "tags", "tag"),
    "notes": ("备注", "notes", "note", "remarks"),
    "referred_by": ("推荐人", "介绍人", "referrer", "referredby"),
}
_FIELD_BY_ALIAS = {normalize_header(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

# Column lengths of Person: a longer cell is refused rather than cut.
TEXT_LIMITS = {
    "name": 64,
    "wechat_id": 64,
    "building": 20,
    "unit": 20,
    "room": 20,
    "needs_style": 50,
    "needs_budget": 50,
    "source": 50,
}
# Cells written to the person as they are (after tidying).
PLAIN_FIELDS = ("name", "wechat_id", "building", "unit", "room", "needs_style", "needs_budget", "source", "notes")
TAG_SEPARATORS = re.compile(r"[、,，/]+")
_TAG_BY_KEY = {unicodedata.normalize("NFKC", tag).casefold(): tag for tag in PERSON_TAGS}


def auto_mapping(headers: list[str]) -> dict[int, str]:
    """Column index → person field guessed from its header; unknown columns and second claimants are ignored."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        guess = _FIELD_BY_ALIAS.get(normalize_header(header), "")
        mapping[index] = "" if guess in taken else guess
        taken.add(guess)
    return mapping


def clean_mapping(chosen: dict[int, str], headers: list[str]) -> dict[int, str]:
    """A mapping sent back by the form, limited to the file's columns and the known fields."""
    return {
        index: (chosen.get(index, "") if chosen.get(index, "") in FIELD_LABELS else "") for index in range(len(headers))
    }


def mapping_problems(mapping: dict[int, str]) -> list[str]:
    """Why a mapping cannot be imported (empty when it can)."""
    chosen = [name for name in mapping.values() if name]
    problems = []
    if "phone" not in chosen and "wechat_id" not in chosen:
        problems.append(_("请指定哪一列是“手机号”或“微信号”"))
    for name, label in FIELD_LABELS.items():
        if chosen.count(name) > 1:
            problems.append(_("“%(field)s”只能对应一列", field=label))
    return problems


# ---- stored uploads ----------------------------------------------------------------------------

# A token is the stored file's name: a random uuid and the file's extension, nothing else.
TOKEN_PATTERN = re.compile(r"\A[0-9a-f]{32}\.(?:csv|xlsx)\Z")
UPLOAD_FOLDER_NAME = "people-imports"
# Uploads nobody applied are removed after this long (checked whenever the dealer uploads again).
UPLOAD_MAX_AGE_SECONDS = 2 * 24 * 3600


def _dealer_folder(dealer_id: int) -> Path:
    return upload_root() / UPLOAD_FOLDER_NAME / str(int(dealer_id))


def store_upload(dealer_id: int, filename: str, data: bytes) -> str:
    """Check that the file is a readable people list and keep it for the preview; return its token."""
    extension = file_extension(filename)
    read_table(data, extension)  # ImportFileError before anything is stored
    folder = _dealer_folder(dealer_id)
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    token = f"{uuid.uuid4().hex}.{extension}"
    (folder / token).write_bytes(data)
    return token


def upload_path(dealer_id: int | None, token: str) -> Path | None:
    """The stored file a token names, looked up only in the dealer's own folder (None if not there)."""
    if dealer_id is None or not TOKEN_PATTERN.match(token or ""):
        return None
    folder = _dealer_folder(dealer_id)
    path = folder / token
    if path.parent != folder or not path.is_file():
        return None
    return path


def load_upload(path: Path) -> Table:
    """Read a stored upload back into its table."""
    return read_table(path.read_bytes(), file_extension(path.name))


def discard_upload(path: Path) -> None:
    """Remove a stored upload (once applied it is not needed again)."""
    path.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for old in folder.iterdir():
        if TOKEN_PATTERN.match(old.name) and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


# ---- preview -----------------------------------------------------------------------------------


class PeopleImportError(Exception):
    """Applying stopped; nothing may be committed. The message says why."""


@dataclass
class PreviewRow:
    row_number: int
    name: str
    status: RowStatus = RowStatus.REJECTED
    phone_shown: str = ""
    wechat_id: str = ""
    estate_name: str = ""
    values: dict[str, object] = field(default_factory=dict)
    changes: list[FieldChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    person: Person | None = None


class PeoplePreview(ImportPreview):
    """The estate import's preview (columns, rows, problems, counts), with people's rows."""

    @property
    def can_apply(self) -> bool:
        """Something to write and nothing blocking (re-importing an unchanged file offers no apply)."""
        return not self.problems and any(row.status in (RowStatus.ADD, RowStatus.UPDATE) for row in self.rows)


class _DealerPeople:
    """The dealer's people, estates and floor plans, indexed the ways a row looks them up."""

    def __init__(self, session: Session, dealer_id: int):
        # The scope already limits these queries to the dealer; matching must never reach further, so say it too.
        people = session.scalars(
            sa.select(Person)
            .where(Person.dealer_id == dealer_id)
            .options(selectinload(Person.estate), selectinload(Person.floor_plan), selectinload(Person.referred_by))
        ).all()
        self.by_phone = {p.phone: p for p in people if p.phone}
        self.by_wechat = {p.wechat_id: p for p in people if p.wechat_id}
        self.by_name: dict[str, list[Person]] = {}
        for person in people:
            self.by_name.setdefault(person.name.strip(), []).append(person)
        estates = session.scalars(sa.select(Estate).where(Estate.dealer_id == dealer_id)).all()
        self.estates = {normalize_estate_name(estate.name): estate for estate in estates}
        plans = session.scalars(sa.select(FloorPlan).where(FloorPlan.dealer_id == dealer_id)).all()
        self.plans = {(plan.estate_id, _key(plan.name)): plan for plan in plans}


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def preview_people(session: Session, dealer_id: int, table: Table, mapping: dict[int, str], viewer) -> PeoplePreview:
    """Sort every row of `table` into add / update / unchanged / rejected against the dealer's people."""
    columns = [
        PreviewColumn(index, header, mapping.get(index, ""), _samples(table, index, viewer))
        for index, header in enumerate(table.headers)
    ]
    preview = PeoplePreview(columns=columns, problems=mapping_problems(mapping))
    if preview.problems:
        return preview
    known = _DealerPeople(session, dealer_id)
    mapped = [(column.index, column.field) for column in columns if column.field]
    first_row_by_identity: dict[tuple[str, str], int] = {}
    for sheet_row in table.rows:
        cells = {name: sheet_row.cells[index] for index, name in mapped}
        row = _read_row(sheet_row.number, cells, known)
        preview.rows.append(row)
        if row.reasons:
            continue
        identities = [("phone", row.values.get("phone", "")), ("wechat_id", row.values.get("wechat_id", ""))]
        identities = [identity for identity in identities if identity[1]]
        earlier = next((first_row_by_identity[i] for i in identities if i in first_row_by_identity), None)
        if earlier is not None:
            row.reasons.append(_("与第 %(row)d 行是同一人（手机号或微信号相同）", row=earlier))
            continue
        for identity in identities:
            first_row_by_identity[identity] = row.row_number
        _match(row, known, viewer)
    _resolve_referrers(preview.rows, known)
    _break_referral_loops(preview.rows)
    return preview


def _samples(table: Table, index: int, viewer) -> list[str]:
    """A column's first values for the mapping table; anything that reads as a mobile number is masked."""
    if has_permission(viewer, Permission.SEE_ALL_PHONES):
        return table.samples(index)
    return [
        mask_phone(normalize_phone(sample)) if is_valid_mobile(normalize_phone(sample)) else sample
        for sample in table.samples(index)
    ]


def _read_row(number: int, cells: dict[str, object], known: _DealerPeople) -> PreviewRow:
    """The facts in one row's mapped cells (blank cells left out), with reasons to reject it and warnings."""
    row = PreviewRow(number, "")
    values = row.values
    for name, raw in cells.items():
        if is_blank(raw):
            continue
        if name in PLAIN_FIELDS:
            text = cell_text(raw) if name == "notes" else " ".join(cell_text(raw).split())
            if name in ("building", "unit", "room", "wechat_id"):
                text = unicodedata.normalize("NFKC", text).replace(" ", "")
            limit = TEXT_LIMITS.get(name)
            if limit and len(text) > limit:
                row.reasons.append(_("%(field)s太长（最多 %(n)d 个字）", field=FIELD_LABELS[name], n=limit))
            elif text:
                values[name] = text
        elif name == "phone":
            phone = normalize_phone(cell_text(raw))
            if is_valid_mobile(phone):
                values["phone"] = phone
            else:  # the number is not echoed: even a wrong one is personal data
                row.reasons.append(_("手机号格式不正确（应为 11 位手机号）"))
        elif name == "decoration_start":
            try:
                values[name] = parse_delivery(raw)
            except CellError:
                row.reasons.append(_("装修时间「%(value)s」无法识别", value=cell_text(raw)[:30]))
        elif name == "tags":
            tags, unknown = _tags(cell_text(raw))
            if tags:
                values["tags"] = tags
            if unknown:
                row.warnings.append(_("未识别的标签已忽略：%(tags)s", tags="、".join(unknown)))
        elif name == "estate":
            estate_name = " ".join(cell_text(raw).split())
            estate = known.estates.get(normalize_estate_name(estate_name))
            row.estate_name = estate_name
            if estate is None:
                row.reasons.append(
                    _("楼盘「%(name)s」不在本经销商的楼盘列表中，请先添加楼盘或改正名称", name=estate_name[:30])
                )
            else:
                values["estate"] = estate
        elif name == "floor_plan":
            values["floor_plan_name"] = " ".join(cell_text(raw).split())
        elif name == "referred_by":
            values["referrer_text"] = " ".join(cell_text(raw).split())
    row.name = str(values.get("name", ""))
    if not row.reasons and "phone" not in values and "wechat_id" not in values:
        row.reasons.append(_("缺少手机号和微信号"))
    if "estate" in values:
        row.estate_name = values["estate"].name
    return row


def _tags(text: str) -> tuple[list[str], list[str]]:
    """Known tags (in PERSON_TAGS' spelling) and unknown ones from a cell such as "宝妈、老用户/kol"."""
    tags, unknown = [], []
    for part in TAG_SEPARATORS.split(text):
        part = part.strip()
        if not part:
            continue
        tag = _TAG_BY_KEY.get(unicodedata.normalize("NFKC", part).casefold())
        if tag is None:
            unknown.append(part)
        elif tag not in tags:
            tags.append(tag)
    return tags, unknown


def _match(row: PreviewRow, known: _DealerPeople, viewer) -> None:
    """Find the dealer's person the row is about (phone first, then WeChat ID) and what would change."""
    values = row.values
    by_phone = known.by_phone.get(values.get("phone", ""))
    by_wechat = known.by_wechat.get(values.get("wechat_id", ""))
    if by_phone is not None and by_wechat is not None and by_phone is not by_wechat:
        row.reasons.append(
            _("手机号和微信号分别属于两位已有的人（%(a)s、%(b)s），请核对", a=by_phone.name, b=by_wechat.name)
        )
        return
    person = by_phone or by_wechat
    row.person = person
    estate = values.get("estate") or (person.estate if person is not None else None)
    _resolve_floor_plan(row, estate, known)
    if person is None:
        if "name" not in values:
            row.reasons.append(_("缺少姓名或昵称"))
            return
        row.status = RowStatus.ADD
        phone = values.get("phone", "")
        row.phone_shown = phone if has_permission(viewer, Permission.SEE_ALL_PHONES) else mask_phone(phone)
        row.wechat_id = values.get("wechat_id", "")
        return
    row.name = person.name
    row.phone_shown = shown_phone(viewer, person)
    row.wechat_id = values.get("wechat_id") or person.wechat_id
    row.estate_name = person.estate.name if "estate" not in values and person.estate else row.estate_name
    row.changes = _changes(person, values, viewer)
    row.status = RowStatus.UPDATE if row.changes else RowStatus.UNCHANGED


def _resolve_floor_plan(row: PreviewRow, estate: Estate | None, known: _DealerPeople) -> None:
    plan_name = row.values.pop("floor_plan_name", "")
    if not plan_name:
        return
    plan = known.plans.get((estate.id, _key(plan_name))) if estate is not None else None
    if plan is None:
        row.warnings.append(_("户型「%(name)s」不在该楼盘的户型中，已忽略", name=plan_name[:30]))
    else:
        row.values["floor_plan"] = plan


def _break_referral_loops(rows: list[PreviewRow]) -> None:
    """Drop a row's referrer when following referrers (through the file and the database) comes back to it."""
    row_of_person = {row.person.id: row for row in rows if row.person is not None}

    def next_of(node):
        row = node if isinstance(node, PreviewRow) else row_of_person.get(node.id)
        if row is not None:
            if "referred_by_row" in row.values or "referred_by" in row.values:
                return row.values.get("referred_by_row") or row.values.get("referred_by")
            node = row.person
        return node.referred_by if isinstance(node, Person) else None

    def same(a, b) -> bool:
        a_row = a if isinstance(a, PreviewRow) else row_of_person.get(a.id, a)
        b_row = b if isinstance(b, PreviewRow) else row_of_person.get(b.id, b)
        return a_row is b_row

    for row in rows:
        start = row.values.get("referred_by_row") or row.values.get("referred_by")
        node, seen = start, 0
        while node is not None and seen <= len(rows) + 1000:
            if same(node, row):
                row.values.pop("referred_by_row", None)
                row.values.pop("referred_by", None)
                row.changes = [c for c in row.changes if c.field != "referred_by"]
                row.warnings.append(_("推荐人「%(name)s」会形成推荐循环，已忽略", name=start.name))
                break
            node, seen = next_of(node), seen + 1


def _resolve_referrers(rows: list[PreviewRow], known: _DealerPeople) -> None:
    """Link each row's 推荐人 (a phone or a name) to one of the dealer's people or to someone the file adds."""
    added = [row for row in rows if row.status is RowStatus.ADD]
    added_by_phone = {row.values["phone"]: row for row in added if row.values.get("phone")}
    added_by_name: dict[str, list[PreviewRow]] = {}
    for row in added:
        added_by_name.setdefault(row.name.strip(), []).append(row)
    for row in rows:
        text = row.values.pop("referrer_text", "")
        if not text or row.status is RowStatus.REJECTED:
            continue
        phone = normalize_phone(text)
        if is_valid_mobile(phone):
            candidates = [known.by_phone.get(phone), added_by_phone.get(phone)]
        else:
            candidates = [*known.by_name.get(text, []), *added_by_name.get(text, [])]
        candidates = [c for c in candidates if c is not None and c is not row and c is not row.person]
        if len(candidates) > 1:
            row.warnings.append(_("有多位叫「%(name)s」的人，推荐人未关联（可改填推荐人的手机号）", name=text[:30]))
            continue
        if not candidates:
            # A referrer given by phone is named masked: the warning must not print a number in full.
            shown = mask_phone(phone) if is_valid_mobile(phone) else text[:30]
            row.warnings.append(_("推荐人「%(name)s」未找到，已忽略", name=shown))
            continue
        referrer = candidates[0]
        if row.person is not None and isinstance(referrer, Person) and _refers_back(referrer, row.person):
            row.warnings.append(_("推荐人「%(name)s」会形成推荐循环，已忽略", name=referrer.name))
            continue
        if isinstance(referrer, PreviewRow):
            row.values["referred_by_row"] = referrer
        else:
            row.values["referred_by"] = referrer
        person = row.person
        if person is not None and (isinstance(referrer, PreviewRow) or person.referred_by_id != referrer.id):
            old = person.referred_by.name if person.referred_by else "—"
            row.changes.append(FieldChange("referred_by", str(FIELD_LABELS["referred_by"]), old, referrer.name))
            row.status = RowStatus.UPDATE


def _refers_back(referrer: Person, person: Person) -> bool:
    """True if `person` already (directly or through others) referred `referrer`: linking back would loop."""
    seen: set[int] = set()
    node: Person | None = referrer
    while node is not None and node.id not in seen:
        if node is person:
            return True
        seen.add(node.id)
        node = node.referred_by
    return False


def _changes(person: Person, values: dict[str, object], viewer) -> list[FieldChange]:
    """What the row's non-empty cells would change on the person (an empty cell changes nothing)."""
    changes = []

    def add(name: str, old: str, new: str) -> None:
        changes.append(FieldChange(name, str(FIELD_LABELS[name]), old or "—", new or "—"))

    for name in PLAIN_FIELDS:
        if name in values and (getattr(person, name) or "") != values[name]:
            add(name, getattr(person, name) or "", str(values[name]))
    if "phone" in values and person.phone != values["phone"]:
        visible = can_see_phone(viewer, person)
        new = values["phone"]
        add("phone", shown_phone(viewer, person), new if visible else mask_phone(new))
    if "estate" in values and person.estate_id != values["estate"].id:
        add("estate", person.estate.name if person.estate else "", values["estate"].name)
    if "floor_plan" in values and person.floor_plan_id != values["floor_plan"].id:
        add("floor_plan", person.floor_plan.name if person.floor_plan else "", values["floor_plan"].name)
    if "decoration_start" in values and person.decoration_start != values["decoration_start"]:
        add("decoration_start", _date_text(person.decoration_start), _date_text(values["decoration_start"]))
    if "tags" in values:
        merged = _merged_tags(person.tags, values["tags"])
        if merged != list(person.tags or []):
            add("tags", "、".join(person.tags or []), "、".join(merged))
    return changes


def _merged_tags(old: list | None, new: list[str]) -> list[str]:
    """Tags only ever add up on import: a file that lacks a tag does not take it away."""
    merged = list(old or [])
    merged.extend(tag for tag in new if tag not in merged)
    return merged


def _date_text(value: date | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m") if value.day == 1 else value.isoformat()


# ---- apply -------------------------------------------------------------------------------------


def apply_people_import(
    session: Session, dealer_id: int, table: Table, mapping: dict[int, str], viewer
) -> PeoplePreview:
    """Add and update the previewed people (rejected rows skipped); PeopleImportError leaves the caller to roll back."""
    preview = preview_people(session, dealer_id, table, mapping, viewer)
    if preview.problems:
        raise PeopleImportError("；".join(preview.problems))
    people: dict[int, Person] = {}  # row number → the person it adds or updates
    for row in preview.rows:
        if row.status is RowStatus.ADD:
            people[row.row_number] = Person(dealer_id=dealer_id, name=str(row.values["name"]), tags=[])
            session.add(people[row.row_number])
        elif row.status is RowStatus.UPDATE:
            people[row.row_number] = row.person
        else:
            continue
        _write(people[row.row_number], row.values)
    # A referrer the same file adds exists only now.
    for row in preview.rows:
        if row.row_number in people and "referred_by_row" in row.values:
            people[row.row_number].referred_by = people[row.values["referred_by_row"].row_number]
    session.flush()
    return preview


def _write(person: Person, values: dict[str, object]) -> None:
    for name in (*PLAIN_FIELDS, "phone", "decoration_start"):
        if name in values:
            setattr(person, name, values[name])
    if "estate" in values:
        person.estate = values["estate"]
    if "floor_plan" in values:
        person.floor_plan = values["floor_plan"]
    if "referred_by" in values:
        person.referred_by = values["referred_by"]
    if "tags" in values:
        person.tags = _merged_tags(person.tags, values["tags"])


# ---- export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleFilters:
    """The people list's filters, as its query arguments spell them."""

    estate_id: int | None = None
    group_id: int | None = None
    stage: LadderStage | None = None
    tag: str = ""
    operator_id: int | None = None
    is_key_person: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args) -> PeopleFilters:
        """Read the filters from request args; a malformed value is ignored rather than refused."""
        stage = args.get("stage", "")
        return cls(
            estate_id=args.get("estate_id", type=int),
            group_id=args.get("group_id", type=int),
            stage=LadderStage(stage) if stage in LadderStage._value2member_map_ else None,
            tag=args.get("tag", "") if args.get("tag", "") in PERSON_TAGS else "",
            operator_id=args.get("operator_id", type=int),
            is_key_person=(args.get("key") or args.get("key_only") or "") in ("1", "true", "on", "yes", "y"),
            q=" ".join(args.get("q", "").split())[:64],
        )


def people_for_export(session: Session, dealer_id: int, filters: PeopleFilters) -> list[Person]:
    """The dealer's people matching the filters, with everything the export shows loaded."""
    query = (
        sa.select(Person)
        .where(Person.dealer_id == dealer_id)
        .options(
            selectinload(Person.estate),
            selectinload(Person.floor_plan),
            selectinload(Person.operator),
            selectinload(Person.referred_by),
        )
        .order_by(Person.estate_id, Person.building, Person.unit, Person.room, Person.name, Person.id)
    )
    if filters.estate_id is not None:
        query = query.where(Person.estate_id == filters.estate_id)
    if filters.group_id is not None:
        members = sa.select(group_member.c.person_id).where(group_member.c.group_id == filters.group_id)
        query = query.where(Person.id.in_(members))
    if filters.stage is not None:
        query = query.where(Person.ladder_stage == filters.stage)
    if filters.operator_id is not None:
        query = query.where(Person.operator_id == filters.operator_id)
    if filters.is_key_person:
        query = query.where(Person.is_key_person.is_(True))
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [Person.name.ilike(pattern, escape="\\"), Person.wechat_id.ilike(pattern, escape="\\")]
        phone = normalize_phone(filters.q)
        if is_valid_mobile(phone):  # only a whole number: digits of a masked number must not be guessable
            matches.append(Person.phone == phone)
        query = query.where(sa.or_(*matches))
    people = session.scalars(query).all()
    if filters.tag:  # tags are a JSON list: filtered here so it works the same on SQLite and PostgreSQL
        people = [person for person in people if filters.tag in (person.tags or [])]
    return people


EXPORT_HEADERS = (
    _l("姓名"),
    _l("手机号"),
    _l("微信号"),
    _l("楼盘"),
    _l("楼栋"),
    _l("单元"),
    _l("房号"),
    _l("户型"),
    _l("阶段"),
    _l("标签"),
    _l("来源"),
    _l("主IP"),
    _l("推荐人"),
    _l("备注"),
)


def export_workbook(people: list[Person], viewer) -> bytes:
    """The people as an .xlsx, phone numbers shown as `viewer` may see them."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_l("人员"))
    sheet.append([str(header) for header in EXPORT_HEADERS])
    for person in people:
        sheet.append(
            [
                person.name,
                shown_phone(viewer, person),
                person.wechat_id,
                person.estate.name if person.estate else "",
                person.building,
                person.unit,
                person.room,
                person.floor_plan.name if person.floor_plan else "",
                person.ladder_stage.label,
                "、".join(person.tags or []),
                person.source,
                person.operator.name if person.operator else "",
                person.referred_by.name if person.referred_by else "",
                person.notes,
            ]
        )
    keep_text(sheet, min_row=2)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKLMN", (14, 14, 16, 16, 8, 8, 8, 10, 10, 18, 12, 12, 12, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
