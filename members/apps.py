from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import registry

        from . import seed, views

        registry.register_seeder("members", seed.seed_members, order=10)
        registry.register_home_panel(
            "members", template="members/_panel.html", context=views.member_panel_context, order=0
        )
        # Labels are translated when rendered (core.templatetags.memberhub.member_nav_links).
        registry.register_nav_link(
            "members.profile", label=gettext_noop("Profile"), url_name="members:profile", order=10
        )
        registry.register_nav_link(
            "members.inbox", label=gettext_noop("Messages"), url_name="members:inbox", order=80
        )
        registry.register_nav_link(
            "members.feedback", label=gettext_noop("Feedback"), url_name="members:tickets", order=85
        )
        registry.register_nav_link(
            "members.privacy", label=gettext_noop("Privacy"), url_name="members:privacy", order=90
        )
