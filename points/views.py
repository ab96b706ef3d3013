"""Member-centre pages for points: balance and history, the points mall. Thin: services write."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError

from . import selectors, services
from .forms import HistoryFilterForm, RedeemForm
from .models import PointsEntry

EXPIRING_SOON_DAYS = 30


def home_panel_context(request: HttpRequest, member) -> dict:
    balance = selectors.points_balance(member=member)
    soon = selectors.points_expiring(member=member, within_days=EXPIRING_SOON_DAYS, limit=1)
    return {"balance": balance, "expiring": soon[0] if soon else None}


def export_section(member) -> dict:
    """Privacy export: balances, the whole ledger, orders and redemptions of the member."""
    entries = [
        {
            "kind": e.kind,
            "amount": e.amount,
            "balance_after": e.balance_after,
            "source": f"{e.source_type}:{e.source_id}",
            "reason": e.reason,
            "created_at": e.created_at.isoformat(),
        }
        for e in selectors.points_entries(member=member).iterator(chunk_size=2000)
    ]
    orders = [
        {
            "order_id": o.order_id,
            "amount": str(o.amount),
            "currency": o.currency,
            "status": o.status,
            "paid_at": o.paid_at.isoformat(),
            "items": [
                {
                    "sku": i.sku,
                    "category": i.category,
                    "quantity": i.quantity,
                    "unit_price": str(i.unit_price),
                }
                for i in o.items.all()
            ],
        }
        for o in selectors.orders_of(member=member)
    ]
    redemptions = [
        {
            "reward": r.reward.name,
            "quantity": r.quantity,
            "points": r.points,
            "created_at": r.created_at.isoformat(),
        }
        for r in selectors.reward_redemptions_of(member=member)
    ]
    return {
        "balance": selectors.points_balance(member=member),
        "entries": entries,
        "orders": orders,
        "redemptions": redemptions,
    }


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    member = request.user
    form = HistoryFilterForm(request.GET or None)
    kind = date_from = date_to = None
    if form.is_valid():
        kind = form.cleaned_data.get("kind") or None
        tz = timezone.get_current_timezone()
        if form.cleaned_data.get("date_from"):
            date_from = timezone.make_aware(datetime.combine(form.cleaned_data["date_from"], time.min), tz)
        if form.cleaned_data.get("date_to"):
            date_to = timezone.make_aware(
                datetime.combine(form.cleaned_data["date_to"], time.min), tz
            ) + timedelta(days=1)
    entries = selectors.points_entries(member=member, kind=kind, date_from=date_from, date_to=date_to)
    page = Paginator(entries, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "points/mine.html",
        {
            "balance": selectors.points_balance(member=member),
            "expiring": selectors.points_expiring(member=member, within_days=EXPIRING_SOON_DAYS),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "kinds": PointsEntry.Kind.choices,
        },
    )


@login_required
def mall(request: HttpRequest) -> HttpResponse:
    member = request.user
    return render(
        request,
        "points/mall.html",
        {
            "balance": selectors.points_balance(member=member),
            "rewards": list(selectors.rewards_available()),
            "redemptions": list(selectors.reward_redemptions_of(member=member)[:10]),
            "form": RedeemForm(),
        },
    )


@login_required
@require_POST
def redeem(request: HttpRequest) -> HttpResponse:
    form = RedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please choose a reward and a quantity."))
        return redirect("points:mall")
    try:
        redemption = services.reward_redeem(
            member=request.user,
            reward=form.cleaned_data["reward"],
            quantity=form.cleaned_data["quantity"],
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("points:mall")
    messages.success(
        request,
        _("Redeemed %(reward)s for %(points)s points.")
        % {"reward": redemption.reward.name, "points": redemption.points},
    )
    return redirect("points:mall")


def _error_text(exc: ApplicationError) -> str:
    return {
        "insufficient_points": _("You do not have enough points."),
        "out_of_stock": _("This reward is out of stock."),
        "limit_reached": _("You have reached the limit for this reward."),
        "reward_unavailable": _("This reward is not available now."),
        "reward_not_found": _("This reward is not available now."),
        "member_frozen": _("Your account is frozen; points cannot be used."),
        "member_closed": _("Your account is closed."),
    }.get(exc.code, _("The redemption could not be completed."))
