"""GET /api/video/jobs (keyset pages and filters), GET /api/usage (figures that match the jobs
made and the caps' own numbers) and GET /api/models (the catalog, cacheable), through the
handlers on real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from tests.integration.generation_support import store_key
from tests.support import invoke, load_event, load_function, with_changes
from tools.queues import InMemoryQueueSender
from videogen import catalog
from videogen.api.resolver import api_handler
from videogen.data.db import session_scope
from videogen.data.models import VideoJob

jobs_handler = load_function("jobs").lambda_handler
status_handler = load_function("status_and_models").lambda_handler
generate_module = load_function("generate")
USER = "user-123"


def _list(sub: str = USER, **query: str) -> Any:
    return invoke(jobs_handler, with_changes(load_event("jobs.list.200"), sub=sub, query=query))


def _usage(sub: str = USER, **query: str) -> Any:
    return invoke(jobs_handler, with_changes(load_event("jobs.usage.200"), sub=sub, query=query))


def _created(job_id: Any, when: datetime) -> None:
    with session_scope() as s:
        s.execute(update(VideoJob).where(VideoJob.id == job_id).values(created_at=when))


# --- the jobs list ------------------------------------------------------------------------------


def test_jobs_page_newest_first_through_every_job_once(make_storyboard, make_job):
    board = make_storyboard(USER)
    same_time = datetime.now(UTC) - timedelta(hours=1)
    made = [make_job(USER, board.id) for _ in range(7)]
    for job in made[:4]:
        _created(job.id, same_time)  # ties on created_at are broken by id, never repeated or lost
    make_job("someone-else")

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = _list(**query).body
        seen += [j["id"] for j in page["jobs"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert pages == 3
    assert sorted(seen) == sorted(str(j.id) for j in made)
    assert len(seen) == len(set(seen))
    assert seen[:3] == [str(j.id) for j in sorted(made[4:], key=lambda j: (j.created_at, j.id), reverse=True)]


def test_jobs_filter_by_status_and_storyboard(make_storyboard, make_job):
    first, second = make_storyboard(USER), make_storyboard(USER)
    pending = make_job(USER, first.id)
    submitting = make_job(USER, first.id, status="submitting")
    done = make_job(USER, second.id, status="completed")

    processing = _list(status="processing").body["jobs"]
    of_second = _list(storyboardId=str(second.id)).body["jobs"]
    both = _list(status="pending", storyboardId=str(first.id)).body["jobs"]

    assert [(j["id"], j["status"]) for j in processing] == [(str(submitting.id), "processing")]
    assert [j["id"] for j in of_second] == [str(done.id)]
    assert [j["id"] for j in both] == [str(pending.id)]


def test_jobs_list_bad_inputs_are_400(make_job):
    assert _list(status="exploded").status == 400
    assert _list(limit="0").status == 400
    assert _list(cursor="not-a-cursor").status == 400
    assert _list(storyboardId="nope").status == 400


def test_another_users_jobs_never_appear(make_job):
    job = make_job("owner")

    assert _list(sub="intruder").body == {"jobs": [], "nextCursor": None}
    assert _list(sub="intruder", storyboardId=str(job.storyboard_id)).body["jobs"] == []
    assert [j["id"] for j in _list(sub="owner").body["jobs"]] == [str(job.id)]


# --- usage --------------------------------------------------------------------------------------


@pytest.fixture
def spending(aws, make_storyboard, make_job) -> dict[str, Any]:
    """Jobs of every kind today, two older days, and someone else's."""
    board = make_storyboard(USER)
    today = datetime.now(UTC)
    jobs = {
        "completed": make_job(
            USER, board.id, status="completed", estimated_cost=Decimal("0.4"), cost=Decimal("0.8")
        ),
        "pending": make_job(USER, board.id, estimated_cost=Decimal("0.4")),
        "processing": make_job(
            USER,
            board.id,
            provider="veo",
            model="veo-3.1-fast-generate-001",
            status="processing",
            estimated_cost=Decimal("1.2"),
        ),
        "failed": make_job(USER, board.id, status="failed", estimated_cost=Decimal("0.4")),
        "cancelled-at-provider": make_job(USER, board.id, status="cancelled", estimated_cost=Decimal("0.4")),
        "cancelled-pending": make_job(
            USER, board.id, status="cancelled", estimated_cost=Decimal("0.4"), cost=Decimal(0)
        ),
        "yesterday": make_job(
            USER, board.id, status="completed", estimated_cost=Decimal("0.4"), cost=Decimal("0.4")
        ),
        "long-ago": make_job(
            USER, board.id, status="completed", estimated_cost=Decimal("0.4"), cost=Decimal("0.4")
        ),
    }
    _created(jobs["yesterday"].id, today - timedelta(days=1))
    _created(jobs["long-ago"].id, today - timedelta(days=40))
    make_job("someone-else", status="completed", estimated_cost=Decimal("5"), cost=Decimal("5"))
    return jobs


def test_usage_per_day_and_provider_matches_the_jobs(spending):
    result = _usage(days="30")

    assert result.status == 200
    body = result.body
    today = datetime.now(UTC).date()
    assert body["days"] == 30
    assert body["since"] == (today - timedelta(days=29)).isoformat()
    rows = {(r["date"], r["provider"]): r for r in body["daily"]}
    assert set(rows) == {
        ((today - timedelta(days=1)).isoformat(), "openai"),
        (today.isoformat(), "openai"),
        (today.isoformat(), "veo"),
    }
    sora_today = rows[(today.isoformat(), "openai")]
    assert sora_today == {
        "date": today.isoformat(),
        "provider": "openai",
        "completedCost": pytest.approx(0.8),
        "completedClips": 1,
        "inFlightCost": pytest.approx(0.4),
        "jobsInFlight": 1,
        "cancelledCost": pytest.approx(0.4),  # the one cancelled at the provider; the pending one is free
        "cancelledJobs": 2,
        "countedCost": pytest.approx(1.6),
    }
    assert rows[(today.isoformat(), "veo")]["inFlightCost"] == pytest.approx(1.2)


def test_usage_today_is_what_the_cap_check_sees(spending, configure):
    configure(max_daily_spend_per_user_usd="3.00", max_jobs_in_flight_per_user=5)

    today = _usage(days="1").body["today"]

    assert today == {
        "date": datetime.now(UTC).date().isoformat(),
        "spent": pytest.approx(2.8),  # 0.8 completed + 0.4 + 1.2 in flight + 0.4 cancelled at the provider
        "dailyCap": 3.0,
        "remaining": pytest.approx(0.2),
        "jobsInFlight": 2,
        "maxJobsInFlight": 5,
    }


def test_a_generate_over_the_remaining_spend_is_refused_with_the_same_figures(
    spending, configure, make_storyboard
):
    configure(max_daily_spend_per_user_usd="3.00", max_jobs_in_flight_per_user=5)
    store_key(USER, "openai")
    board = make_storyboard(USER, scenes=[{"id": "s1", "prompt": "Ada waves"}])
    event = with_changes(
        load_event("generate.storyboard.202"),
        path_parameters={"id": str(board.id)},
        body={"provider": "openai"},
    )
    event["headers"].pop("idempotency-key")

    refused = invoke(api_handler(generate_module.build_app(sender=InMemoryQueueSender())), event)

    assert refused.status == 429  # $0.40 more would pass $3.00
    assert refused.body["details"]["current"] == pytest.approx(_usage().body["today"]["spent"])


def test_usage_of_a_user_without_jobs_is_zero(aws):
    body = _usage(sub="newcomer").body

    assert body["daily"] == []
    assert body["today"]["spent"] == 0
    assert body["today"]["jobsInFlight"] == 0


@pytest.mark.parametrize("days", ["0", "91", "x"])
def test_usage_days_out_of_range_is_400(aws, days):
    assert _usage(days=days).status == 400


# --- the catalog --------------------------------------------------------------------------------


def test_the_catalog_lists_every_model_with_prices_and_is_cacheable():
    result = invoke(status_handler, load_event("status_and_models.models.200"))

    assert result.status == 200
    assert result.headers["cache-control"].startswith("public, max-age=")
    models = {m["id"]: m for m in result.body["models"]}
    assert set(models) == {m.id for m in catalog.MODELS}
    assert models["veo-3.0-generate-001"]["status"] == "retired"
    assert models["veo-3.0-generate-001"]["replacement"] == "veo-3.1-generate-001"
    assert models["veo-3.0-generate-001"]["retiredOn"] == "2026-06-30"
    assert models["sora-2"]["status"] == "generally available"
    assert models["veo-3.1-generate-preview"]["status"] == "preview"
    pro = {s["size"]: s for s in models["sora-2-pro"]["sizes"]}
    assert pro["1792x1024"]["usdPerSecond"] == pytest.approx(0.5)
    assert pro["1792x1024"]["priceSource"].startswith("https://platform.openai.com/docs/pricing")
    assert pro["1792x1024"]["priceAsOf"] == "2025-10-06"
    veo_4k = {s["size"]: s for s in models["veo-3.1-generate-preview"]["sizes"]}["3840x2160"]
    assert (veo_4k["durations"], veo_4k["resolution"], veo_4k["aspectRatio"]) == ([8], "4k", "16:9")
    assert models["veo-3.1-generate-preview"]["inputs"]["referenceImages"] == 3
    assert models["veo-3.1-generate-preview"]["sound"] is True
    assert models["veo-3.1-generate-001"]["api"] == "vertex"
    assert {m["provider"] for m in models.values()} == {"veo", "fal", "openai"}
    providers = {p["id"]: p for p in result.body["providers"]}
    assert providers["veo"]["reportsProgress"] is False
    assert providers["veo"]["keyApis"] == ["gemini", "vertex"]
    assert providers["openai"]["defaultModel"] == "sora-2"
    assert providers["openai"]["keyNeedsBaseUrl"] is True
    assert providers["openai"]["retiredEndpoints"] == [
        {
            "baseUrl": "https://api.openai.com/v1",
            "retiredOn": "2026-09-24",
            "source": catalog.OPENAI_RETIREMENT_SOURCE,
        }
    ]


def test_the_catalog_needs_no_database(configure, count_statements):
    with count_statements() as c:
        assert invoke(status_handler, load_event("status_and_models.models.200")).status == 200

    assert c.count == 0


def test_the_estimate_a_generate_answers_is_the_catalogs_price(aws, make_storyboard):
    store_key(USER, "openai")
    board = make_storyboard(USER)
    price = next(
        s["usdPerSecond"]
        for m in invoke(status_handler, load_event("status_and_models.models.200")).body["models"]
        if m["id"] == "sora-2"
        for s in m["sizes"]
        if s["size"] == "1280x720"
    )
    event = with_changes(
        load_event("generate.storyboard.202"),
        path_parameters={"id": str(board.id)},
        body={"provider": "openai", "durationSeconds": 8},
    )
    event["headers"]["idempotency-key"] = str(uuid.uuid4())

    answer = invoke(api_handler(generate_module.build_app(sender=InMemoryQueueSender())), event).body

    assert answer["estimatedCost"] == pytest.approx(price * 8)
