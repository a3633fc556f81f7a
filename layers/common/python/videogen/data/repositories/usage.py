"""The SQL of the usage report: a user's spend per UTC day and provider, and where they stand
today against the caps, in one statement.

Today's figures are the cap check's own (``generation_requests.usage_cte``), so the report and
the 429 of a generate never disagree. Per day, jobs count by the day they were created.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.orm import Session

from videogen.data.models import ACTIVE_JOB_STATUSES, VideoJob
from videogen.data.repositories.generation_requests import COUNTS_AS_SPENT, SPEND, usage_cte


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(SPEND).filter(condition), 0)


@cache
def _select_usage() -> Select[Any]:
    usage = usage_cte()
    day = func.date_trunc("day", func.timezone("UTC", VideoJob.created_at))
    per_day = (
        select(
            day.label("day"),
            VideoJob.provider,
            _sum(VideoJob.status == "completed").label("completed_cost"),
            func.count().filter(VideoJob.status == "completed").label("completed_clips"),
            _sum(VideoJob.status.in_(ACTIVE_JOB_STATUSES)).label("in_flight_cost"),
            func.count().filter(VideoJob.status.in_(ACTIVE_JOB_STATUSES)).label("jobs_in_flight"),
            _sum(VideoJob.status == "cancelled").label("cancelled_cost"),
            func.count().filter(VideoJob.status == "cancelled").label("cancelled_jobs"),
            _sum(COUNTS_AS_SPENT).label("counted_cost"),
        )
        .where(VideoJob.user_id == bindparam("owner_id"), VideoJob.created_at >= bindparam("since"))
        .group_by(day, VideoJob.provider)
        .subquery("per_day")
    )
    return (
        select(usage.c.in_flight, usage.c.spent, per_day)
        .select_from(usage.outerjoin(per_day, true()))
        .order_by(per_day.c.day, per_day.c.provider)
    )


def report(session: Session, user_id: str, *, since: datetime, day_start: datetime) -> list[Any]:
    """Rows of ``(in_flight, spent, day, provider, completed_cost, completed_clips,
    in_flight_cost, jobs_in_flight, cancelled_cost, cancelled_jobs, counted_cost)`` for the days
    since ``since``; ``in_flight`` and ``spent`` (since ``day_start``) repeat on every row, and
    a user without jobs gets one row whose per-day columns are ``None``."""
    params = {"owner_id": user_id, "since": since, "day_start": day_start}
    return list(session.execute(_select_usage(), params).all())
