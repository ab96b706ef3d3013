"""python manage.py import_orders FILE.csv [--partner shop]: historical orders for operators."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.models import Partner
from points.services.imports import CSV_COLUMNS, CsvError, orders_import_csv


class Command(BaseCommand):
    help = (
        "Import historical orders from a CSV file (one row per item, rows of an order together). "
        f"Columns: {', '.join(CSV_COLUMNS)}. Each order is all-or-nothing; known order ids are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row).")
        parser.add_argument(
            "--partner", default="shop", help="Partner whose orders these are (default shop)."
        )
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, **options):
        partner = Partner.objects.filter(name=options["partner"]).first()
        if partner is None:
            raise CommandError(f"No partner {options['partner']!r}.")
        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as handle:
                outcome = orders_import_csv(partner=partner, lines=handle, batch_size=options["batch_size"])
        except OSError as exc:
            raise CommandError(str(exc))
        except CsvError as exc:
            raise CommandError(f"CSV error, nothing after the last full batch was imported: {exc}")
        for error in outcome["errors"][:50]:
            self.stderr.write(f"{error['order_id']}: {error.get('code')} {error.get('errors')}")
        counts = outcome["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"created {counts['created']}, duplicate {counts['duplicate']}, rejected {counts['rejected']}"
            )
        )
