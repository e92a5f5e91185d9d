import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after setup, as get_wsgi_application does it)

settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
