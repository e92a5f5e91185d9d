"""``{{ amount|fen }}`` → ¥1,234.56 (amounts are integer fen); ``{{ text|numbers_masked }}``."""

from django import template

from linli.books.money import format_fen
from linli.core.masking import scrub

register = template.Library()


@register.filter
def fen(value):
    if value is None or value == "":
        return ""
    return format_fen(int(value))


@register.filter
def fen_plain(value):
    """Without the currency sign, for table columns that say it in the header."""
    if value is None or value == "":
        return ""
    return format_fen(int(value), symbol=False)


@register.filter
def numbers_masked(value) -> str:
    """The books' free text (summaries, return reasons, receipt names) on screen: ID-card and
    mobile numbers masked (138****1234), as in the cases' texts; names and places stay, the
    office pays people by name (docs/roles.md, "Books")."""
    return scrub(str(value or ""))
