"""The test suite's settings: Linli's own, plus the plug-in app under tests/parcels.

tests/parcels is a small app of the kind every later capability will be: it registers a
periodic job, a notification recipe, a menu entry, its pages, an API router, a workflow and
its event labels, and no file under linli/ names it (tests/test_plugin_app.py checks both).
"""

from linli.config.settings import *  # noqa: F401,F403
from linli.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.parcels"]

# PostgreSQL: a statement that runs or waits for a lock past 5 minutes is a bug in the test or the
# code (the longest, the full demo's biggest insert, takes seconds), so the server cancels it.
# The test then fails with "canceling statement due to statement timeout" and its transaction
# rolls back. Without this, a statement stuck past pytest-timeout's 420 s left its session
# running with its locks, and each later test of that worker waited on them in turn.
from linli.config.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = "-c statement_timeout=300000"
