from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a partner (created if missing). The key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True)
        parser.add_argument("--scopes", required=True, help="Comma-separated, e.g. members:read,orders:write")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--require-signature",
            action="store_true",
            help="Require X-Signature on every request; the signing secret is printed before the key.",
        )

    def handle(self, *args, **options):
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            api_key, raw = api_key_create(
                partner_name=options["partner"],
                scopes=scopes,
                name=options["name"],
                require_signature=options["require_signature"],
                actor="manage.py create_api_key",
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Created key {api_key.prefix} for partner {api_key.partner.name} with scopes {', '.join(scopes)}."
        )
        if api_key.signing_secret:
            self.stdout.write(f"Signing secret (X-Signature): {api_key.signing_secret}")
        self.stdout.write("Store it now: it is not shown again.")
        self.stdout.write(raw)
