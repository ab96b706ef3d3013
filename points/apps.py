from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = _("Points")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import events, registry

        from . import seed, views
        from .services import behaviour

        events.subscribe(events.MEMBER_REGISTERED, behaviour.on_member_registered)
        events.subscribe(events.MEMBER_PROFILE_COMPLETED, behaviour.on_member_profile_completed)
        feedback_adopted = getattr(events, "FEEDBACK_ADOPTED", None)
        if feedback_adopted:
            events.subscribe(feedback_adopted, behaviour.on_feedback_adopted)

        registry.register_seeder("orders", seed.seed_orders, order=30)
        registry.register_home_panel(
            "points", template="points/_home_panel.html", context=views.home_panel_context, order=10
        )
        registry.register_nav_link("points", label=_("My points"), url_name="points:mine", order=20)
        registry.register_nav_link("points_mall", label=_("Points mall"), url_name="points:mall", order=21)
        registry.register_export_section("points", views.export_section)
