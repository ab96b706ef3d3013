"""Load demo data once: members, then whatever each app registered (tiers, orders, rules...)."""

from __future__ import annotations

import random
import resource
import sys
import time

from django.core.management.base import BaseCommand

from core import registry
from core.models import JobRun


class Command(BaseCommand):
    help = "Create a realistic demo data set (members, orders, tiers, rules, coupons...). Runs once."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000, help="How many members (default 2000).")
        parser.add_argument("--seed", type=int, default=20261111, help="Random seed, for repeatable data.")
        parser.add_argument("--force", action="store_true", help="Seed again even if demo data exists.")
        parser.add_argument("--only", default="", help="Comma-separated seeder names to run (default all).")

    def handle(self, *args, **options):
        if (
            not options["force"]
            and JobRun.objects.filter(name="seed_demo", status=JobRun.Status.SUCCEEDED).exists()
        ):
            self.stdout.write("Demo data already loaded (use --force to add more).")
            return
        # Demo history must not message anyone: tier upgrades and reminders that seeding
        # triggers go to the inbox only. DEBUG off: the debug cursor would keep the last 9,000
        # statements (bulk inserts of thousands of rows each) in memory.
        from django.test.utils import override_settings

        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            SMS_BACKEND="members.sms.NullBackend",
            DEBUG=False,
        ):
            self._seed(options)

    def _seed(self, options):
        from core.jobs import job_run

        only = {s.strip() for s in options["only"].split(",") if s.strip()}
        rng = random.Random(options["seed"])
        with job_run("seed_demo") as counts:
            for seeder in registry.seeders():
                if only and seeder.name not in only:
                    continue
                started = time.perf_counter()
                self.stdout.write(f"Seeding {seeder.name}...")
                seeder.func(members=options["members"], stdout=self.stdout, rng=rng)
                counts[seeder.name] = round(time.perf_counter() - started, 1)
                self.stdout.write(
                    f"  {seeder.name} done in {counts[seeder.name]}s (peak memory {_peak_mb()} MB)"
                )
            counts["peak_memory_mb"] = _peak_mb()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))


def _peak_mb() -> int:
    """Peak resident memory of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak / (1024 * 1024 if sys.platform == "darwin" else 1024))
