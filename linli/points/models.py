"""The 睦邻积分 ledger, its rules, the catalogue, partners and redemptions (docs/points.md)."""

from django.db import models  # noqa: F401
