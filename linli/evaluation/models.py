"""Models of linli.evaluation."""

from django.db import models  # noqa: F401
