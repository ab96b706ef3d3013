from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/sms/", views.login_sms, name="login_sms"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("register/phone/", views.register_phone, name="register_phone"),
    path("register/email/", views.register_email, name="register_email"),
    path("register/confirm/<str:token>/", views.register_confirm, name="register_confirm"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/reset/sms/", views.password_reset_sms, name="password_reset_sms"),
    path("profile/", views.profile, name="profile"),
    path("profile/contact/", views.contact, name="contact"),
    path("verification/", views.verification, name="verification"),
    path("verification/documents/<str:public_id>/", views.document_download, name="document"),
    path("messages/", views.inbox, name="inbox"),
    path("messages/read/", views.inbox_mark_read, name="inbox_read_all"),
    path("messages/<int:pk>/read/", views.inbox_mark_read, name="inbox_read"),
    path("feedback/", views.tickets, name="tickets"),
    path("feedback/new/", views.ticket_new, name="ticket_new"),
    path("feedback/<str:public_id>/", views.ticket_detail, name="ticket"),
    path("feedback/files/<str:public_id>/", views.attachment_download, name="attachment"),
    path("privacy/", views.privacy, name="privacy"),
    path("legal/terms/", views.legal_terms, name="terms"),
    path("legal/privacy/", views.legal_privacy, name="privacy_policy"),
    path("privacy/export/", views.privacy_export, name="privacy_export"),
]
