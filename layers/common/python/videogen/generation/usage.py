"""The usage report (``GET /api/usage``): the caller's spend per UTC day and provider over the
last ``days`` days, and today's standing against the caps that every generate is checked
against (:func:`videogen.generation.request.caps_for`: one definition of "spent today").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from videogen.api.schemas.jobs import DailyUsage, TodayUsage, Usage
from videogen.data.repositories import usage
from videogen.generation.request import caps_for
from videogen.runtime.config import Settings, get_settings

MAX_DAYS = 90
DEFAULT_DAYS = 30


def usage_report(
    session: Session, user_id: str, days: int, *, today: date | None = None, settings: Settings | None = None
) -> Usage:
    """One statement: per day and provider since ``days - 1`` days before today, and today."""
    settings = settings or get_settings()
    today = today or datetime.now(UTC).date()
    since = today - timedelta(days=days - 1)
    caps = caps_for(settings, today)
    rows = usage.report(
        session, user_id, since=datetime.combine(since, time.min, tzinfo=UTC), day_start=caps.day_start
    )
    daily = [
        DailyUsage(
            date=r.day.date(),
            provider=r.provider,
            completed_cost=float(r.completed_cost),
            completed_clips=r.completed_clips,
            in_flight_cost=float(r.in_flight_cost),
            jobs_in_flight=r.jobs_in_flight,
            cancelled_cost=float(r.cancelled_cost),
            cancelled_jobs=r.cancelled_jobs,
            counted_cost=float(r.counted_cost),
        )
        for r in rows
        if r.day is not None
    ]
    spent = Decimal(rows[0].spent)
    today_usage = TodayUsage(
        date=today,
        spent=float(spent),
        daily_cap=float(caps.max_daily_spend),
        remaining=float(max(Decimal(0), caps.max_daily_spend - spent)),
        jobs_in_flight=rows[0].in_flight,
        max_jobs_in_flight=caps.max_in_flight,
    )
    return Usage(days=days, since=since, daily=daily, today=today_usage)
