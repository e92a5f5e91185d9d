"""The community's books: double-entry bookkeeping of its public money, in integer fen
(docs/books.md)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _uses_books(user) -> bool:
    return user.has_perm("books.use_books")


class BooksConfig(AppConfig):
    name = "linli.books"
    label = "books"
    verbose_name = _("Community books")

    def ready(self):
        from linli.core import registry

        # Importing these registers the rules and the voucher workflow's verbs.
        from . import rules, workflow  # noqa: F401

        registry.register_urls("books", "books/", "linli.books.urls")
        registry.register_menu_entry(registry.MenuEntry(
            "books", _("Books"), "books:home", order=55, visible=_uses_books, current=("books:*",)))
        registry.register_event("voucher.created", _("prepared a voucher"))
        registry.register_event("voucher.changed", _("changed a voucher"))
        registry.register_event("voucher.reversal_created", _("proposed the reversal of a posted voucher"))
        registry.register_event("voucher.receipt_added", _("attached a receipt to a voucher"))
        registry.register_event("books.chart_installed", _("installed the chart of accounts"))
        registry.register_event("books.account_created", _("added an account"))
        registry.register_event("books.account_changed", _("changed an account"))
        registry.register_event("books.budget_set", _("set a budget"))
        registry.register_event("books.month_closed", _("closed a month's books"))
        registry.register_event("books.month_reopened", _("reopened a month's books"))
