"""Reads for stage scripts: the library, a user's 今天, a run's calendar and where each group stands."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from crm.core.models import BUSINESS_TIMEZONE
from crm.groups.models import Group
from crm.offers.service import current_offers
from crm.org.models import Store, User
from crm.scripts.models import (
    Playbook,
    PlaybookVersion,
    RunStatus,
    ScriptRun,
    ScriptRunDay,
    ScriptRunRole,
    ScriptTask,
    TaskStatus,
)
from crm.scripts.placeholders import FilledText, fill, run_values


def local_now() -> datetime:
    return datetime.now(BUSINESS_TIMEZONE)


# --- the library ---------------------------------------------------------------------------


@dataclass
class Library:
    own: list[Playbook]
    hq_templates: list[Playbook]


def library(session: Session, user: User) -> Library:
    """The user's dealer's playbooks and HQ's templates (HQ staff see only the templates)."""
    query = sa.select(Playbook).options(selectinload(Playbook.versions)).order_by(Playbook.name)
    templates = session.scalars(query.where(Playbook.dealer_id.is_(None))).all()
    own = session.scalars(query.where(Playbook.dealer_id == user.dealer_id)).all() if user.dealer_id else []
    if user.dealer_id:
        templates = [t for t in templates if t.versions]  # dealers see only what HQ has published
    return Library(own=list(own), hq_templates=list(templates))


def visible_playbook(session: Session, user: User, playbook_id: int) -> Playbook | None:
    """A playbook this user may open: their dealer's, or an HQ template (HQ: only templates)."""
    playbook = session.get(Playbook, playbook_id)
    if playbook is None or playbook.dealer_id not in (None, user.dealer_id):
        return None
    if playbook.dealer_id is None and user.dealer_id is not None and not playbook.versions:
        return None  # an HQ draft nobody published yet
    return playbook


def runs_per_version(session: Session, playbook: Playbook) -> dict[int, int]:
    """How many groups ran (or run) on each version of the playbook."""
    rows = session.execute(
        sa.select(ScriptRun.version_id, sa.func.count(ScriptRun.id))
        .join(PlaybookVersion, PlaybookVersion.id == ScriptRun.version_id)
        .where(PlaybookVersion.playbook_id == playbook.id)
        .group_by(ScriptRun.version_id)
    ).all()
    return dict(rows)


def applicable_versions(session: Session, dealer_id: int) -> list[PlaybookVersion]:
    """The latest published version of each of the dealer's playbooks (what a group can run on)."""
    latest = (
        sa.select(sa.func.max(PlaybookVersion.id))
        .join(Playbook, Playbook.id == PlaybookVersion.playbook_id)
        .where(Playbook.dealer_id == dealer_id, Playbook.is_archived.is_(False))
        .group_by(PlaybookVersion.playbook_id)
    )
    return list(
        session.scalars(
            sa.select(PlaybookVersion)
            .where(PlaybookVersion.id.in_(latest))
            .options(joinedload(PlaybookVersion.playbook))
            .join(Playbook, Playbook.id == PlaybookVersion.playbook_id)
            .order_by(Playbook.name)
        )
    )


def _version_names():
    """Load a run's version and playbook for their names only: their JSON content is large."""
    return (
        joinedload(ScriptRun.version)
        .defer(PlaybookVersion.content)
        .joinedload(PlaybookVersion.playbook)
        .defer(Playbook.content)
    )


# --- where a run stands --------------------------------------------------------------------


@dataclass
class RunProgress:
    """A live run seen on one day: which scripted day it is on and how punctually tasks get done."""

    run: ScriptRun
    today: date
    due: int = 0  # tasks whose day has come
    on_time: int = 0  # of those, done by the end of their day
    # The run's days in order, or only those this view reads (the first, the last and the ones either side of
    # today) when many runs are shown at once; None: all of run.days.
    known_days: list[ScriptRunDay] | None = None

    @property
    def days(self) -> list[ScriptRunDay]:
        return self.run.days if self.known_days is None else self.known_days

    @property
    def first_day(self) -> ScriptRunDay | None:
        return self.days[0] if self.days else None

    @property
    def current_day(self) -> ScriptRunDay | None:
        return next((day for day in self.days if day.on_date == self.today), None)

    @property
    def state(self) -> str:
        """not_started, today, rest (a skipped day), finished, paused."""
        if self.run.status == RunStatus.PAUSED:
            return "paused"
        days = self.days
        if not days or self.today < days[0].on_date:
            return "not_started"
        if self.today > days[-1].on_date:
            return "finished"
        return "today" if self.current_day else "rest"

    @property
    def last_day(self) -> ScriptRunDay | None:
        """The latest scripted day on or before today (where a paused or resting run stands)."""
        passed = [day for day in self.days if day.on_date <= self.today]
        return passed[-1] if passed else None

    @property
    def next_day(self) -> ScriptRunDay | None:
        return next((day for day in self.days if day.on_date > self.today), None)

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


def _days_around(session: Session, run_ids: list[int], today: date) -> dict[int, list[ScriptRunDay]]:
    """Per run, in order: its first and last day and the days just before/on and after today (not all ~dozens)."""
    on_date = ScriptRunDay.on_date
    bounds = (
        sa.select(
            ScriptRunDay.run_id,
            sa.func.min(on_date).label("first"),
            sa.func.max(on_date).label("final"),
            sa.func.max(sa.case((on_date <= today, on_date))).label("passed"),
            sa.func.min(sa.case((on_date > today, on_date))).label("upcoming"),
        )
        .where(ScriptRunDay.run_id.in_(run_ids))
        .group_by(ScriptRunDay.run_id)
        .subquery()
    )
    days = session.scalars(
        sa.select(ScriptRunDay)
        .join(bounds, bounds.c.run_id == ScriptRunDay.run_id)
        .where(on_date.in_([bounds.c.first, bounds.c.final, bounds.c.passed, bounds.c.upcoming]))
        .order_by(ScriptRunDay.run_id, ScriptRunDay.number)
    )
    found: dict[int, list[ScriptRunDay]] = defaultdict(list)
    for day in days:
        found[day.run_id].append(day)
    return found


def group_progress(session: Session, group_ids, today: date, *, playbook_names: bool = True) -> dict[int, RunProgress]:
    """Each group's live run with where it stands today and its on-time counts, in a fixed number of queries.
    playbook_names=False leaves out the playbook and version (the board does not show them)."""
    group_ids = list(group_ids)
    if not group_ids:
        return {}
    query = sa.select(ScriptRun).where(ScriptRun.group_id.in_(group_ids), ScriptRun.status != RunStatus.STOPPED)
    runs = session.scalars(query.options(_version_names()) if playbook_names else query).all()
    if not runs:
        return {}
    run_ids = [run.id for run in runs]
    days = _days_around(session, run_ids, today)
    counts = task_counts(session, run_ids, today)
    return {
        run.group_id: RunProgress(run, today, *counts.get(run.id, (0, 0)), known_days=days.get(run.id, []))
        for run in runs
    }


def task_counts(session: Session, run_ids: list[int], today: date) -> dict[int, tuple[int, int]]:
    """Per run: (tasks due up to today, tasks done on or before their day)."""
    on_time = sa.and_(ScriptTask.status == TaskStatus.DONE, ScriptTask.finished_on <= ScriptRunDay.on_date)
    rows = session.execute(
        sa.select(
            ScriptTask.run_id,
            sa.func.count(),  # not count(id): the columns read here are all in ix_script_task_run_progress
            sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0),
        )
        .join(ScriptRunDay, ScriptRunDay.id == ScriptTask.day_id)
        .where(ScriptTask.run_id.in_(run_ids), ScriptRunDay.on_date <= today)
        .group_by(ScriptTask.run_id)
    ).all()
    return {run_id: (int(due), int(done)) for run_id, due, done in rows}


# --- tasks as a user sees them -------------------------------------------------------------


@dataclass
class TaskCard:
    task: ScriptTask
    filled: FilledText
    overdue: bool

    @property
    def group(self) -> Group:
        return self.task.run.group

    @property
    def day(self) -> ScriptRunDay:
        return self.task.day


def _load_run_context(session: Session, runs) -> dict[int, dict[str, str]]:
    """Placeholder values per run, loading each run's estate, owner, accounts and stores once."""
    runs = list({run.id: run for run in runs}.values())
    if not runs:
        return {}
    session.execute(
        sa.select(ScriptRun)
        .where(ScriptRun.id.in_([run.id for run in runs]))
        .options(
            selectinload(ScriptRun.roles).joinedload(ScriptRunRole.user),
            joinedload(ScriptRun.group).joinedload(Group.estate),
            joinedload(ScriptRun.group).joinedload(Group.owner),
        )
    ).unique().all()
    dealer_ids = {run.dealer_id for run in runs}
    stores_by_dealer = defaultdict(list)
    for store in session.scalars(sa.select(Store).where(Store.dealer_id.in_(dealer_ids)).order_by(Store.name)):
        stores_by_dealer[store.dealer_id].append(store)
    offers = current_offers(session, {run.group.estate_id for run in runs}, local_now().date())
    return {run.id: run_values(run, stores_by_dealer[run.dealer_id], offers.get(run.group.estate_id)) for run in runs}


def _is_overdue(task: ScriptTask, now: datetime) -> bool:
    if task.status != TaskStatus.PENDING:
        return False
    due = datetime.combine(task.day.on_date, task.due_time, tzinfo=BUSINESS_TIMEZONE)
    return due < now


def cards(session: Session, tasks: list[ScriptTask], now: datetime) -> list[TaskCard]:
    values = _load_run_context(session, [task.run for task in tasks])
    return [TaskCard(task, fill(task.text, values[task.run_id]), _is_overdue(task, now)) for task in tasks]


# Scripts left unsent for longer than this are past their moment: 今天 only counts them.
OVERDUE_DAYS_SHOWN = 2


@dataclass
class Today:
    overdue: list[TaskCard] = field(default_factory=list)
    upcoming: list[TaskCard] = field(default_factory=list)
    finished: list[TaskCard] = field(default_factory=list)
    older: list[tuple[Group, int]] = field(default_factory=list)  # groups with scripts unsent for longer

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.upcoming)


def today_for(session: Session, user: User, now: datetime | None = None) -> Today:
    """The user's tasks across groups: overdue ones first, then today's in time order, then what is done."""
    now = now or local_now()
    today = now.date()
    oldest_shown = today - timedelta(days=OVERDUE_DAYS_SHOWN)
    mine = sa.and_(ScriptTask.assignee_id == user.id, ScriptRun.status == RunStatus.RUNNING)
    pending = ScriptTask.status == TaskStatus.PENDING
    tasks = session.scalars(
        sa.select(ScriptTask)
        .join(ScriptTask.day)
        .join(ScriptTask.run)
        .where(
            mine,
            sa.or_(
                sa.and_(pending, ScriptRunDay.on_date.between(oldest_shown, today)),
                ScriptRunDay.on_date == today,
                ScriptTask.finished_on == today,
            ),
        )
        .options(contains_eager(ScriptTask.day), contains_eager(ScriptTask.run))
        .order_by(ScriptRunDay.on_date, ScriptTask.due_time, ScriptTask.id)
    ).all()
    result = Today()
    for card in cards(session, list(tasks), now):
        if card.task.status != TaskStatus.PENDING:
            result.finished.append(card)
        elif card.overdue:
            result.overdue.append(card)
        else:
            result.upcoming.append(card)
    older = session.execute(
        sa.select(Group, sa.func.count(ScriptTask.id))
        .join(ScriptRun, ScriptRun.group_id == Group.id)
        .join(ScriptTask, ScriptTask.run_id == ScriptRun.id)
        .join(ScriptRunDay, ScriptRunDay.id == ScriptTask.day_id)
        .where(mine, pending, ScriptRunDay.on_date < oldest_shown)
        .group_by(Group)
        .order_by(Group.name)
    ).all()
    result.older = [(group, count) for group, count in older]
    return result


def task_card(session: Session, task: ScriptTask, now: datetime | None = None) -> TaskCard:
    return cards(session, [task], now or local_now())[0]


def load_task(session: Session, task_id: int) -> ScriptTask | None:
    return session.scalar(
        sa.select(ScriptTask)
        .where(ScriptTask.id == task_id)
        .options(joinedload(ScriptTask.day), joinedload(ScriptTask.run).joinedload(ScriptRun.group))
    )


@dataclass
class CalendarDay:
    day: ScriptRunDay
    cards: list[TaskCard]


def run_calendar(session: Session, run: ScriptRun, now: datetime | None = None) -> list[CalendarDay]:
    """A run's days with their tasks, filled, for the run page."""
    now = now or local_now()
    days = session.scalars(
        sa.select(ScriptRunDay)
        .where(ScriptRunDay.run_id == run.id)
        .order_by(ScriptRunDay.number)
        .options(selectinload(ScriptRunDay.tasks).selectinload(ScriptTask.assignee))
    ).all()
    tasks = [task for day in days for task in day.tasks]
    by_id = {card.task.id: card for card in cards(session, tasks, now)}
    return [CalendarDay(day, [by_id[task.id] for task in day.tasks]) for day in days]


def load_run(session: Session, run_id: int) -> ScriptRun | None:
    return session.scalar(
        sa.select(ScriptRun)
        .where(ScriptRun.id == run_id)
        .options(
            joinedload(ScriptRun.group).joinedload(Group.estate),
            joinedload(ScriptRun.version).joinedload(PlaybookVersion.playbook),
            selectinload(ScriptRun.roles).joinedload(ScriptRunRole.user),
            selectinload(ScriptRun.events),
            selectinload(ScriptRun.days),
        )
    )


def group_runs(session: Session, group_id: int) -> list[ScriptRun]:
    """Every run the group has had, newest first."""
    return list(
        session.scalars(
            sa.select(ScriptRun)
            .where(ScriptRun.group_id == group_id)
            .order_by(ScriptRun.id.desc())
            .options(_version_names())
        )
    )


def placeholder_values(session: Session, run: ScriptRun) -> dict[str, str]:
    """Everything the run's placeholders are filled with right now."""
    return _load_run_context(session, [run])[run.id]


def standing_texts(session: Session, run: ScriptRun) -> list[tuple[str, FilledText]]:
    """The version's welcome message, group rules… filled for the run's group."""
    values = _load_run_context(session, [run])[run.id]
    return [(t["name"], fill(t["text"], values)) for t in run.version.content.get("templates", [])]


def time_label(value: time) -> str:
    return value.strftime("%H:%M")
