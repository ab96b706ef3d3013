"""SMS through a pluggable backend chosen by settings.SMS_BACKEND (default: log to console)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("memberhub.sms")
outbox: list[tuple[str, str]] = []  # the test backend's sent messages


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        logger.warning("SMS to %s: %s", phone, text)


class FileBackend:
    """Appends each message as a line to var/sms/<date>.log (or settings.SMS_FILE_PATH)."""

    def send(self, phone: str, text: str) -> None:
        import json
        from pathlib import Path

        from django.utils import timezone

        folder = Path(getattr(settings, "SMS_FILE_PATH", None) or settings.VAR_DIR / "sms")
        folder.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        line = json.dumps({"at": now.isoformat(), "to": phone, "text": text}, ensure_ascii=False)
        with open(folder / f"{now:%Y-%m-%d}.log", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class NullBackend:
    """Sends nothing (demo data loading, benchmarks)."""

    def send(self, phone: str, text: str) -> None:
        return None


class LocMemBackend:
    def send(self, phone: str, text: str) -> None:
        outbox.append((phone, text))


def get_backend():
    path = getattr(settings, "SMS_BACKEND", "members.sms.ConsoleBackend")
    return import_string(path)()


def send_sms(phone: str, text: str) -> None:
    get_backend().send(phone, text)
