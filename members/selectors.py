"""Reads of the members domain."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core.errors import ErrorCode, NotFound

from .models import ExternalIdentity

User = get_user_model()


def member_resolve(*, partner, ref: str, for_update: bool = False):
    """A member addressed by `member_id` or by `ext:<external_id>` of the calling partner.

    Raises NotFound (code member_not_found) otherwise; a partner never resolves another
    partner's external ids.
    """
    ref = (ref or "").strip()
    qs = User.objects.filter(is_staff=False)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    if ref.startswith("ext:"):
        subject = ref[4:]
        member_pk = (
            ExternalIdentity.objects.filter(partner=partner, subject=subject)
            .values_list("member_id", flat=True)
            .first()
            if subject
            else None
        )
        member = qs.filter(pk=member_pk).first() if member_pk else None
    else:
        member = qs.filter(member_id=ref).first() if ref else None
    if member is None:
        raise NotFound(f"No member {ref!r}.", code=ErrorCode.MEMBER_NOT_FOUND)
    return member
