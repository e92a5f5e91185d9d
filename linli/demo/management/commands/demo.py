"""`linli demo`: migrate, seed the demo community if the database is empty, print the sign-ins, serve.

While it serves, the periodic jobs (`linli worker`: deadlines, notifications, hot issues,
early warning, need tags, retraining) run beside it in a process of their own, so the demo
behaves as a deployment does; `--no-worker` leaves them out.
"""

import subprocess
import sys
import unicodedata

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _, pgettext

from linli.community.models import Community
from linli.demo import community as demo
from linli.demo import services
from linli.demo.case_lives import HistoryError


class Command(BaseCommand):
    help = "Prepare the demo (migrate, seed Y社区 into an empty database), print its sign-ins, then serve."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="prepare and print the sign-ins, do not serve")
        parser.add_argument("--no-worker", action="store_true", help="serve without running the periodic jobs beside")
        parser.add_argument("--households", type=int, default=demo.DEFAULT_HOUSEHOLDS,
                            help="households of the demo community when it is seeded (default %(default)s)")

    def handle(self, *args, host, port, no_serve, no_worker=False, households=demo.DEFAULT_HOUSEHOLDS, **options):
        if not (1 <= port <= 65535):
            raise CommandError(_("The port must be between 1 and 65535."))
        if not demo.MIN_HOUSEHOLDS <= households <= demo.MAX_HOUSEHOLDS:
            raise CommandError(_("--households must be between %(lo)s and %(hi)s, not %(n)s.") % {
                "lo": f"{demo.MIN_HOUSEHOLDS:,}", "hi": f"{demo.MAX_HOUSEHOLDS:,}", "n": households})
        self.stdout.write(_("Applying migrations…"))
        call_command("migrate", interactive=False, verbosity=0, stdout=self.stdout, stderr=self.stderr)
        # Compressed, cache-friendly copies of the stylesheets for whitenoise.
        call_command("collectstatic", interactive=False, verbosity=0)
        if not Community.objects.exists():
            self.stdout.write(_("Empty database: seeding the demo community %(name)s…") % {"name": demo.COMMUNITY_NAME})
            self._seed(households)
        community = Community.objects.filter(code=demo.COMMUNITY_CODE).first()
        if community is None:
            self.stdout.write(_("This database already holds communities, none of them the demo; "
                                "the demo was not seeded and there are no demo sign-ins."))
        else:
            self._print_sign_ins(demo.describe_sign_ins(community))
        if no_serve:
            return
        worker = None
        if not no_worker:
            self.stdout.write(_("Running the periodic jobs beside the server (linli worker): deadlines, notifications, "
                                "and the hot issues and alerts, refreshed as new cases come in."))
            worker = subprocess.Popen([sys.executable, "-m", "linli.config.cli", "worker"])
        try:
            call_command("serve", host=host, port=port, stdout=self.stdout, stderr=self.stderr)
        finally:
            if worker is not None:
                worker.terminate()  # SIGTERM: the running job finishes, then the worker exits
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _seed(self, households: int) -> None:
        """Seed through the service, not `seed_demo`: that command lists the demo accounts
        itself, and the sign-ins are printed here, once, as a table. The summary says what
        was built, hot issues and alerts included."""
        progress = demo.Progress(getattr(self.stderr, "_out", self.stderr), enabled=True)
        try:
            seeded = services.seed_demo(households=households, progress=progress)
        except (demo.DemoError, HistoryError) as exc:
            raise CommandError(str(exc)) from exc
        for line in services.summary_lines(seeded):
            self.stdout.write(line)

    def _print_sign_ins(self, sign_ins):
        if not sign_ins:
            self.stdout.write(_("The demo accounts are not in this database."))
            return
        headers = (pgettext("demo sign-ins", "username"), pgettext("demo sign-ins", "password"),
                   pgettext("demo sign-ins", "role"), pgettext("demo sign-ins", "what they can see"))
        rows = [(s.username, s.password, s.role, s.sees) for s in sign_ins]
        widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(3)]
        self.stdout.write("")
        self.stdout.write(_("Demo sign-ins:"))
        for row in [headers, *rows]:
            cells = [_pad(row[i], widths[i]) for i in range(3)]
            self.stdout.write("  " + "  ".join(cells) + "  " + row[3])
        self.stdout.write("")


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))
