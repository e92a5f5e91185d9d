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


# A home's door as people write it: 14栋1单元602室, 3幢2单元501号, 5号楼1单元302, 14-1-602.
_DOOR = re.compile(
    r"\d{1,4}\s*(?:栋|幢|号楼|座)\s*(?:\d{1,3}\s*单元\s*)?(?:\d{1,5}\s*(?:室|号|户)?)?"
    r"|(?<![\d-])\d{1,4}-\d{1,3}-\d{2,5}(?![\d-])"
)


def scrub(text: str, *, names=(), doors: bool = False, remove_names: bool = False) -> str:
    """Mask identifiers in free text (a reason, a title, a message): ID-card and mobile numbers
    always; each of ``names`` (people the text may name: the reporter, the contact) as
    :func:`mask_name` shows it, or with ``remove_names`` replaced by ``***`` (for readers to whom
    even a masked name beside a place points at a person); and, with ``doors``, home doors
    (building, unit, room), for text that leaves the people who may know where a resident lives."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text or "")
    text = _MOBILE.sub(lambda m: mask_phone(m.group()), text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "***" if remove_names else mask_name(name))
    if doors:
        text = _DOOR.sub("***", text)
    return text.strip()
