from django.urls import path

from . import apis

urlpatterns = [
    path("members", apis.MemberCollectionApi.as_view(), name="members"),
    path("members/<str:member>", apis.MemberDetailApi.as_view(), name="member"),
    path("members/<str:member>/identities", apis.MemberIdentityBindApi.as_view(), name="member-identities"),
    path("verification-codes", apis.VerificationCodeSendApi.as_view(), name="verification-codes"),
    path(
        "verification-codes/verify", apis.VerificationCodeCheckApi.as_view(), name="verification-codes-verify"
    ),
]
