"""The shared kernel's tables: partners and API keys, idempotency, audit log, outbox, job runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .crypto import EncryptedTextField


class Partner(models.Model):
    """A partner system (the shop, a POS, the app) that calls the API."""

    name = models.CharField(max_length=100, unique=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        default=600, help_text="Requests per minute per key of this partner."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A partner's key. Only a hash is stored; the key is shown once at creation."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, used to find the key.")
    key_hash = models.CharField(max_length=128)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Set when rotated: grace period end.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The key this one replaced.",
    )
    require_signature = models.BooleanField(
        default=False, help_text="Reject requests without a valid X-Signature header."
    )
    signing_secret = EncryptedTextField(
        blank=True, default="", help_text="HMAC secret for X-Signature (encrypted at rest)."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=~Q(require_signature=True, signing_secret=""),
                name="apikey_signature_requires_secret",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner.name} · {self.prefix}…"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return not (self.expires_at is not None and self.expires_at <= now)


class IdempotencyRecord(models.Model):
    """Remembers the response of a POST made with an Idempotency-Key, per partner."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    lock_token = models.CharField(
        max_length=32, blank=True, help_text="Owner of an in-progress record; a stale one may be taken over."
    )
    locked_at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="uniq_idempotency_key_per_partner"),
            models.CheckConstraint(
                condition=Q(state="in_progress") | Q(response_status__isnull=False),
                name="idempotency_done_has_status",
            ),
        ]


class RateLimitCounter(models.Model):
    """Per-key request counter of the current window, for the "database" rate-limit store."""

    bucket = models.CharField(max_length=100, primary_key=True)
    window_start = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.bucket} {self.window_start}: {self.n}"


class AuditLog(models.Model):
    """Who did what, when, from where; before/after for sensitive changes. Append-only."""

    class ActorType(models.TextChoices):
        OPERATOR = "operator"
        PARTNER = "partner"
        MEMBER = "member"
        SYSTEM = "system"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"


class OutboxEvent(models.Model):
    """A webhook event written in the same transaction as the change that caused it."""

    public_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=60, db_index=True)
    partner = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this partner's endpoints receive it; empty means every subscribed partner.",
    )
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class JobRun(models.Model):
    """One run of a background job and what it did."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    name = models.CharField(max_length=100, db_index=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class WebhookEndpoint(models.Model):
    """A partner's URL that receives the webhook event types it subscribed to."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="Subscribed event types.")
    secret = EncryptedTextField(help_text="Signing secret for X-Signature (encrypted at rest).")
    previous_secret = EncryptedTextField(
        blank=True, default="", help_text="The secret before the last rotation, also signed with until…"
    )
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner__name", "url"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"{self.partner.name} → {self.url}"


class WebhookDelivery(models.Model):
    """One outbox event to one endpoint: retried with backoff until it succeeds or dies."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not tried yet
        FAILED = "failed"  # last try failed; retried at next_attempt_at
        SUCCEEDED = "succeeded"
        DEAD = "dead"  # gave up after the retry period

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField(
        null=True, blank=True, help_text="A failed try after this time marks the delivery dead."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="uniq_delivery_per_event_endpoint"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "failed", "succeeded", "dead"]),
                name="webhookdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "dead"]) | Q(next_attempt_at__isnull=False),
                name="webhookdelivery_open_has_next_attempt",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
