"""Whether this installation can send e-mail at all (docs/operations.md, "E-mail").

Without ``LINLI_EMAIL_HOST`` (or an explicit ``LINLI_EMAIL_BACKEND``) settings choose Django's
dummy backend, which accepts every message and sends none. Code that e-mails asks
:func:`email_configured` first, so that nothing is marked as sent that was not, and says
"e-mail not configured" instead; a system check warns at start-up (linli/core/checks.py).
"""

from __future__ import annotations

from django.conf import settings

DUMMY_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
NOT_CONFIGURED = "e-mail not configured"


def email_configured() -> bool:
    return (getattr(settings, "EMAIL_BACKEND", "") or DUMMY_BACKEND) != DUMMY_BACKEND
