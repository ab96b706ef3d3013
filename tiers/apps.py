from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TiersConfig(AppConfig):
    name = "tiers"
    verbose_name = _("Tiers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import registry

        from . import exports, seed, views

        registry.register_seeder("tiers", seed.seed_tiers, order=35)
        registry.register_home_panel(
            "tier", template="tiers/_panel.html", context=views.home_panel_context, order=20
        )
        registry.register_nav_link("tiers", label=_("My tier"), url_name="tiers:mine", order=20)
        registry.register_export_section("tiers", exports.export_section)
