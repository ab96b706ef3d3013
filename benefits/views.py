"""Member-centre pages: my benefits vs other tiers, the coupon wallet, the trial centre.
Thin: selectors read, forms validate, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ApplicationError, NotFound

from . import selectors, services, upstream
from .forms import TrialApplyForm, TrialReportForm
from .models import TrialProduct
from .presentation import describe_template

WALLET_TABS = {"available": "available", "used": "redeemed", "expired": "expired"}
PAGE_SIZE = 20


def home_panel_context(request: HttpRequest, member) -> dict:
    counts = selectors.member_coupon_counts(member=member)
    coupons = list(selectors.member_coupons(member=member, status="available")[:3])
    return {
        "counts": counts,
        "coupons": [{"coupon": c, "summary": describe_template(c.template)} for c in coupons],
    }


@login_required
def benefits_home(request: HttpRequest) -> HttpResponse:
    entitlements = selectors.member_entitlements(member=request.user)
    comparison = selectors.tier_comparison()
    return render(
        request,
        "benefits/home.html",
        {"entitlements": entitlements, "comparison": comparison, "current_tier": entitlements["tier"]},
    )


@login_required
def coupon_wallet(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "available")
    if tab not in WALLET_TABS:
        tab = "available"
    qs = selectors.member_coupons(member=request.user, status=WALLET_TABS[tab])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"coupon": c, "summary": describe_template(c.template)} for c in page.object_list]
    return render(
        request,
        "benefits/coupons.html",
        {"tab": tab, "tabs": list(WALLET_TABS), "page": page, "rows": rows},
    )


@login_required
def coupon_detail(request: HttpRequest, code: str) -> HttpResponse:
    coupon = selectors.member_coupons(member=request.user).filter(code=code.upper()).first()
    if coupon is None:  # another member's coupon is simply not found
        raise Http404
    events = coupon.events.order_by("created_at", "pk")
    tier_names = []
    if coupon.template.tier_codes:
        names = {t.code: t.display_name for t in upstream.tier_catalogue()}
        tier_names = [names.get(code, code) for code in coupon.template.tier_codes]
    return render(
        request,
        "benefits/coupon_detail.html",
        {
            "coupon": coupon,
            "summary": describe_template(coupon.template),
            "events": events,
            "tier_names": tier_names,
        },
    )


@login_required
def trial_centre(request: HttpRequest) -> HttpResponse:
    applications = list(selectors.trial_applications_of(member=request.user))
    applied = {a.product_id for a in applications}
    products = list(selectors.trials_open())
    tier_code = upstream.member_tier_code(request.user) if any(p.tier_codes for p in products) else None
    trials = [
        {"product": p, "applied": p.pk in applied, "eligible": not p.tier_codes or tier_code in p.tier_codes}
        for p in products
    ]
    return render(
        request,
        "benefits/trials.html",
        {"trials": trials, "applications": applications, "form": TrialApplyForm()},
    )


@login_required
@require_POST
def trial_apply_view(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(TrialProduct, pk=pk, is_active=True)
    form = TrialApplyForm(request.POST)
    if form.is_valid():
        try:
            services.trial_apply(product=product, member=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you! We will tell you when the draw is done."))
    else:
        messages.error(request, _("Please check your answer."))
    return redirect("benefits:trials")


@login_required
def trial_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = selectors.trial_application_of_member(member=request.user, pk=pk)
    except NotFound:
        raise Http404
    form = TrialReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.trial_report_submit(
                application=application,
                member=request.user,
                text=form.cleaned_data["text"],
                rating=form.cleaned_data["rating"],
            )
        except ApplicationError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            if report.points_awarded:
                messages.success(
                    request,
                    _("Thank you for your report! %(points)s points were added.")
                    % {"points": report.points_awarded},
                )
            else:
                messages.success(request, _("Thank you for your report!"))
            return redirect("benefits:trials")
    return render(request, "benefits/trial_report.html", {"application": application, "form": form})
