"""The partners app: government units, partner organisations, people and their roles."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("组织与人员")

    def ready(self) -> None:
        # Django's own auth signals, and axes' lockout: the security log hears every sign-in.
        # Imported in ready(), once the models it uses are loaded.
        from partners.auth import connect_receivers

        connect_receivers()
