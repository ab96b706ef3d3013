"""Benchmark of the points hot paths: POST /orders, orders:import, and the expiry job.

    .venv/bin/python bench/orders.py            # DATABASE_URL defaults to mh_bench_orders

A script, not a test. In one run, against one PostgreSQL database:

1. migrate it, create bench members (INSERT ... SELECT generate_series) and an API key
   (`manage.py create_api_key`, rate limit off for the bench partner);
2. start gunicorn on 127.0.0.1 (2 sync workers per CPU) and drive sustained POST /orders with 8 client threads
   (http.client, keep-alive) for ~20 s: orders/s and latency percentiles;
3. POST /orders:import with batches of 1,000 historical orders: orders/s;
4. pgbench TPC-B on the same database (`pgbench -i -s 1`, then `pgbench -c 8 -j 2 -T 20`)
   and the ratios orders/s ÷ pgbench tps;
5. points_expire_lots() on 100k and 1M due lots generated set-based, each run in a fresh
   child process: wall time and peak RSS (ru_maxrss), with the process baseline.

Webhook dispatch is queued to REDIS_URL (default db 4, purged at the end) as in production.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mh_bench_orders")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SMS_BACKEND", "members.sms.LocMemBackend")
PY = str(ROOT / ".venv" / "bin" / "python")

CHILD_EXPIRE = """
import json, os, resource, time, django
django.setup()
from points.services import points_expire_lots
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
counts = points_expire_lots()
print(json.dumps({"seconds": time.perf_counter() - t, "counts": counts,
                  "baseline_rss_mb": base / 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def setup_django():
    import django

    django.setup()


def sql(statement: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def insert_users(n: int, prefix: str, phone_prefix: str, start: int = 1) -> None:
    """Bench members via INSERT ... SELECT generate_series, whatever columns the user table has."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    User = get_user_model()
    overrides = {
        "password": "'!bench'",
        "member_id": f"'{prefix}' || g",
        "phone": f"'{phone_prefix}' || lpad(g::text, 9, '0')",
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
            values.append(f"substr(md5('{prefix}{field.column}' || g), 1, {min(field.max_length or 32, 32)})")
        elif field.null:
            values.append("NULL")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql(
        f"INSERT INTO {User._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(%s, %s) AS g",
        [*params, start, start + n - 1],
    )


def prepare(members: int) -> tuple[str, list[str]]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from core.models import Partner

    call_command("migrate", verbosity=0)
    User = get_user_model()
    if not User.objects.filter(member_id__startswith="bo_").exists():
        insert_users(members, "bo_", "17")
    ids = list(User.objects.filter(member_id__startswith="bo_").values_list("member_id", flat=True)[:members])
    out = subprocess.run(
        [
            PY,
            "manage.py",
            "create_api_key",
            "--partner",
            "bench",
            "--scopes",
            "orders:write,points:read,events:write",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    key = out.stdout.strip().splitlines()[-1]
    Partner.objects.filter(name="bench").update(rate_limit_per_minute=0)
    return key, ids


def start_server(port: int, workers: int) -> subprocess.Popen:
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    env = os.environ.copy()
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def order_body(order_id: str, member: str, rng: random.Random, paid_at: datetime) -> dict:
    lines = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        lines.append(
            {
                "sku": f"SKU-{rng.randrange(5000)}",
                "category": rng.choice(["apparel", "beauty", "grocery", "home", "electronics"]),
                "quantity": rng.choice([1, 1, 2]),
                "unit_price": f"{rng.randint(10, 800)}.00",
            }
        )
    amount = sum(int(li["unit_price"].split(".")[0]) * li["quantity"] for li in lines)
    return {
        "order_id": order_id,
        "member": member,
        "amount": f"{amount}.00",
        "currency": "CNY",
        "items": lines,
        "channel": rng.choice(["app", "web", "store"]),
        "paid_at": paid_at.isoformat(),
    }


def drive_orders(port: int, key: str, members: list[str], clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    run = f"{int(time.time())}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        i = 0
        mine: list[float] = []
        counts: dict[int, int] = {}
        while time.monotonic() < stop:
            i += 1
            body = json.dumps(order_body(f"B{run}-{n}-{i}", rng.choice(members), rng, datetime.now(UTC)))
            t = time.perf_counter()
            conn.request("POST", "/api/v1/orders", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t)
            counts[resp.status] = counts.get(resp.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in counts.items():
                statuses[k] = statuses.get(k, 0) + v

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    ok = statuses.get(201, 0)
    return {
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "statuses": statuses,
        "orders_per_s": round(ok / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def drive_import(port: int, key: str, members: list[str], batches: int) -> dict:
    rng = random.Random(99)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    run = f"{int(time.time())}"
    created = 0
    started = time.perf_counter()
    for b in range(batches):
        paid = datetime.now(UTC) - timedelta(days=rng.randint(30, 600))
        orders = [order_body(f"I{run}-{b}-{i}", rng.choice(members), rng, paid) for i in range(1000)]
        conn.request("POST", "/api/v1/orders:import", body=json.dumps({"orders": orders}), headers=headers)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        created += data.get("summary", {}).get("created", 0)
    elapsed = time.perf_counter() - started
    return {
        "batches": batches,
        "created": created,
        "seconds": round(elapsed, 1),
        "orders_per_s": round(created / elapsed, 1),
    }


def pgbench(url: str) -> dict:
    m = re.match(r"postgres(?:ql)?://(?P<user>[^@/:]+)?@?(?P<host>[^:/]+):?(?P<port>\d+)?/(?P<db>\w+)", url)
    if not m or not shutil.which("pgbench"):
        return {"skipped": "pgbench not available"}
    args = ["-h", m["host"], "-p", m["port"] or "5432", "-U", m["user"] or "postgres"]
    subprocess.run(["pgbench", *args, "-i", "-s", "1", "-q", m["db"]], check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", *args, "-c", "8", "-j", "2", "-T", "20", m["db"]],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    subprocess.run(["pgbench", *args, "-i", "-I", "d", m["db"]], capture_output=True)
    return {"tps": round(tps, 1)}


def generate_lots(n: int, accounts: int) -> None:
    """n due lots spread over `accounts` bench accounts, with matching earn entries and
    balances, all set-based (the ledger stays consistent)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    prefix = "bx_"
    have = User.objects.filter(member_id__startswith=prefix).count()
    if have < accounts:
        insert_users(accounts - have, prefix, "18", start=have + 1)
    sql(
        f"INSERT INTO points_pointsaccount (member_id, available, pending, held, debt, lifetime_earned, "
        f"lifetime_spent, lifetime_expired, created_at, updated_at) SELECT id, 0, 0, 0, 0, 0, 0, 0, now(), now() "
        f"FROM {User._meta.db_table} u WHERE member_id LIKE 'bx\\_%%' "
        "AND NOT EXISTS (SELECT 1 FROM points_pointsaccount a WHERE a.member_id = u.id)"
    )
    sql("DROP TABLE IF EXISTS bench_accounts")
    sql(
        "CREATE TEMP TABLE bench_accounts AS SELECT row_number() OVER (ORDER BY a.id) - 1 AS i, a.id "
        f"FROM points_pointsaccount a JOIN {User._meta.db_table} u ON u.id = a.member_id "
        "WHERE u.member_id LIKE 'bx\\_%%' ORDER BY a.id LIMIT %s",
        [accounts],
    )
    tag = f"bench{int(time.time())}"
    sql(
        "INSERT INTO points_pointslot (account_id, state, points, remaining, earned_at, expires_at, source_type, source_id) "
        "SELECT b.id, 'available', 10 + g %% 90, 10 + g %% 90, now() - interval '400 days', "
        "now() - interval '1 day' - (g %% 1000) * interval '1 minute', %s, g::text "
        "FROM generate_series(1, %s) g JOIN bench_accounts b ON b.i = g %% %s",
        [tag, n, accounts],
    )
    sql(
        "INSERT INTO points_pointsentry (account_id, kind, amount, delta_available, delta_pending, delta_held, "
        "delta_debt, balance_after, source_type, source_id, actor, reason, created_at) "
        "SELECT account_id, 'earn', points, points, 0, 0, 0, 0, source_type, source_id, 'bench', '', earned_at "
        "FROM points_pointslot WHERE source_type = %s",
        [tag],
    )
    sql(
        "UPDATE points_pointsaccount a SET available = a.available + s.p, lifetime_earned = a.lifetime_earned + s.p "
        "FROM (SELECT account_id, sum(points) p FROM points_pointslot WHERE source_type = %s GROUP BY account_id) s "
        "WHERE s.account_id = a.id",
        [tag],
    )
    sql("ANALYZE points_pointslot")
    sql("ANALYZE points_pointsentry")
    sql("ANALYZE points_pointsaccount")


def run_expiry(n: int, accounts: int) -> dict:
    t = time.perf_counter()
    generate_lots(n, accounts)
    generated = time.perf_counter() - t
    out = subprocess.run(
        [PY, "-c", CHILD_EXPIRE], cwd=ROOT, capture_output=True, text=True, env=os.environ.copy()
    )
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["generate_seconds"] = round(generated, 1)
    result["seconds"] = round(result["seconds"], 1)
    result["lots_per_s"] = round(result["counts"].get("lots", 0) / max(result["seconds"], 0.001))
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    result["baseline_rss_mb"] = round(result["baseline_rss_mb"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="gunicorn sync workers (default 2 per CPU: a request spends about half its time "
        "waiting on PostgreSQL on the same host, so one per CPU leaves the CPUs idle and more "
        "only adds contention)",
    )
    parser.add_argument("--import-batches", type=int, default=5)
    parser.add_argument("--lots", default="100000,1000000", help="expiry sizes, comma separated")
    parser.add_argument("--expiry-accounts", type=int, default=50000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    setup_django()
    results: dict = {"cpus": os.cpu_count()}
    key, members = prepare(args.members)
    if not args.skip_http:
        server = start_server(args.port, args.workers)
        try:
            drive_orders(args.port, key, members, args.clients, 4)  # warm-up: workers load the app lazily
            print(f"POST /orders: {args.clients} clients for {args.seconds:.0f} s ...", flush=True)
            results["orders"] = drive_orders(args.port, key, members, args.clients, args.seconds)
            print(json.dumps(results["orders"]), flush=True)
            print(f"POST /orders:import: {args.import_batches} × 1,000 orders ...", flush=True)
            results["import"] = drive_import(args.port, key, members, args.import_batches)
            print(json.dumps(results["import"]), flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        print("pgbench TPC-B (-c 8 -j 2 -T 20) on the same database ...", flush=True)
        results["pgbench"] = pgbench(os.environ["DATABASE_URL"])
        print(json.dumps(results["pgbench"]), flush=True)
        tps = results["pgbench"].get("tps")
        if tps:
            results["ratios"] = {
                "orders_per_pgbench_tps": round(results["orders"]["orders_per_s"] / tps, 3),
                "import_orders_per_pgbench_tps": round(results["import"]["orders_per_s"] / tps, 3),
            }
            print(json.dumps(results["ratios"]), flush=True)
    for size in [int(s) for s in args.lots.split(",") if s]:
        print(f"expire_lots on {size:,} due lots over {args.expiry_accounts:,} accounts ...", flush=True)
        results[f"expire_{size}"] = run_expiry(size, args.expiry_accounts)
        print(json.dumps(results[f"expire_{size}"]), flush=True)
    results["bench_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    try:
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    except Exception:  # noqa: BLE001
        pass
    print("RESULTS " + json.dumps(results))


if __name__ == "__main__":
    main()
