"""Member-centre forms: validate input; services do the writing."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TrialApplyForm(forms.Form):
    reason = forms.CharField(
        label=_("Why would you like to try it?"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TrialReportForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[(i, "★" * i) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Your report"), min_length=10, max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
