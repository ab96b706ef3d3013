"""The free-trial centre (试用中心): apply, select (operator or random draw), report."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, Conflict, ErrorCode
from core.services import audit_log_record
from members.services import member_assert_can_transact, member_notify

from ..lock_objects import trial_product_lock
from ..models import TrialApplication, TrialProduct, TrialReport

REPORT_MAX = 5000


def trial_product_create(**fields) -> TrialProduct:
    """Create a trial after model validation (the admin form validates the same way)."""
    product = TrialProduct(**fields)
    product.full_clean()
    product.save()
    return product


def trial_apply(
    *, product: TrialProduct, member, reason: str = "", now: datetime | None = None
) -> TrialApplication:
    now = now or timezone.now()
    member_assert_can_transact(member)
    if not product.is_open(now):
        raise Conflict(_("Applications for this trial are closed."), code="trial_closed")
    if product.tier_codes:
        from ..upstream import member_tier_code

        if member_tier_code(member) not in product.tier_codes:
            raise Conflict(_("This trial is for other member tiers."), code="trial_not_eligible")
    try:
        with transaction.atomic():
            return TrialApplication.objects.create(
                product=product, member=member, reason=reason.strip()[:500], created_at=now
            )
    except IntegrityError:
        raise Conflict(_("You have already applied for this trial."), code="trial_already_applied")


def _notify_result(application: TrialApplication) -> None:
    if application.status == TrialApplication.Status.SELECTED:
        title = _("You were selected for the trial of %(name)s") % {"name": application.product.name}
        body = _("We will send the product soon. Please write a trial report after you try it.")
    else:
        title = _("Trial of %(name)s: not selected this time") % {"name": application.product.name}
        body = _("Thank you for applying. Try another trial in the trial centre.")
    member_notify(
        member=application.member,
        kind="trial.result",
        title=title,
        body=body,
        data={"trial": application.product_id, "status": application.status},
        dedupe_key=f"trial.result:{application.pk}",
    )


def trial_applications_decide(
    *, applications: Sequence[TrialApplication], selected: bool, actor, now: datetime | None = None
) -> int:
    """Operator selection: mark applications selected (never more than the product's
    quantity) or not selected. Only applications still `applied` change."""
    now = now or timezone.now()
    changed = 0
    by_product: dict[int, list[int]] = {}
    for app in applications:
        by_product.setdefault(app.product_id, []).append(app.pk)
    with transaction.atomic():
        for product_pk in sorted(by_product):
            product = trial_product_lock(pk=product_pk)
            pending = list(
                TrialApplication.objects.select_related("member", "product")
                .filter(pk__in=by_product[product_pk], status=TrialApplication.Status.APPLIED)
                .order_by("pk")
            )
            if selected:
                taken = TrialApplication.objects.filter(
                    product=product,
                    status__in=[TrialApplication.Status.SELECTED, TrialApplication.Status.REPORTED],
                ).count()
                if taken + len(pending) > product.quantity:
                    raise Conflict(
                        _("Only %(left)s more can be selected for %(name)s.")
                        % {"left": max(product.quantity - taken, 0), "name": product.name},
                        code=ErrorCode.LIMIT_REACHED,
                    )
            status = TrialApplication.Status.SELECTED if selected else TrialApplication.Status.NOT_SELECTED
            TrialApplication.objects.filter(pk__in=[a.pk for a in pending]).update(
                status=status, decided_at=now
            )
            for app in pending:
                app.status = status
                _notify_result(app)
            audit_log_record(
                action="trial.select" if selected else "trial.reject",
                actor_type="operator",
                actor_user=actor,
                target_type="benefits.trialproduct",
                target_id=str(product.pk),
                after={"applications": [a.pk for a in pending]},
            )
            changed += len(pending)
    return changed


def trial_draw(*, product: TrialProduct, now: datetime | None = None) -> Counter:
    """Random draw after the window closes: selects up to the quantity still free from the
    applicants with secrets.SystemRandom; everyone else is not selected. Idempotent: a drawn
    product is left alone."""
    now = now or timezone.now()
    counts: Counter = Counter()
    with transaction.atomic():
        locked = trial_product_lock(pk=product.pk)
        if locked.drawn_at is not None:
            counts["already_drawn"] += 1
            return counts
        if now < locked.apply_until:
            raise Conflict(_("Applications are still open."), code="trial_open")
        taken = TrialApplication.objects.filter(
            product=locked, status__in=[TrialApplication.Status.SELECTED, TrialApplication.Status.REPORTED]
        ).count()
        applicants = list(
            TrialApplication.objects.filter(product=locked, status=TrialApplication.Status.APPLIED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        free = max(locked.quantity - taken, 0)
        winners = set(secrets.SystemRandom().sample(applicants, min(free, len(applicants))))
        losers = [pk for pk in applicants if pk not in winners]
        TrialApplication.objects.filter(pk__in=winners).update(
            status=TrialApplication.Status.SELECTED, decided_at=now
        )
        TrialApplication.objects.filter(pk__in=losers).update(
            status=TrialApplication.Status.NOT_SELECTED, decided_at=now
        )
        TrialProduct.objects.filter(pk=locked.pk).update(drawn_at=now)
        for app in TrialApplication.objects.select_related("member", "product").filter(pk__in=applicants):
            _notify_result(app)
        counts["selected"] += len(winners)
        counts["not_selected"] += len(losers)
    return counts


def trials_draw_due(*, now: datetime | None = None) -> Counter:
    now = now or timezone.now()
    counts: Counter = Counter()
    due = TrialProduct.objects.filter(is_active=True, drawn_at__isnull=True, apply_until__lte=now).order_by(
        "pk"
    )
    for product in due:
        counts.update(trial_draw(product=product, now=now))
        counts["products"] += 1
    return counts


def trial_report_submit(
    *, application: TrialApplication, member, text: str, rating: int, now: datetime | None = None
) -> TrialReport:
    """A selected member's report; earns the product's report points once."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    text = (text or "").strip()
    if len(text) < 10:
        errors["text"] = [_("Write at least 10 characters.")]
    elif len(text) > REPORT_MAX:
        errors["text"] = [_("At most %(n)s characters.") % {"n": REPORT_MAX}]
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = [_("A rating from 1 to 5.")]
    if errors:
        raise ApplicationError(_("The report has invalid fields."), errors=errors)
    if application.member_id != member.pk:
        raise ApplicationError(_("Not your application."), code="not_found", status=404)
    with transaction.atomic():
        locked = (
            TrialApplication.objects.select_for_update(of=("self",))
            .select_related("product")
            .get(pk=application.pk)
        )
        if locked.status == TrialApplication.Status.REPORTED:
            raise Conflict(_("You have already reported on this trial."), code="trial_already_reported")
        if locked.status != TrialApplication.Status.SELECTED:
            raise Conflict(_("Only selected members can report."), code="trial_not_selected")
        report = TrialReport.objects.create(application=locked, text=text, rating=rating, created_at=now)
        TrialApplication.objects.filter(pk=locked.pk).update(status=TrialApplication.Status.REPORTED)
        points = locked.product.report_points
        if points:
            from points.services import points_award

            points_award(
                member=member,
                points=points,
                source_type="trial_report",
                source_id=str(report.pk),
                reason=f"Trial report: {locked.product.name}"[:255],
            )
            TrialReport.objects.filter(pk=report.pk).update(points_awarded=points)
            report.points_awarded = points
    return report
