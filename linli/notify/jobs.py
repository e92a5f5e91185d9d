"""The notify app's periodic jobs (registered in NotifyConfig.ready()). Each is safe to run twice."""

from __future__ import annotations

from . import services

# A run drains at most this many batches, so one busy job cannot starve the others.
MAX_BATCHES = 20


def dispatch() -> dict:
    """Turn new events into notifications and webhook deliveries until caught up."""
    total = {"events": 0, "notifications": 0, "deliveries": 0}
    for _ in range(MAX_BATCHES):
        counts = services.dispatch_new_events()
        for key in total:
            total[key] += counts[key]
        if counts["events"] == 0 or counts["waiting"]:
            break
    return total


def deliver_webhooks() -> dict:
    return services.deliver_due_webhooks()


def send_emails() -> dict:
    return services.send_notification_emails()
