"""Writes for geocoding: position estates from their addresses, through a persistent cache.

Functions flush; the request commits. Each chunk asks the provider first and writes afterwards,
so the write transaction never stays open across slow HTTP calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import gettext as _
from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderParseError,
    GeocoderQueryError,
    GeocoderQuotaExceeded,
    GeocoderTimedOut,
    GeocoderUnavailable,
    GeopyError,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm.core.i18n import lazy_gettext as _l
from crm.estates.models import Estate
from crm.geocoding import queries
from crm.geocoding.models import GeocodeCacheEntry
from crm.geocoding.providers import Provider
from crm.maps.coords import CoordSystem, to_wgs84

logger = logging.getLogger(__name__)


class OutcomeStatus(StrEnum):
    POSITIONED = "positioned"
    NOT_FOUND = "not_found"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    OutcomeStatus.POSITIONED: _l("已定位"),
    OutcomeStatus.NOT_FOUND: _l("未找到"),
    OutcomeStatus.FAILED: _l("失败"),
}


@dataclass(frozen=True)
class GeocodeOutcome:
    """What happened to one estate; plain values, so it renders after the commit without reloading."""

    estate_id: int
    estate_name: str
    status: OutcomeStatus
    query: str
    from_cache: bool = False
    reason: str = ""
    # The provider refuses every call for now (quota, key, unreachable): the batch pauses.
    stops_batch: bool = False


@dataclass(frozen=True)
class BatchCounts:
    positioned: int = 0
    not_found: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.positioned + self.not_found + self.failed

    def plus(self, outcomes: Iterable[GeocodeOutcome]) -> BatchCounts:
        """These counts with `outcomes` added."""
        statuses = [outcome.status for outcome in outcomes]
        return BatchCounts(
            positioned=self.positioned + statuses.count(OutcomeStatus.POSITIONED),
            not_found=self.not_found + statuses.count(OutcomeStatus.NOT_FOUND),
            failed=self.failed + statuses.count(OutcomeStatus.FAILED),
        )


@dataclass
class BatchProgress:
    """Where a batch stands after a step: counts so far, what is left after `cursor`, this step's outcomes."""

    counts: BatchCounts
    remaining: int
    cursor: int | None
    outcomes: list[GeocodeOutcome] = field(default_factory=list)
    stopped_reason: str = ""

    @property
    def positioned(self) -> int:
        return self.counts.positioned

    @property
    def not_found(self) -> int:
        return self.counts.not_found

    @property
    def failed(self) -> int:
        return self.counts.failed

    @property
    def done(self) -> int:
        return self.counts.done

    @property
    def total(self) -> int:
        return self.done + self.remaining

    @property
    def finished(self) -> bool:
        return self.remaining == 0

    @property
    def is_running(self) -> bool:
        """More to do and nothing stopping it: the page asks for the next step by itself."""
        return not self.finished and not self.stopped_reason

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)


@dataclass(frozen=True)
class _Answer:
    """A provider's answer in WGS-84; no coordinates when it found nothing precise enough."""

    lng: float | None
    lat: float | None
    display_name: str = ""

    @property
    def found(self) -> bool:
        return self.lng is not None and self.lat is not None

    @classmethod
    def from_entry(cls, entry: GeocodeCacheEntry) -> _Answer:
        return cls(entry.lng, entry.lat, entry.display_name)


def _ask(provider: Provider, query: str) -> _Answer:
    location = provider.geocode(query)
    if location is None:
        return _Answer(None, None)
    if provider.is_too_coarse(location):
        return _Answer(None, None, (location.address or "")[:500])
    lng, lat = to_wgs84(location.longitude, location.latitude, provider.datum)
    return _Answer(lng, lat, (location.address or "")[:500])


def _describe_error(error: Exception) -> tuple[str, bool]:
    """(reason shown to the user, whether every further call would fail the same way)."""
    if isinstance(error, GeocoderQuotaExceeded):  # includes 429 Too Many Requests
        return _("定位服务的调用次数已用完或请求过于频繁，请稍后再试"), True
    if isinstance(error, GeocoderAuthenticationFailure | GeocoderInsufficientPrivileges):
        return _("定位服务拒绝访问，请联系系统管理员检查密钥或访问权限"), True
    if isinstance(error, GeocoderUnavailable):
        return _("无法连接定位服务，请检查网络后重试"), True
    if isinstance(error, GeocoderTimedOut):
        return _("定位服务响应超时，稍后可重试"), False
    if isinstance(error, GeocoderQueryError):
        return _("定位服务不接受这个地址，请检查地址写法"), False
    if isinstance(error, GeocoderParseError | KeyError | TypeError | ValueError):
        return _("定位服务返回了无法识别的内容，稍后可重试"), False
    return _("定位服务出错，稍后可重试"), False


def _not_found_reason(answer: _Answer) -> str:
    if answer.display_name:
        return _("只匹配到“%(place)s”，不够精确，请手动填写坐标", place=answer.display_name)
    return _("定位服务找不到这个地址，请手动填写坐标")


def _remember(session: Session, provider_name: str, query: str, answer: _Answer) -> None:
    """Store an answer (found or not); if another request stored the same query meanwhile, keep theirs."""
    values = {
        "provider": provider_name,
        "query": query,
        "lat": answer.lat,
        "lng": answer.lng,
        "display_name": answer.display_name,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(GeocodeCacheEntry)
        # Two tablets running a batch at once must not fail on the (provider, query) unique key.
        session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["provider", "query"]))
    else:
        session.add(GeocodeCacheEntry(**values))


def _geocode_all(
    session: Session, provider: Provider, estates: list[Estate], time_budget_s: float | None = None
) -> list[GeocodeOutcome]:
    """Ask for every estate (cache first, each query once), then write what was learnt in one go."""
    started = time.monotonic()
    answers: dict[str, _Answer] = {}
    fresh: dict[str, _Answer] = {}
    attempted: list[tuple[Estate, str, bool]] = []  # (estate, query, answered without asking the provider)
    failures: dict[int, tuple[str, bool]] = {}

    for estate in estates:
        if attempted and time_budget_s is not None and time.monotonic() - started > time_budget_s:
            break  # the rest waits for the next step, so a slow provider cannot hold the request
        query = provider.query_for(estate)
        if query in answers:
            attempted.append((estate, query, True))
            continue
        entry = queries.cached_answer(session, provider.name, query)
        if entry is not None:
            answers[query] = _Answer.from_entry(entry)
            attempted.append((estate, query, True))
            continue
        attempted.append((estate, query, False))
        try:
            answers[query] = fresh[query] = _ask(provider, query)
        except (GeopyError, KeyError, TypeError, ValueError) as error:
            # Not cached: a transport or quota error says nothing about the address.
            logger.warning("geocoding %r with %s failed: %r", query, provider.name, error)
            failures[estate.id] = _describe_error(error)
            if failures[estate.id][1]:
                break

    for query, answer in fresh.items():
        _remember(session, provider.name, query, answer)

    outcomes = []
    for estate, query, from_cache in attempted:
        if estate.id in failures:
            reason, stops_batch = failures[estate.id]
            outcomes.append(
                GeocodeOutcome(
                    estate.id, estate.name, OutcomeStatus.FAILED, query, reason=reason, stops_batch=stops_batch
                )
            )
            continue
        answer = answers[query]
        if answer.found:
            estate.set_position(answer.lng, answer.lat, CoordSystem.WGS84)
            outcomes.append(GeocodeOutcome(estate.id, estate.name, OutcomeStatus.POSITIONED, query, from_cache))
        else:
            outcomes.append(
                GeocodeOutcome(
                    estate.id, estate.name, OutcomeStatus.NOT_FOUND, query, from_cache, _not_found_reason(answer)
                )
            )
    session.flush()
    return outcomes


def geocode_estate(session: Session, provider: Provider, estate: Estate) -> GeocodeOutcome:
    """Position one estate from its address (cache first, then the provider) and say what happened."""
    return _geocode_all(session, provider, [estate])[0]


def batch_step(
    session: Session,
    provider: Provider,
    cursor: int | None = None,
    counts: BatchCounts | None = None,
    limit: int = 5,
    time_budget_s: float | None = None,
) -> BatchProgress:
    """Position the next `limit` visible estates without a position after `cursor` (an estate id)."""
    estates = queries.unpositioned_estates(session, limit=limit, after=cursor)
    outcomes = _geocode_all(session, provider, estates, time_budget_s)
    next_cursor = outcomes[-1].estate_id if outcomes else cursor
    stopped_reason = next((outcome.reason for outcome in outcomes if outcome.stops_batch), "")
    return BatchProgress(
        counts=(counts or BatchCounts()).plus(outcomes),
        remaining=queries.count_unpositioned(session, after=next_cursor),
        cursor=next_cursor,
        outcomes=outcomes,
        stopped_reason=stopped_reason,
    )
