"""Re-encrypt members' personal data with the first FIELD_ENCRYPTION_KEYS key.

Idempotent and restartable: tokens already under the first key are simply re-encrypted again;
works in batches of 500 rows with bounded memory.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction

from core.jobs import job_run
from members import crypto
from members.models import QualificationDocument, RealNameVerification, TicketAttachment

BATCH = 500


def _rotate_blob(name: str) -> str:
    with default_storage.open(name, "rb") as fh:
        token = fh.read()
    rotated = crypto.rotate(token)
    # Storage backends do not overwrite: write a new name, then point the row at it.
    new_name = default_storage.save(name, ContentFile(rotated))
    return new_name


class Command(BaseCommand):
    help = "Re-encrypt ID numbers, names, documents and attachments with the current first key."

    def handle(self, *args, **options):
        with job_run("members.rotate_keys") as counts:
            last = 0
            while True:
                rows = list(
                    RealNameVerification.objects.filter(pk__gt=last)
                    .exclude(id_number_encrypted="")
                    .order_by("pk")[:BATCH]
                )
                if not rows:
                    break
                with transaction.atomic():
                    for row in rows:
                        row.name_encrypted = crypto.reencrypt_token(row.name_encrypted)
                        row.id_number_encrypted = crypto.reencrypt_token(row.id_number_encrypted)
                        row.id_number_hash = crypto.pii_hash(crypto.decrypt_str(row.id_number_encrypted))
                    RealNameVerification.objects.bulk_update(
                        rows, ["name_encrypted", "id_number_encrypted", "id_number_hash"]
                    )
                counts["realname"] += len(rows)
                last = rows[-1].pk
            for model, key in ((QualificationDocument, "documents"), (TicketAttachment, "attachments")):
                last = 0
                while True:
                    rows = list(
                        model.objects.filter(pk__gt=last).exclude(storage_name="").order_by("pk")[:BATCH]
                    )
                    if not rows:
                        break
                    for row in rows:
                        old = row.storage_name
                        new = _rotate_blob(old)
                        model.objects.filter(pk=row.pk, storage_name=old).update(storage_name=new)
                        if new != old:
                            default_storage.delete(old)
                        counts[key] += 1
                    last = rows[-1].pk
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted: {dict(counts)}"))
