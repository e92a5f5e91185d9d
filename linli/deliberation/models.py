"""Models of linli.deliberation."""

from django.db import models  # noqa: F401
