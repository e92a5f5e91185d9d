"""How personal data looks on screen unless someone reveals it."""

from __future__ import annotations

import re


def mask_name(name: str) -> str:
    """张*明, 李*, 欧阳**锋; the first and last characters stay."""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*" if chars else ""
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_phone(phone: str) -> str:
    """138****1234"""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str) -> str:
    """5101**********1234"""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_address(address: str) -> str:
    """The first six characters (district, street) and nothing of the door."""
    return address[:6] + "****" if len(address) > 6 else "****"


def mask_date(value: str) -> str:
    """1956-**-**: the year stays, for age-appropriate service."""
    return value[:4] + "-**-**" if len(value) >= 4 else "****"


def mask_text(value: str) -> str:
    return "******" if value else ""


MASKS = {
    "name": mask_name,
    "phone": mask_phone,
    "id_number": mask_id_number,
    "address": mask_address,
    "date": mask_date,
    "text": mask_text,
}


_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def scrub(text: str) -> str:
    """Mask ID-card and mobile numbers in free text (a reason, a title, a message)."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text or "")
    return _MOBILE.sub(lambda m: mask_phone(m.group()), text).strip()
