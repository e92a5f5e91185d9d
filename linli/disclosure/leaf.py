"""What an entry puts into the community's transparency log: its leaf.

Two byte strings, both canonical JSON (UTF-8, keys sorted, no spaces, ``ensure_ascii=False``):

* :func:`content_bytes` — the words: ``{"body", "title"}``. Served as they are at
  ``/disclosure/<code>/e/<index>/content`` so anyone can hash them.
* :func:`leaf_bytes` — the header the log stores: type, community, section, period, the
  publication time, the roles (never the names) of author and approver, the SHA-256 of the
  content bytes, each attachment's SHA-256, size and type, and the index it supersedes or
  withdraws. No free text and no names: a withdrawal erases every word while each leaf still
  verifies, because the leaf commits to the content's hash only.

A withdrawal's leaf (:func:`withdrawal_leaf_bytes`) has the same header with type
``withdrawal``, ``withdraws`` the withdrawn entry's index, the time and role of the
withdrawal, no attachments, and ``content_sha256`` the hash of :func:`withdrawal_content_bytes`
(canonical JSON ``{"reason": …}``), so the reason shown on the tombstone is committed too.

Times are written at whole seconds in China Standard Time (``+08:00``, a fixed offset with no
daylight saving), whatever the installation's ``TIME_ZONE``: the bytes must be the same every
time they are recomputed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from json.encoder import encode_basestring as _quote  # the string encoder json uses with ensure_ascii=False

LEAF_VERSION = 1
# Fixed, so that recomputing a leaf never depends on a setting.
LEAF_TZ = dt.timezone(dt.timedelta(hours=8))


# One encoder for every call (json.dumps with these options would build a new one each time).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value) -> bytes:
    """Canonical JSON: UTF-8, keys sorted, no spaces, non-ASCII as itself."""
    return _ENCODER.encode(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leaf_time(value: dt.datetime) -> str:
    """A time as the leaf writes it: ISO 8601, whole seconds (truncated), +08:00."""
    return value.astimezone(LEAF_TZ).isoformat(timespec="seconds")


# The canonical JSON of the two fixed shapes below, written out key by key in sorted order with
# json's own string encoder: the same bytes as canonical() (tests/test_disclosure_batch.py checks
# it), a few times faster, for the full check that recomputes a million of them. Any value of an
# unexpected type takes canonical() itself.


def words_bytes(title, body) -> bytes:
    """canonical({"title": title, "body": body})."""
    if type(title) is not str or type(body) is not str:
        return canonical({"title": title, "body": body})
    return f'{{"body":{_quote(body)},"title":{_quote(title)}}}'.encode("utf-8")


def content_bytes(entry) -> bytes:
    """The entry's words, exactly as hashed: canonical JSON of ``{"title", "body"}``."""
    return words_bytes(entry.title, entry.body)


def content_sha256(entry) -> str:
    return sha256_hex(content_bytes(entry))


def withdrawal_content_bytes(entry) -> bytes:
    return reason_bytes(entry.withdrawal_reason)


def reason_bytes(reason) -> bytes:
    """canonical({"reason": reason}): what a withdrawal's ``content_sha256`` hashes."""
    return canonical({"reason": reason})


def _attachments(entry) -> list[dict]:
    return [{"sha256": a.sha256, "size": a.size, "type": a.content_type} for a in entry.attachments.all()]


def header_bytes(*, type_: str, community: str, section: str, period_start: dt.date, period_end: dt.date,
                 published: dt.datetime, author_role: str, approver_role: str, content_sha256: str,
                 attachments: list, supersedes: int | None, withdraws: int | None) -> bytes:
    """The leaf from plain values (what :func:`leaf_bytes` and the full check both call)."""
    if (type(type_) is str and type(community) is str and type(section) is str and type(author_role) is str
            and type(approver_role) is str and type(content_sha256) is str
            and (supersedes is None or type(supersedes) is int) and (withdraws is None or type(withdraws) is int)):
        return (f'{{"approver_role":{_quote(approver_role)},'
                f'"attachments":{canonical(attachments).decode("utf-8") if attachments else "[]"},'
                f'"author_role":{_quote(author_role)},"community":{_quote(community)},'
                f'"content_sha256":{_quote(content_sha256)},'
                f'"period":["{period_start.isoformat()}","{period_end.isoformat()}"],'
                f'"published":"{leaf_time(published)}","section":{_quote(section)},'
                f'"supersedes":{"null" if supersedes is None else supersedes},"type":{_quote(type_)},'
                f'"v":{LEAF_VERSION},"withdraws":{"null" if withdraws is None else withdraws}}}').encode("utf-8")
    return canonical({
        "v": LEAF_VERSION,
        "type": type_,
        "community": community,
        "section": section,
        "period": [period_start.isoformat(), period_end.isoformat()],
        "published": leaf_time(published),
        "author_role": author_role,
        "approver_role": approver_role,
        "content_sha256": content_sha256,
        "attachments": attachments,
        "supersedes": supersedes,
        "withdraws": withdraws,
    })


def leaf_bytes(entry) -> bytes:
    """The published entry's leaf (``entry`` or ``correction``). Reads the stored
    ``content_sha256``, so it is the same after a withdrawal erased the words."""
    if entry.published_at is None or not entry.content_sha256:
        raise ValueError("the entry is not published")
    supersedes = entry.supersedes.log_index if entry.supersedes_id else None
    return header_bytes(
        type_=entry.kind, community=entry.community.code, section=entry.section, period_start=entry.period_start,
        period_end=entry.period_end, published=entry.published_at, author_role=entry.author_role,
        approver_role=entry.approver_role, content_sha256=entry.content_sha256, attachments=_attachments(entry),
        supersedes=supersedes, withdraws=None)


def withdrawal_leaf_bytes(entry) -> bytes:
    """The leaf that records the entry's withdrawal."""
    if entry.withdrawn_at is None:
        raise ValueError("the entry is not withdrawn")
    return header_bytes(
        type_="withdrawal", community=entry.community.code, section=entry.section,
        period_start=entry.period_start, period_end=entry.period_end, published=entry.withdrawn_at,
        author_role=entry.withdrawer_role, approver_role=entry.withdrawer_role,
        content_sha256=sha256_hex(withdrawal_content_bytes(entry)), attachments=[], supersedes=None,
        withdraws=entry.log_index)
