"""Models of linli.funds."""

from django.db import models  # noqa: F401
