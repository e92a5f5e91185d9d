"""Validation of identity data: China's resident ID number and mobile numbers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# ASCII digits only: other Unicode digits would give the same number another blind index.
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$", re.ASCII)
_PHONE_SHAPE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


def id_check_digit(first17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def normalize_id_number(value: str) -> str:
    # NFKC: full-width digits and Ｘ (as Chinese input methods type them) become ASCII.
    return unicodedata.normalize("NFKC", value or "").strip().replace(" ", "").upper()


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised number, or raise ValidationError saying what is wrong."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError(_("An ID card number has 18 characters."), code="id_length")
    if not _ID_SHAPE.match(number):
        raise ValidationError(
            _("An ID card number is 17 digits followed by a digit or X."), code="id_format"
        )
    birth = id_birth_date(number)
    today = today or dt.date.today()
    if birth is None or birth > today or birth.year < 1900:
        raise ValidationError(_("The birth date in this ID card number is not possible."), code="id_birth")
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(_("The check digit of this ID card number is wrong."), code="id_check")
    return number


def id_birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_gender(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd: male)."""
    return "M" if int(number[16]) % 2 else "F"


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", value or "").strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def validate_phone(value: str) -> str:
    """A mainland mobile number: 11 digits starting 13–19."""
    phone = normalize_phone(value)
    if not _PHONE_SHAPE.match(phone):
        raise ValidationError(
            _("A mobile number has 11 digits and starts with 13 to 19."), code="phone_format"
        )
    return phone


# Two-character surnames that would otherwise be split after one character.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 "
    "端木 南宫 西门 独孤 百里 呼延 闻人 澹台 公冶 太史 申屠 钟离 宗政 濮阳 万俟".split()
)


def normalize_name(value: str) -> str:
    name = re.sub(r"\s+", " ", (value or "").strip())
    # "张 三": two-character names are often padded to line up with longer ones.
    return re.sub(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])", "", name)


def surname_of(name: str) -> str:
    name = normalize_name(name)
    if not name:
        return ""
    if name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    if " " in name:  # a Latin-script name: family name written last
        return name.rsplit(" ", 1)[1].lower()
    return name[0]
