"""Benchmark of the tier re-evaluation job (tiers.reevaluate) against one SQL statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mh_bench_tiers \
        .venv/bin/python bench/tiers.py --members 100000

A script, not a test. It migrates the database, generates members, tier states and growth
entries with INSERT ... SELECT generate_series (seconds, not minutes), then:

1. the floor: ONE hand-written SQL statement that computes every due member's outcome
   (upgrade / retained / grace / downgrade) with the same rule, writing nothing;
2. the job: tiers_reevaluate() as beat runs it, writing states, TierChange rows, member
   notices, tier.changed outbox events; peak RSS of this process is reported.

Both report counts per outcome, which must agree. Members are regenerated only when the
requested size differs (or with --regen); each run first resets tier states from the plan
table so runs are comparable. Webhook dispatch is queued to REDIS_URL (default db 3 on the
local Redis, purged at the end) as in production; SMS copies are dropped.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mh_bench_tiers")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SMS_BACKEND", "__main__.NullSmsBackend")


class NullSmsBackend:
    """Drops SMS copies (the console backend would print one line per warning)."""

    def send(self, phone: str, text: str) -> None:
        return None


import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from tiers.models import MemberTier, Tier  # noqa: E402
from tiers.rules import months_before  # noqa: E402

ENTRIES_IN_WINDOW = 4


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def insert_users(n: int) -> None:
    """INSERT ... SELECT generate_series into the user table, whatever columns it has now."""
    User = get_user_model()
    overrides = {
        "password": "'!bench'",
        "member_id": "'mb_' || g",
        "phone": "'15' || lpad(g::text, 9, '0')",
        "email": "NULL",
        "nickname": "'会员' || g",
        "date_joined": "now() - (g %% 700) * interval '1 day'",
    }
    columns, values, params = [], [], []
    for field in User._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in overrides:
            values.append(overrides[field.name])
        elif field.unique:
            values.append(f"substr(md5('{field.column}' || g), 1, {min(field.max_length or 32, 32)})")
        elif field.null:
            values.append("NULL")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql(
        f"INSERT INTO {User._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS g",
        [*params, n],
    )


def generate(n: int, as_of) -> None:
    """Members, a plan per member (tier, target growth, grace), tier states and growth entries."""
    User = get_user_model()
    tiers = {t.code: t for t in Tier.objects.all()}
    sql(
        "TRUNCATE tiers_growthentry, tiers_membertier, tiers_tierchange, tiers_subscription, "
        "tiers_reevaluationrun, members_notification, core_outboxevent CASCADE"
    )
    sql(f"DELETE FROM {User._meta.db_table} WHERE NOT is_staff")
    sql("DROP TABLE IF EXISTS bench_tiers_plan")
    started = time.perf_counter()
    insert_users(n)
    t_users = time.perf_counter() - started
    # Plan: 70% regular, 18% silver, 9% gold, 3% diamond. Tiered members are all due tonight
    # (the worst night: a whole cohort's anniversary). Growth in the window: 80% keep the
    # tier, 4% qualify one higher, 10% fall short (grace starts), 6% fall short with the grace
    # already over (downgrade).
    sql(
        f"""
        CREATE TABLE bench_tiers_plan AS
        SELECT r.member_id,
               CASE WHEN r.t < 0.70 THEN %(regular)s WHEN r.t < 0.88 THEN %(silver)s
                    WHEN r.t < 0.97 THEN %(gold)s ELSE %(diamond)s END AS tier_id,
               CASE WHEN r.t < 0.70 THEN 0 WHEN r.t < 0.88 THEN 1 WHEN r.t < 0.97 THEN 2 ELSE 3 END AS rank,
               r.o AS outcome_draw
        FROM (SELECT id AS member_id, random() AS t, random() AS o FROM {User._meta.db_table}) r
        """,
        {code: tiers[code].pk for code in ("regular", "silver", "gold", "diamond")},
    )
    sql("ALTER TABLE bench_tiers_plan ADD PRIMARY KEY (member_id)")
    keep = {t.rank: t.retention_growth or t.growth_threshold for t in tiers.values()}
    up = {t.rank: t.growth_threshold for t in tiers.values()}
    sql(
        f"""
        ALTER TABLE bench_tiers_plan ADD COLUMN window_growth int;
        UPDATE bench_tiers_plan SET window_growth = CASE
            WHEN rank = 0 THEN (outcome_draw * 900)::int
            WHEN outcome_draw < 0.80 THEN (CASE rank WHEN 1 THEN {keep[1]} WHEN 2 THEN {keep[2]} ELSE {keep[3]} END)
                                          + (outcome_draw * 500)::int
            WHEN outcome_draw < 0.84 AND rank < 3 THEN (CASE rank WHEN 1 THEN {up[2]} ELSE {up[3]} END) + 100
            ELSE (CASE rank WHEN 1 THEN {keep[1]} WHEN 2 THEN {keep[2]} ELSE {keep[3]} END) / 2
        END;
        """
    )
    t_plan = time.perf_counter() - started - t_users
    # Growth entries: 4 inside the 12-month window summing to window_growth, 1 outside it.
    sql(
        """
        INSERT INTO tiers_growthentry (member_id, growth, spend, orders, source_type, source_id,
                                       occurred_at, created_at, reason)
        SELECT p.member_id,
               CASE WHEN k = 0 THEN 3000 ELSE p.window_growth / 4 + CASE WHEN k = 1 THEN p.window_growth %% 4 ELSE 0 END END,
               (CASE WHEN k = 0 THEN 3000 ELSE p.window_growth / 4 END)::numeric(12, 2),
               1, 'order', p.member_id || '-' || k,
               CASE WHEN k = 0 THEN %(as_of)s - interval '13 months' - (p.member_id %% 200) * interval '1 day'
                    ELSE %(as_of)s - (k * 80 + p.member_id %% 60) * interval '1 day' END,
               %(as_of)s, ''
        FROM bench_tiers_plan p CROSS JOIN generate_series(0, %(n)s) AS k
        """,
        {"as_of": as_of, "n": ENTRIES_IN_WINDOW},
    )
    t_entries = time.perf_counter() - started - t_users - t_plan
    sql(
        """
        INSERT INTO tiers_membertier (member_id, tier_id, tier_since, growth_total, spend_total, orders_total,
                                      evaluate_at, grace_until, override_reason, updated_at)
        SELECT p.member_id, p.tier_id, %(as_of)s - interval '12 months', p.window_growth + 3000,
               p.window_growth + 3000, 5, NULL, NULL, '', %(as_of)s
        FROM bench_tiers_plan p
        """,
        {"as_of": as_of},
    )
    sql("ANALYZE")
    total = time.perf_counter() - started
    print(
        f"generated {n:,} members in {total:.1f}s (users {t_users:.1f}s, plan {t_plan:.1f}s, "
        f"{n * (ENTRIES_IN_WINDOW + 1):,} growth entries {t_entries:.1f}s)"
    )


def reset_states(as_of) -> None:
    """Tier states as generated: tiered members due, 6%% with their grace already over."""
    sql("TRUNCATE tiers_tierchange, tiers_reevaluationrun, members_notification, core_outboxevent CASCADE")
    sql(
        """
        UPDATE tiers_membertier m SET tier_id = p.tier_id,
               evaluate_at = CASE WHEN p.rank > 0 THEN %(as_of)s - (p.member_id %% 30) * interval '1 hour' END,
               grace_until = CASE WHEN p.rank > 0 AND p.outcome_draw >= 0.94
                                  THEN %(as_of)s - interval '1 day' END
        FROM bench_tiers_plan p WHERE p.member_id = m.member_id
        """,
        {"as_of": as_of},
    )
    sql("VACUUM ANALYZE tiers_membertier")


FLOOR_SQL = """
WITH due AS (
    SELECT m.member_id, m.grace_until, t.rank, COALESCE(t.retention_growth, t.growth_threshold) AS keep
    FROM tiers_membertier m JOIN tiers_tier t ON t.id = m.tier_id
    WHERE m.evaluate_at <= %(as_of)s
), sums AS (
    SELECT e.member_id, SUM(e.growth) AS growth
    FROM tiers_growthentry e JOIN due d ON d.member_id = e.member_id
    WHERE e.occurred_at >= %(start)s AND e.occurred_at <= %(as_of)s
    GROUP BY e.member_id
), judged AS (
    SELECT d.*, COALESCE(s.growth, 0) AS growth,
           (SELECT MAX(t.rank) FROM tiers_tier t
             WHERE t.is_active AND (t.is_default OR COALESCE(s.growth, 0) >= t.growth_threshold)) AS best
    FROM due d LEFT JOIN sums s ON s.member_id = d.member_id
)
SELECT CASE WHEN best > rank THEN 'upgraded'
            WHEN rank = 0 OR growth >= keep THEN 'retained'
            WHEN grace_until IS NULL THEN 'grace_started'
            WHEN grace_until > %(as_of)s THEN 'in_grace'
            ELSE 'downgraded' END AS outcome,
       COUNT(*)
FROM judged GROUP BY 1 ORDER BY 1
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--regen", action="store_true", help="Regenerate members even if the size matches.")
    parser.add_argument(
        "--profile", action="store_true", help="Run the job under cProfile; print the top 25."
    )
    args = parser.parse_args()
    import logging

    logging.getLogger("memberhub.sms").setLevel(logging.ERROR)
    logging.getLogger("memberhub.jobs").setLevel(logging.WARNING)

    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor}); chunk {args.chunk:,}")
    call_command("migrate", verbosity=0)
    as_of = timezone.now()
    have = get_user_model().objects.filter(is_staff=False).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_tiers_plan') IS NOT NULL")
        plan_exists = cursor.fetchone()[0]
    if args.regen or have != args.members or not plan_exists:
        generate(args.members, as_of)
    else:
        print(f"reusing {have:,} generated members")
    reset_states(as_of)
    due = MemberTier.objects.filter(evaluate_at__lte=as_of).count()
    print(f"due for re-evaluation: {due:,}")

    windows = sorted(set(Tier.objects.filter(is_active=True).values_list("window_months", flat=True)))
    assert windows == [12], "the floor statement assumes one 12-month window"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"as_of": as_of, "start": months_before(as_of, 12)})
        floor_counts = dict(cursor.fetchall())
    floor = time.perf_counter() - started
    print(f"floor (one SQL statement, no writes): {floor:.2f}s  {floor_counts}")

    from tiers.services import tiers_reevaluate

    rss_before = rss_mb()
    started = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        counts = profiler.runcall(tiers_reevaluate, now=as_of, chunk_size=args.chunk)
    else:
        counts = tiers_reevaluate(now=as_of, chunk_size=args.chunk)
    elapsed = time.perf_counter() - started
    rss_after = rss_mb()
    outcomes = {k: v for k, v in counts.items() if k in floor_counts or k in ("upgraded", "downgraded")}
    transitions = {k: v for k, v in counts.items() if ":" in k}
    print(f"job tiers.reevaluate: {elapsed:.2f}s  {dict(sorted(outcomes.items()))}")
    print(f"  transitions: {dict(sorted(transitions.items()))}; chunks {counts.get('chunks', 0)}")
    print(
        f"  peak RSS {rss_after:.0f} MB (before the job {rss_before:.0f} MB, +{rss_after - rss_before:.0f} MB)"
    )
    print(f"  {due / elapsed:,.0f} members/s; ratio job/floor = {elapsed / floor:.1f}x")
    mismatch = {
        k: (floor_counts.get(k, 0), counts.get(k, 0))
        for k in floor_counts
        if floor_counts[k] != counts.get(k, 0)
    }
    print(
        "  outcomes agree with the floor statement"
        if not mismatch
        else f"  MISMATCH (floor, job): {mismatch}"
    )
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    started = time.perf_counter()
    again = tiers_reevaluate(now=as_of, chunk_size=args.chunk)
    print(
        f"second run: {time.perf_counter() - started:.2f}s, evaluated {again.get('evaluated', 0)} (idempotent)"
    )
    try:
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    except Exception as exc:  # noqa: BLE001
        print(f"(could not purge the queued webhook tasks: {exc})")


if __name__ == "__main__":
    main()
