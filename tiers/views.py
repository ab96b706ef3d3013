"""Member-centre pages of the tier engine. Thin: selectors read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .presentation import benefit_label, comparison_rows
from .selectors import growth_entries_of, member_tier_summary, subscriptions_of, tier_changes_of


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    member = request.user
    summary = member_tier_summary(member=member)
    return render(
        request,
        "tiers/mine.html",
        {
            "summary": summary,
            "comparison": comparison_rows(summary.tiers),
            "benefits": [benefit_label(c) for c in summary.benefit_codes],
            "changes": list(tier_changes_of(member=member)[:20]),
            "entries": list(growth_entries_of(member=member)[:10]),
            "subscriptions": list(subscriptions_of(member=member)[:10]),
        },
    )


@login_required
def growth(request: HttpRequest) -> HttpResponse:
    page = Paginator(growth_entries_of(member=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "tiers/growth.html", {"page": page})


def home_panel_context(request: HttpRequest, member) -> dict:
    return {"summary": member_tier_summary(member=member)}
