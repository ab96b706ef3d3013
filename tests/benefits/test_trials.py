from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from benefits.models import TrialApplication
from benefits.services import (
    trial_applications_decide,
    trial_apply,
    trial_draw,
    trial_product_create,
    trial_report_submit,
    trials_draw_due,
)
from core.errors import ApplicationError
from members.models import Notification

from .factories import make_member

pytestmark = pytest.mark.django_db


def make_trial(quantity=2, open_now=True, **kw):
    now = timezone.now()
    return trial_product_create(
        name="Face cream",
        sku="FC-1",
        quantity=quantity,
        apply_from=now - timedelta(days=1),
        apply_until=now + timedelta(days=1) if open_now else now - timedelta(seconds=1),
        report_points=kw.pop("report_points", 50),
        **kw,
    )


def test_apply_once_while_open():
    trial = make_trial()
    member = make_member()
    app = trial_apply(product=trial, member=member, reason="I love creams")
    assert app.status == "applied"
    with pytest.raises(ApplicationError) as exc:
        trial_apply(product=trial, member=member)
    assert exc.value.code == "trial_already_applied"
    closed = make_trial(open_now=False)
    with pytest.raises(ApplicationError) as exc:
        trial_apply(product=closed, member=member)
    assert exc.value.code == "trial_closed"


def test_random_draw_selects_up_to_quantity_and_is_idempotent():
    trial = make_trial(quantity=3)
    members = [make_member() for _ in range(10)]
    for m in members:
        trial_apply(product=trial, member=m)
    with pytest.raises(ApplicationError):
        trial_draw(product=trial)  # still open
    later = trial.apply_until + timedelta(seconds=1)
    counts = trials_draw_due(now=later)
    assert counts["selected"] == 3 and counts["not_selected"] == 7 and counts["products"] == 1
    statuses = list(TrialApplication.objects.filter(product=trial).values_list("status", flat=True))
    assert statuses.count("selected") == 3 and statuses.count("not_selected") == 7
    assert trial_draw(product=trial, now=later)["already_drawn"] == 1
    assert trials_draw_due(now=later) == {}
    assert Notification.objects.filter(kind="trial.result").count() == 10


def test_draw_with_fewer_applicants_selects_everyone():
    trial = make_trial(quantity=5)
    for _ in range(2):
        trial_apply(product=trial, member=make_member())
    counts = trial_draw(product=trial, now=trial.apply_until)
    assert counts["selected"] == 2 and counts["not_selected"] == 0


def test_operator_selection_respects_quantity():
    operator = get_user_model().objects.create_user(email="op@example.com", is_staff=True)
    trial = make_trial(quantity=1)
    apps = [trial_apply(product=trial, member=make_member()) for _ in range(2)]
    with pytest.raises(ApplicationError) as exc:
        trial_applications_decide(applications=apps, selected=True, actor=operator)
    assert exc.value.code == "limit_reached"
    assert trial_applications_decide(applications=apps[:1], selected=True, actor=operator) == 1
    assert trial_applications_decide(applications=apps[1:], selected=False, actor=operator) == 1
    # the draw only fills what is left: nothing
    counts = trial_draw(product=trial, now=trial.apply_until)
    assert counts["selected"] == 0


def test_report_earns_points_once_and_only_when_selected():
    from points.selectors import points_balance

    trial = make_trial(quantity=1, report_points=50)
    member = make_member()
    app = trial_apply(product=trial, member=member)
    with pytest.raises(ApplicationError) as exc:
        trial_report_submit(application=app, member=member, text="Very nice cream indeed", rating=5)
    assert exc.value.code == "trial_not_selected"
    trial_draw(product=trial, now=trial.apply_until)
    app.refresh_from_db()
    with pytest.raises(ApplicationError) as exc:
        trial_report_submit(application=app, member=member, text="short", rating=9)
    assert set(exc.value.errors) == {"text", "rating"}
    with pytest.raises(ApplicationError):
        trial_report_submit(application=app, member=make_member(), text="Very nice cream indeed", rating=5)
    report = trial_report_submit(application=app, member=member, text="Very nice cream indeed", rating=4)
    assert report.points_awarded == 50
    assert points_balance(member=member)["available"] == 50
    with pytest.raises(ApplicationError) as exc:
        trial_report_submit(application=app, member=member, text="Very nice cream again", rating=4)
    assert exc.value.code == "trial_already_reported"
    assert points_balance(member=member)["available"] == 50
