"""Money in integer fen: parsing what people type and showing ¥1,234.56.

No float ever holds an amount: "12.3" is parsed with :class:`decimal.Decimal` and must have at
most two decimals; the result is an ``int`` of fen.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput

# ¥99,999,999,999.99: far beyond any community's money, far inside a 64-bit integer.
MAX_FEN = 9_999_999_999_999


def fen_from_text(text: str, *, field: str | None = None, allow_negative: bool = False) -> int:
    """"1,234.5" / "¥12" / "１２" → fen. Raises InvalidInput (translated) for anything else."""
    import unicodedata

    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace(",", "").replace("¥", "").strip()
    if not raw:
        raise InvalidInput(_("Enter an amount."), field=field)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(_("“%(text)s” is not an amount of money.") % {"text": str(text)[:40]}, field=field)
    if not value.is_finite():
        raise InvalidInput(_("“%(text)s” is not an amount of money.") % {"text": str(text)[:40]}, field=field)
    if abs(value) > Decimal(MAX_FEN) / 100:
        raise InvalidInput(_("This amount is too large."), field=field)
    fen = int(value * 100)
    if Decimal(fen) != value * 100:
        raise InvalidInput(_("An amount has at most two decimals (fen)."), field=field)
    if fen < 0 and not allow_negative:
        raise InvalidInput(_("An amount must be more than zero."), field=field)
    return fen


def yuan_text(fen: int) -> str:
    """1234.56 as typed in a form (no sign of currency, no grouping)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def format_fen(fen: int | None, *, symbol: bool = True) -> str:
    """123456 → "¥1,234.56"; -5 → "-¥0.05"; None → ""."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{'¥' if symbol else ''}{whole:,}.{cents:02d}"


def fen_to_decimal(fen: int) -> Decimal:
    """Fen as yuan, exactly (for spreadsheets)."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
