from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class BenefitsConfig(AppConfig):
    name = "benefits"
    verbose_name = _("Benefits and coupons")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import events, registry
        from points.rewards import register_fulfiller

        from . import fulfilment, seed, views
        from .services.expiry import on_member_closed

        registry.register_home_panel(
            "coupons", template="benefits/panels/coupons.html", context=views.home_panel_context, order=30
        )
        registry.register_nav_link(
            "coupons", label=gettext_noop("Coupons"), url_name="benefits:coupons", order=30
        )
        registry.register_nav_link(
            "benefits", label=gettext_noop("Benefits"), url_name="benefits:home", order=31
        )
        registry.register_nav_link(
            "trials", label=gettext_noop("Free trials"), url_name="benefits:trials", order=32
        )
        registry.register_export_section("coupons", fulfilment.export_member_data)
        register_fulfiller("coupon", fulfilment.issue_coupon_for_redemption)
        registry.register_seeder("benefits", seed.seed_benefits, order=50)
        events.subscribe(events.MEMBER_CLOSED, on_member_closed)
