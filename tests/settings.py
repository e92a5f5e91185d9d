"""The test suite's settings: Linli's own, plus the plug-in app under tests/parcels.

tests/parcels is a small app of the kind every later capability will be: it registers a
periodic job, a notification recipe, a menu entry, its pages, an API router, a workflow and
its event labels, and no file under linli/ names it (tests/test_plugin_app.py checks both).
"""

from linli.config.settings import *  # noqa: F401,F403
from linli.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.parcels"]
