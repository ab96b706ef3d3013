"""Re-encrypt every EncryptedTextField with the first FIELD_ENCRYPTION_KEYS key (key rotation)."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt encrypted columns with the current first key, in batches. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        batch = options["batch_size"]
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            done = 0
            last_pk = None
            while True:
                qs = model._default_manager.order_by("pk").only("pk", *fields)
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                rows = list(qs[:batch])
                if not rows:
                    break
                with transaction.atomic():
                    model._default_manager.bulk_update(rows, fields)  # saving re-encrypts
                done += len(rows)
                last_pk = rows[-1].pk
            self.stdout.write(f"{model._meta.label}: {done} row(s) re-encrypted ({', '.join(fields)}).")
