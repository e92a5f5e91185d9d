"""Models of linli.voting."""

from django.db import models  # noqa: F401
