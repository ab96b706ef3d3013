"""Tests: SQLite in memory unless DATABASE_URL is set, fast hasher, in-memory mail."""

import tempfile

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="memberhub-media-")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "memberhub-test"}
}
FIELD_ENCRYPTION_KEYS = ["tRtgfqjZt9gqPR5c0YI0yrD0h9Aj3vqIcq6XlHYbnkE="]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env("DATABASE_URL", default=""):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {"NAME": ":memory:"},
    }
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_BROKER_DIR = BASE_DIR / "var" / "test-broker"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
SMS_BACKEND = "members.sms.LocMemBackend"
