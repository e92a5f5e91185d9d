"""The hook point ``core.viewed``: a page tells the apps above that an account has seen, or
acted on, one thing of the event log's kind (``target_type``, ``target_id``, as events name
their targets: ``"cases.case"``, ``"42"``).

Pages of any app call :func:`viewed`; apps that keep something per account and target fill the
point (linli.notify marks the account's unread notifications about that target read). Core
knows no app, so the pages do not import notify and notify does not import the pages.

A function at the point takes ``(user, target_type, target_id)`` and returns nothing; it must
be cheap (it runs inside a page view) and must not raise for an unknown target.
"""

from __future__ import annotations

from . import registry

VIEWED = "core.viewed"


def viewed(user, target_type: str, target_id) -> None:
    """Tell the functions at ``core.viewed`` that ``user`` opened or acted on this target."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    for function in registry.hooks(VIEWED):
        function(user, target_type, str(target_id))
