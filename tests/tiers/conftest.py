import importlib

import pytest


@pytest.fixture(autouse=True)
def tier_catalogue(request):
    """The default catalogue comes from the data migration; also load it under --no-migrations."""
    if "django_db_setup" not in request.fixturenames and not any(
        m.name == "django_db" for m in request.node.iter_markers()
    ):
        return
    request.getfixturevalue("django_db_setup")
    from django.apps import apps

    from tiers.models import Tier

    if not Tier.objects.exists():
        importlib.import_module("tiers.migrations.0002_default_catalogue").forward(apps, None)
