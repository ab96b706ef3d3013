"""Create the first operator account if there is none, and print how to log in."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an operator (superuser) for the admin if none exists; print its login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@memberhub.local")
        parser.add_argument(
            "--password", default="", help="Default: generated and kept in var/operator-password.txt"
        )

    def handle(self, *args, **options):
        User = get_user_model()
        email = options["email"]
        password_file = settings.VAR_DIR / "operator-password.txt"
        user = User.objects.filter(email=email).first()
        if user is None:
            password = options["password"] or secrets.token_urlsafe(12)
            User.objects.create_superuser(email=email, password=password, nickname="Operator")
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        elif options["password"]:
            user.set_password(options["password"])
            user.save(update_fields=["password"])
            password_file.write_text(options["password"] + "\n")
        password = password_file.read_text().strip() if password_file.exists() else "(as set before)"
        self.stdout.write(f"Operator login: {email} / {password}")
