from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from benefits.models import Coupon, CouponEvent, CouponTemplate
from benefits.services import (
    coupon_issue,
    coupon_issue_many,
    coupon_redeem,
    coupon_release,
    coupon_revoke,
    coupons_expire_due,
    coupons_remind_expiring,
)
from core.errors import ApplicationError
from core.models import OutboxEvent
from members.models import Notification

from .factories import issue, make_member, make_template

pytestmark = pytest.mark.django_db


def test_issue_gives_a_long_unguessable_code_relative_validity_and_a_webhook():
    template = make_template(valid_days=7)
    member = make_member()
    before = timezone.now()
    coupon, created = coupon_issue(template=template, member=member, source="api")
    assert created
    assert len(coupon.code) >= 10 and coupon.code.isalnum() and coupon.code.upper() == coupon.code
    assert coupon.status == "available"
    assert (
        timedelta(days=7) - timedelta(seconds=5) < coupon.valid_until - before <= timedelta(days=7, seconds=5)
    )
    template.refresh_from_db()
    assert template.issued_count == 1
    event = OutboxEvent.objects.get(type="coupon.issued")
    assert event.data["code"] == coupon.code and event.data["member_id"] == member.member_id
    assert CouponEvent.objects.filter(coupon=coupon, kind="issued").count() == 1


def test_absolute_validity_uses_the_template_dates():
    start = timezone.now() - timedelta(days=1)
    end = timezone.now() + timedelta(days=5)
    template = make_template(validity="absolute", valid_from=start, valid_until=end)
    coupon = issue(template, make_member())
    assert coupon.valid_from == start and coupon.valid_until == end


def test_issue_is_idempotent_by_source_key():
    template = make_template(total_quantity=5)
    member = make_member()
    first, created1 = coupon_issue(template=template, member=member, source="campaign", source_key="welcome")
    again, created2 = coupon_issue(template=template, member=member, source="campaign", source_key="welcome")
    assert created1 and not created2 and first.pk == again.pk
    template.refresh_from_db()
    assert template.issued_count == 1


def test_stock_and_per_member_limit_are_enforced():
    template = make_template(total_quantity=2, per_member_limit=1)
    a, b, c = make_member(), make_member(), make_member()
    issue(template, a)
    with pytest.raises(ApplicationError) as exc:
        issue(template, a)
    assert exc.value.code == "limit_reached" and exc.value.status == 409
    issue(template, b)
    with pytest.raises(ApplicationError) as exc:
        issue(template, c)
    assert exc.value.code == "out_of_stock"
    template.refresh_from_db()
    assert template.issued_count == 2 and template.remaining == 0


def test_frozen_member_cannot_receive_or_redeem():
    template = make_template(threshold=Decimal("0"))
    member = make_member()
    coupon = issue(template, member)
    member.status = "frozen"
    member.save()
    with pytest.raises(ApplicationError) as exc:
        issue(template, member)
    assert exc.value.code == "member_frozen"
    with pytest.raises(ApplicationError) as exc:
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"))
    assert exc.value.code == "member_frozen"


def test_inactive_template_cannot_be_issued():
    template = make_template(is_active=False)
    with pytest.raises(ApplicationError) as exc:
        issue(template, make_member())
    assert exc.value.code == "template_inactive"


def test_issue_many_reports_each_outcome_without_raising():
    template = make_template(total_quantity=2, per_member_limit=1)
    a, b, c = make_member(), make_member(), make_member()
    frozen = make_member(status="frozen")
    outcomes = coupon_issue_many(
        template=template,
        requests=[(a, "k"), (a, "k"), (frozen, "k"), (b, "k"), (c, "k")],
        source="operator",
    )
    assert [o.result for o in outcomes] == ["issued", "existing", "member_inactive", "issued", "out_of_stock"]


@pytest.mark.parametrize(
    ("amount", "ok"),
    [(Decimal("100.00"), True), (Decimal("99.99"), False)],
)
def test_redeem_threshold_edge(amount, ok):
    template = make_template(threshold=Decimal("100.00"), amount=Decimal("10.00"))
    coupon = issue(template, make_member())
    if ok:
        result = coupon_redeem(code=coupon.code, order_id="o1", amount=amount)
        assert result.discount == Decimal("10.00") and result.coupon.status == "redeemed"
    else:
        with pytest.raises(ApplicationError) as exc:
            coupon_redeem(code=coupon.code, order_id="o1", amount=amount)
        assert exc.value.code == "coupon_not_applicable"
        coupon.refresh_from_db()
        assert coupon.status == "available"


def test_redeem_percent_off_applies_the_cap():
    template = make_template(
        kind="percent_off", threshold=Decimal("0"), rate=Decimal("0.800"), cap=Decimal("30.00")
    )
    coupon = issue(template, make_member())
    assert coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("100.00")).discount == Decimal(
        "20.00"
    )
    coupon2 = issue(template, make_member())
    assert coupon_redeem(code=coupon2.code, order_id="o2", amount=Decimal("200.00")).discount == Decimal(
        "30.00"
    )


def test_redeem_is_idempotent_per_order_and_409_on_another_order():
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    first = coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"))
    again = coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"))
    assert not first.replayed and again.replayed and again.discount == first.discount
    with pytest.raises(ApplicationError) as exc:
        coupon_redeem(code=coupon.code, order_id="o2", amount=Decimal("50.00"))
    assert exc.value.code == "coupon_already_redeemed" and exc.value.status == 409
    assert CouponEvent.objects.filter(coupon=coupon, kind="redeemed").count() == 1


def test_redeem_checks_scope_with_items_and_channel():
    template = make_template(threshold=Decimal("100.00"), categories=["shoes"], channels=["app"])
    coupon = issue(template, make_member())
    from benefits.pricing import CartLine

    items = [CartLine("S1", "shoes", 1, Decimal("60.00")), CartLine("B1", "books", 1, Decimal("80.00"))]
    with pytest.raises(ApplicationError) as exc:  # only 60.00 of shoes: below the threshold
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("140.00"), items=items, channel="app")
    assert exc.value.extra["reason"] == "below_threshold"
    with pytest.raises(ApplicationError) as exc:
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("140.00"), channel="web")
    assert exc.value.extra["reason"] == "out_of_scope_channel"


def test_redeem_refuses_another_members_coupon():
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    with pytest.raises(ApplicationError) as exc:
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("10.00"), member=make_member())
    assert exc.value.code == "coupon_not_applicable"


def test_release_makes_it_available_again_and_is_idempotent():
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"))
    released, replayed = coupon_release(code=coupon.code, order_id="o1")
    assert released.status == "available" and not replayed and released.order_id == ""
    again, replayed = coupon_release(code=coupon.code, order_id="o1")
    assert replayed and again.status == "available"
    with pytest.raises(ApplicationError) as exc:
        coupon_release(code=coupon.code, order_id="other")
    assert exc.value.code == "coupon_not_redeemed"
    # usable again on a new order
    assert coupon_redeem(code=coupon.code, order_id="o2", amount=Decimal("50.00")).coupon.order_id == "o2"


def test_release_after_the_end_expires_it():
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"))
    later = coupon.valid_until + timedelta(seconds=1)
    released, _ = coupon_release(code=coupon.code, order_id="o1", now=later)
    assert released.status == "expired"


def test_expired_coupon_cannot_be_redeemed_and_the_job_marks_it():
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    later = coupon.valid_until + timedelta(seconds=1)
    with pytest.raises(ApplicationError) as exc:
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"), now=later)
    assert exc.value.code == "coupon_expired"
    assert coupons_expire_due(now=coupon.valid_until - timedelta(seconds=1)) == 0
    assert coupons_expire_due(now=later, chunk_size=1) == 1
    assert coupons_expire_due(now=later) == 0  # re-run is a no-op
    coupon.refresh_from_db()
    assert coupon.status == "expired"
    assert CouponEvent.objects.filter(coupon=coupon, kind="expired").count() == 1


def test_expiry_reminder_once_per_coupon():
    member = make_member()
    coupon = issue(make_template(valid_days=2), member)
    issue(make_template(valid_days=30), member)
    assert coupons_remind_expiring(days=3) == 1
    assert coupons_remind_expiring(days=3) == 0
    note = Notification.objects.get(member=member, kind="coupon.expiring")
    assert coupon.code in note.body


def test_revoke_needs_a_reason_and_only_available():
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_user(email="op@example.com", is_staff=True)
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    with pytest.raises(ApplicationError):
        coupon_revoke(coupon=coupon, actor=operator, reason=" ")
    revoked = coupon_revoke(coupon=coupon, actor=operator, reason="issued by mistake")
    assert revoked.status == "revoked"
    with pytest.raises(ApplicationError):
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("50.00"))


def test_template_validation_is_field_level():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        make_template(kind="percent_off", rate=Decimal("1.200"))
    assert "rate" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_template(validity="relative", valid_days=None)
    assert "valid_days" in exc.value.message_dict
    assert CouponTemplate.objects.count() == 0


def test_revoked_coupons_do_not_count_toward_the_member_limit():
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_user(email="op2@example.com", is_staff=True)
    template = make_template(per_member_limit=1)
    member = make_member()
    coupon = issue(template, member)
    coupon_revoke(coupon=coupon, actor=operator, reason="mistake")
    assert issue(template, member).status == Coupon.Status.AVAILABLE


def test_closing_an_account_revokes_its_available_coupons():
    from core import events

    member = make_member()
    template = make_template(threshold=Decimal("0"), per_member_limit=None)
    used = issue(template, member)
    coupon_redeem(code=used.code, order_id="o1", amount=Decimal("10.00"))
    kept = issue(template, member)
    events.publish(events.MEMBER_CLOSED, member=member)
    kept.refresh_from_db()
    used.refresh_from_db()
    assert kept.status == "revoked" and used.status == "redeemed"


def test_template_descriptions_in_both_languages():
    from django.utils import translation

    from benefits.presentation import describe_template

    pct = make_template(
        kind="percent_off", rate=Decimal("0.850"), cap=Decimal("30.00"), threshold=Decimal("0")
    )
    nine = make_template(kind="percent_off", rate=Decimal("0.900"), threshold=Decimal("0"))
    amount = make_template(threshold=Decimal("199.00"), amount=Decimal("20.00"))
    with translation.override("en"):
        assert describe_template(pct) == "15% off, up to 30.00"
        assert describe_template(amount) == "20.00 off orders of 199.00 or more"
    with translation.override("zh-hans"):
        assert describe_template(pct).startswith("85折")
        assert describe_template(nine) == "9折"
        assert describe_template(amount) == "满 199.00 减 20.00"


def test_template_stats_for_dashboards():
    from benefits.selectors import coupon_template_stats

    template = make_template(threshold=Decimal("0"), per_member_limit=None)
    member = make_member()
    used = issue(template, member)
    issue(template, member)
    coupon_redeem(code=used.code, order_id="o1", amount=Decimal("50.00"))
    (row,) = coupon_template_stats()
    assert row["issued"] == 2 and row["redeemed"] == 1 and row["discount"] == Decimal("10.00")
    assert row["redemption_rate"] == Decimal("0.5000")


def test_monthly_entitlement_needs_a_template_without_member_limit():
    from django.core.exceptions import ValidationError

    from benefits.models import TierCouponEntitlement

    entitlement = TierCouponEntitlement(
        tier_code="gold", template=make_template(per_member_limit=1), quantity=1
    )
    with pytest.raises(ValidationError) as exc:
        entitlement.full_clean()
    assert "template" in exc.value.message_dict


def test_redeem_of_a_channel_or_store_coupon_needs_the_channel_or_store():
    coupon = issue(make_template(threshold=Decimal("0"), channels=["app"], stores=["sh-01"]), make_member())
    with pytest.raises(ApplicationError) as exc:
        coupon_redeem(code=coupon.code, order_id="o1", amount=Decimal("10.00"))
    assert set(exc.value.errors) == {"channel", "store_id"}
    result = coupon_redeem(
        code=coupon.code, order_id="o1", amount=Decimal("10.00"), channel="app", store_id="sh-01"
    )
    assert result.discount == Decimal("10.00")
