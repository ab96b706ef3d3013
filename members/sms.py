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


class LocMemBackend:
    def send(self, phone: str, text: str) -> None:
        outbox.append((phone, text))


def get_backend():
    path = getattr(settings, "SMS_BACKEND", "members.sms.ConsoleBackend")
    return import_string(path)()


def send_sms(phone: str, text: str) -> None:
    get_backend().send(phone, text)
