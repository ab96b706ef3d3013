"""Members services: the only code that writes the members domain.

Other apps import from here: member_assert_can_transact, member_notify, member_freeze...
"""

from .accounts import (
    PROFILE_FIELDS,
    ConsentInfo,
    SourceInfo,
    consent_record,
    member_confirm_email,
    member_contact_verify,
    member_create_for_partner,
    member_freeze,
    member_identity_bind,
    member_login_by_code,
    member_password_set_by_code,
    member_profile_update,
    member_register_by_email,
    member_register_by_phone,
    member_unfreeze,
    profile_completeness,
    referrer_resolve,
)
from .codes import code_issue, code_verify, codes_purge, link_consume, link_issue, throttle_hit
from .notifications import notification_mark_read
from .notify import Notice, member_assert_can_transact, member_notify, member_notify_bulk
from .privacy import member_close, privacy_export
from .tickets import (
    attachment_open,
    ticket_adopt,
    ticket_close_by_member,
    ticket_create,
    ticket_reply,
    ticket_update,
)
from .verification import (
    can_view_pii,
    document_open,
    document_review,
    document_upload,
    member_verification_level_refresh,
    realname_reveal,
    realname_review,
    realname_submit,
)

__all__ = [
    "Notice",
    "PROFILE_FIELDS",
    "ConsentInfo",
    "SourceInfo",
    "attachment_open",
    "can_view_pii",
    "code_issue",
    "code_verify",
    "codes_purge",
    "consent_record",
    "document_open",
    "document_review",
    "document_upload",
    "link_consume",
    "link_issue",
    "member_assert_can_transact",
    "member_close",
    "member_confirm_email",
    "member_contact_verify",
    "member_create_for_partner",
    "member_freeze",
    "member_identity_bind",
    "member_login_by_code",
    "member_notify",
    "member_notify_bulk",
    "member_password_set_by_code",
    "member_profile_update",
    "member_register_by_email",
    "member_register_by_phone",
    "member_unfreeze",
    "member_verification_level_refresh",
    "notification_mark_read",
    "privacy_export",
    "profile_completeness",
    "realname_review",
    "realname_reveal",
    "realname_submit",
    "referrer_resolve",
    "ticket_adopt",
    "ticket_close_by_member",
    "ticket_create",
    "ticket_reply",
    "ticket_update",
    "throttle_hit",
]
