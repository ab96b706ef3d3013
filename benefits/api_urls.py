from django.urls import path

from . import apis

urlpatterns = [
    path("coupon-templates", apis.CouponTemplateListApi.as_view(), name="coupon-templates"),
    path("members/<str:member>/coupons", apis.MemberCouponsApi.as_view(), name="member-coupons"),
    path("members/<str:member>/benefits", apis.MemberBenefitsApi.as_view(), name="member-benefits"),
    path("coupons/<str:code>", apis.CouponDetailApi.as_view(), name="coupon-detail"),
    path("coupons/<str:code>/redeem", apis.CouponRedeemApi.as_view(), name="coupon-redeem"),
    path("coupons/<str:code>/release", apis.CouponReleaseApi.as_view(), name="coupon-release"),
    path("checkout/quote", apis.CheckoutQuoteApi.as_view(), name="checkout-quote"),
]
