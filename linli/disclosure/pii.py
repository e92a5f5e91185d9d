"""Whether an entry's words look like they hold a mobile or ID-card number.

Detection is :func:`linli.core.masking.scrub`'s: a text holds such a number exactly when
scrubbing it changes more than surrounding white space. An entry whose title or body does
is *held* on submission (state ``held``) until its author masks the numbers and submits it
again; :func:`masked` offers the masked text (``138****1234``) the author may take over.
"""

from __future__ import annotations

from linli.core.masking import scrub


def holds_numbers(text: str) -> bool:
    """True if ``text`` holds something that looks like a mobile or ID-card number."""
    text = text or ""
    return scrub(text) != text.strip()


def entry_holds_numbers(*, title: str, body: str) -> bool:
    return holds_numbers(title) or holds_numbers(body)


def masked(text: str) -> str:
    """The text with every mobile and ID-card number masked (white space at the ends kept)."""
    text = text or ""
    stripped = text.strip()
    if not stripped:
        return text
    start = text.index(stripped)
    return text[:start] + scrub(stripped) + text[start + len(stripped):]
