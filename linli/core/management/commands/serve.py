"""`linli serve`: the production server (gunicorn), with static files from whitenoise."""

import ipaddress
import multiprocessing

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = "Serve Linli with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=min(4, multiprocessing.cpu_count() + 1))
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--timeout", type=int, default=60)

    def handle(self, *args, host, port, workers, threads, timeout, **options):
        if not (1 <= port <= 65535):
            raise CommandError(_("The port must be between 1 and 65535."))
        if workers < 1 or threads < 1:
            raise CommandError(_("--workers and --threads must be at least 1."))
        if settings.USING_DEMO_SECRETS and not _is_loopback(host):
            raise CommandError(_(
                "Refusing to serve on %(host)s with the published demo secrets. "
                "Set LINLI_SECRET_KEY and LINLI_DATA_KEY, or serve on 127.0.0.1."
            ) % {"host": host})
        from django.core.wsgi import get_wsgi_application
        from gunicorn.app.base import BaseApplication

        # The project's WSGI application, as settings.WSGI_APPLICATION names it; built here
        # rather than imported, so that core does not depend on the config package above it.
        application = get_wsgi_application()

        class Server(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
                self.cfg.set("timeout", timeout)
                self.cfg.set("graceful_timeout", 20)
                # Access logs carry paths only; Linli puts no personal data in URLs.
                self.cfg.set("accesslog", "-")
                self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')

            def load(self):
                return application

        self.stdout.write(_("Linli is serving at http://%(host)s:%(port)s/") % {"host": host, "port": port})
        Server().run()
