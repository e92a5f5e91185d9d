"""System checks (Django's checks framework: `linli check`, and every command that starts a
server or the worker, prints them once at start-up). Registered in CoreConfig.ready()."""

from __future__ import annotations

from django.core import checks
from django.utils.translation import gettext as _

from .mailer import email_configured


def check_email(app_configs=None, **kwargs):
    if email_configured():
        return []
    return [checks.Warning(
        _("E-mail not configured: notifications are not e-mailed (none is marked as sent)."),
        hint=_("Set LINLI_EMAIL_HOST (and LINLI_EMAIL_USER, LINLI_EMAIL_PASSWORD, LINLI_EMAIL_FROM) "
               "to send e-mail copies of notifications."),
        id="linli.W001",
    )]
