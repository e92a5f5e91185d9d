"""Django's ``flush``, taking the transparency log's one erase path first.

The log tables' triggers refuse DELETE unless the row's log is marked ``erasing``
(migration 0002, docs/transparency.md). ``flush`` empties every table in no fixed order, so it
first marks every log as being erased (irreversible, as ``services.erase_log`` does), then runs
Django's own flush. pytest-django flushes this way between transactional tests.
"""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections


class Command(DjangoFlush):
    help = DjangoFlush.help + " Every transparency log is erased too."

    def handle(self, **options):
        database = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[database]
        if options.get("interactive", True):
            confirm = input("This also erases every community's transparency log, for good. "
                            "Type 'yes' to continue, or 'no' to cancel: ")
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
            options = {**options, "interactive": False}
        if "transparency_log" in connection.introspection.table_names():
            with connection.cursor() as cursor:
                cursor.execute("UPDATE transparency_log SET erasing = %s WHERE NOT erasing", [True])
        # Hook "transparency.flush": other apps whose tables refuse DELETE too (the points ledger)
        # open their own erase path for the flush: each function takes the connection and returns
        # a context manager held while Django's flush runs (docs/architecture.md, hook points).
        from contextlib import ExitStack

        from linli.core import registry

        with ExitStack() as stack:
            for erase_path in registry.hooks("transparency.flush"):
                stack.enter_context(erase_path(connection))
            return super().handle(**options)
