"""Back-office forms of the tier engine."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import MemberTier, Tier


class MemberTierOverrideForm(forms.ModelForm):
    """Only the override is editable; saving goes through tier_override_set/clear (audited)."""

    class Meta:
        model = MemberTier
        fields = ["override_tier", "override_reason", "override_until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["override_tier"].queryset = Tier.objects.filter(is_active=True).order_by("rank")

    def clean(self):
        data = super().clean()
        tier = data.get("override_tier")
        until = data.get("override_until")
        reason = (data.get("override_reason") or "").strip()
        changed = any(f in self.changed_data for f in self.Meta.fields)
        if changed and not reason:
            self.add_error("override_reason", _("Give the reason for setting or removing an override."))
        if tier is not None and until is not None and until <= timezone.now():
            self.add_error("override_until", _("Must be in the future."))
        return data
