"""The shared kernel's tables: partners and API keys, idempotency, audit log, outbox, job runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .crypto import EncryptedTextField


class Partner(models.Model):
    """A partner system (the shop, a POS, the app) that calls the API."""

    name = models.CharField(max_length=100, unique=True, verbose_name=pgettext_lazy("partner", "Name"))
    rate_limit_per_minute = models.PositiveIntegerField(
        default=600,
        help_text=_("Requests per minute per key of this partner."),
        verbose_name=_("Rate limit per minute"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("Is active"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A partner's key. Only a hash is stored; the key is shown once at creation."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("Partner")
    )
    name = models.CharField(max_length=100, blank=True, verbose_name=pgettext_lazy("api key", "Name"))
    prefix = models.CharField(
        max_length=16,
        unique=True,
        help_text=_("Public part, used to find the key."),
        verbose_name=_("Prefix"),
    )
    key_hash = models.CharField(max_length=128, verbose_name=_("Key hash"))
    scopes = models.JSONField(default=list, blank=True, verbose_name=_("Scopes"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set when rotated: grace period end."),
        verbose_name=_("Expires at"),
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Revoked at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Last used at"))
    rotated_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The key this one replaced."),
        verbose_name=_("Rotated from"),
    )
    require_signature = models.BooleanField(
        default=False,
        help_text=_("Reject requests without a valid X-Signature header."),
        verbose_name=_("Require signature"),
    )
    signing_secret = EncryptedTextField(
        blank=True,
        default="",
        help_text=_("HMAC secret for X-Signature (encrypted at rest)."),
        verbose_name=_("Signing secret"),
    )

    class Meta:
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        verbose_name = _("API key")
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
        IN_PROGRESS = "in_progress", pgettext_lazy("idempotency state", "In progress")
        DONE = "done", pgettext_lazy("idempotency state", "Done")

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", verbose_name=_("Partner")
    )
    key = models.CharField(max_length=255, verbose_name=_("Key"))
    method = models.CharField(max_length=10, verbose_name=_("Method"))
    path = models.CharField(max_length=500, verbose_name=_("Path"))
    request_hash = models.CharField(max_length=64, verbose_name=_("Request hash"))
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.IN_PROGRESS, verbose_name=_("State")
    )
    lock_token = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("Owner of an in-progress record; a stale one may be taken over."),
        verbose_name=_("Lock token"),
    )
    locked_at = models.DateTimeField(default=timezone.now, verbose_name=_("Locked at"))
    response_status = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("Response status")
    )
    response_body = models.JSONField(null=True, blank=True, verbose_name=_("Response body"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="uniq_idempotency_key_per_partner"),
            models.CheckConstraint(
                condition=Q(state="in_progress") | Q(response_status__isnull=False),
                name="idempotency_done_has_status",
            ),
        ]


class RateLimitCounter(models.Model):
    """Per-key request counter of the current window, for the "database" rate-limit store."""

    bucket = models.CharField(max_length=100, primary_key=True, verbose_name=_("Bucket"))
    window_start = models.BigIntegerField(verbose_name=_("Window start"))
    n = models.BigIntegerField(default=0, verbose_name=_("Requests"))

    class Meta:
        verbose_name = _("rate limit counter")
        verbose_name_plural = _("rate limit counters")

    def __str__(self) -> str:
        return f"{self.bucket} {self.window_start}: {self.n}"


class AuditLog(models.Model):
    """Who did what, when, from where; before/after for sensitive changes. Append-only."""

    class ActorType(models.TextChoices):
        OPERATOR = "operator", pgettext_lazy("actor type", "Operator")
        PARTNER = "partner", pgettext_lazy("actor type", "Partner")
        MEMBER = "member", pgettext_lazy("actor type", "Member")
        SYSTEM = "system", pgettext_lazy("actor type", "System")

    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))
    actor_type = models.CharField(max_length=10, choices=ActorType.choices, verbose_name=_("Actor type"))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Actor user"),
    )
    actor_label = models.CharField(max_length=200, blank=True, verbose_name=_("Actor label"))
    action = models.CharField(
        max_length=100, db_index=True, verbose_name=pgettext_lazy("audit log", "Action")
    )
    target_type = models.CharField(max_length=100, blank=True, verbose_name=_("Target type"))
    target_id = models.CharField(max_length=100, blank=True, db_index=True, verbose_name=_("Target ID"))
    before = models.JSONField(null=True, blank=True, verbose_name=_("Before"))
    after = models.JSONField(null=True, blank=True, verbose_name=_("After"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    request_id = models.CharField(max_length=64, blank=True, verbose_name=_("Request ID"))
    note = models.TextField(blank=True, verbose_name=_("Note"))

    class Meta:
        verbose_name = _("audit log")
        verbose_name_plural = _("audit logs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"


class OutboxEvent(models.Model):
    """A webhook event written in the same transaction as the change that caused it."""

    public_id = models.CharField(max_length=40, unique=True, verbose_name=_("Public ID"))
    type = models.CharField(max_length=60, db_index=True, verbose_name=_("Type"))
    partner = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Only this partner's endpoints receive it; empty means every subscribed partner."),
        verbose_name=_("Partner"),
    )
    data = models.JSONField(verbose_name=_("Data"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))
    dispatched_at = models.DateTimeField(
        null=True, blank=True, db_index=True, verbose_name=_("Dispatched at")
    )

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class JobRun(models.Model):
    """One run of a background job and what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("job status", "Running")
        SUCCEEDED = "succeeded", pgettext_lazy("job status", "Succeeded")
        FAILED = "failed", pgettext_lazy("job status", "Failed")

    name = models.CharField(max_length=100, db_index=True, verbose_name=pgettext_lazy("job run", "Name"))
    started_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Finished at"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING, verbose_name=_("Status")
    )
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("Counts"))
    error = models.TextField(blank=True, verbose_name=_("Error"))

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class WebhookEndpoint(models.Model):
    """A partner's URL that receives the webhook event types it subscribed to."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("Partner")
    )
    url = models.URLField(max_length=500, verbose_name=_("URL"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("Description"))
    event_types = models.JSONField(
        default=list, help_text=_("Subscribed event types."), verbose_name=_("Event types")
    )
    secret = EncryptedTextField(
        help_text=_("Signing secret for X-Signature (encrypted at rest)."), verbose_name=_("Secret")
    )
    previous_secret = EncryptedTextField(
        blank=True,
        default="",
        help_text=_("The secret before the last rotation, also signed with until…"),
        verbose_name=_("Previous secret"),
    )
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("Previous secret expires at")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("Is active"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("Updated at"))

    class Meta:
        verbose_name_plural = _("webhook endpoints")
        ordering = ["partner__name", "url"]
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return f"{self.partner.name} → {self.url}"


class WebhookDelivery(models.Model):
    """One outbox event to one endpoint: retried with backoff until it succeeds or dies."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery status", "Pending")  # not tried yet
        # last try failed; retried at next_attempt_at
        FAILED = "failed", pgettext_lazy("delivery status", "Failed")
        SUCCEEDED = "succeeded", pgettext_lazy("delivery status", "Succeeded")
        DEAD = "dead", pgettext_lazy("delivery status", "Dead")  # gave up after the retry period

    event = models.ForeignKey(
        OutboxEvent,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=pgettext_lazy("webhook delivery", "Event"),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("Endpoint")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("Status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("Attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Next attempt at"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Last attempt at"))
    retry_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("A failed try after this time marks the delivery dead."),
        verbose_name=_("Retry until"),
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Finished at"))

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("webhook deliveries")
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

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("Delivery")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("At"))
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("Status code"))
    latency_ms = models.PositiveIntegerField(default=0, verbose_name=_("Latency (ms)"))
    response_excerpt = models.TextField(blank=True, verbose_name=_("Response excerpt"))
    error = models.TextField(blank=True, verbose_name=_("Error"))
    succeeded = models.BooleanField(default=False, verbose_name=_("Succeeded"))

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
