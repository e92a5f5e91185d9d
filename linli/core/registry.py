"""What apps plug into: periodic jobs, notification recipes, menu entries, page URLs, API
routers, event labels and named hooks.

An app registers its pieces in its ``AppConfig.ready()``; the lower layers
read them from here and never import the app. So notify turns events into
messages without knowing what a case is, the worker runs jobs without a list
of apps, ``base.html`` draws a menu it did not spell out, and config mounts
every app's API router on one ``/api/v1/``. docs/architecture.md, "How to add
an app", walks through it.

Registering is idempotent by name: ``ready()`` may run twice (tests that
reload apps), and the second registration replaces the first. Nothing here
holds rows: only code and constants, the same in every process.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

# ----------------------------------------------------------------------------------------------
# Periodic jobs


@dataclass(frozen=True)
class Job:
    """A job ``linli worker`` runs every ``every_seconds``. It takes no arguments, reads what it
    needs from the database and is safe to run twice or in two workers at once; it may return a
    dict of counts for the log. ``target`` is the function, or a dotted path imported when the
    job runs (so that importing the registry stays cheap)."""

    name: str
    every_seconds: float
    target: str | Callable[[], object]
    description: str = ""


class JobMissing(Exception):
    """The job's module or function does not exist."""


_jobs: dict[str, Job] = {}


def register_job(job: Job) -> Job:
    _jobs[job.name] = job
    return job


def jobs() -> list[Job]:
    """Every registered job, in the order the apps registered them."""
    return list(_jobs.values())


def resolve_job(job: Job) -> Callable[[], object]:
    """The job's function. Raises JobMissing when its module or attribute does not exist; any
    other import error (a bug in the module) propagates."""
    import importlib

    if callable(job.target):
        return job.target
    module_name, _, attr = job.target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the job's own module (or a package above it) being absent counts as missing;
        # a module it imports being absent is a real error.
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise JobMissing(job.target) from exc
        raise
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise JobMissing(job.target) from exc


# ----------------------------------------------------------------------------------------------
# Notification recipes: which event, who hears, in which words


@dataclass(frozen=True)
class Message:
    """One message an event calls for. ``user_ids`` are the recipients (the event's own actor
    is never told of what they did); ``url`` is where the inbox links to (a path, or "").
    Words are already translated, in the installation's language, and carry no personal data."""

    user_ids: Iterable[int]
    title: str
    body: str
    url: str = ""
    community_id: int | None = None


@dataclass(frozen=True)
class Recipe:
    """``verbs``: event verbs, shell-style patterns allowed (``case.*``). ``messages`` takes a
    batch of the events that match (so it can load their targets in one query) and yields
    ``(event, Message)`` pairs."""

    name: str
    verbs: tuple[str, ...]
    messages: Callable[[list], Iterable[tuple[Any, Message]]]

    def matches(self, verb: str) -> bool:
        return any(fnmatch.fnmatchcase(verb, pattern) for pattern in self.verbs)


_recipes: dict[str, Recipe] = {}


def register_recipe(recipe: Recipe) -> Recipe:
    _recipes[recipe.name] = recipe
    return recipe


def recipes() -> list[Recipe]:
    return list(_recipes.values())


# ----------------------------------------------------------------------------------------------
# Menu entries


@dataclass(frozen=True)
class MenuEntry:
    """One link of the main menu. ``visible(user)`` decides who sees it (the user is signed
    in); ``current`` lists the URL names (``"cases:*"`` for a whole namespace) under which the
    entry is marked as the page the user is on; ``badge(request)`` may give a count to show."""

    name: str
    label: Any
    url_name: str
    order: int
    visible: Callable[[Any], bool]
    current: tuple[str, ...] = ()
    badge: Callable[[Any], Any] | None = None
    badge_id: str = ""


_menu: dict[str, MenuEntry] = {}


def register_menu_entry(entry: MenuEntry) -> MenuEntry:
    _menu[entry.name] = entry
    return entry


def menu_entries() -> list[MenuEntry]:
    return sorted(_menu.values(), key=lambda e: (e.order, e.name))


# ----------------------------------------------------------------------------------------------
# API routers


@dataclass(frozen=True)
class ApiRouter:
    """A django-ninja ``Router`` that config mounts under ``/api/v1/<prefix>``."""

    name: str
    router: Any
    prefix: str = ""


_routers: dict[str, ApiRouter] = {}


def register_api_router(name: str, router, *, prefix: str = "") -> ApiRouter:
    entry = ApiRouter(name=name, router=router, prefix=prefix)
    _routers[name] = entry
    return entry


def api_routers() -> list[ApiRouter]:
    return list(_routers.values())


# ----------------------------------------------------------------------------------------------
# Page URLs


@dataclass(frozen=True)
class Urls:
    """An app's page URLs: config includes ``module`` (a dotted path to a urls module) under
    ``prefix`` ("cases/"; "" for the site's root, tried last)."""

    name: str
    prefix: str
    module: str


_urls: dict[str, Urls] = {}


def register_urls(name: str, prefix: str, module: str) -> Urls:
    entry = Urls(name=name, prefix=prefix, module=module)
    _urls[name] = entry
    return entry


def url_modules() -> list[Urls]:
    """Every registered URL module; those at the root last, so that they match only what no
    app's own prefix does."""
    return sorted(_urls.values(), key=lambda u: u.prefix == "")


# ----------------------------------------------------------------------------------------------
# Event labels


@dataclass(frozen=True)
class EventType:
    """How the event log names a verb (``case.accepted`` → "accepted a case"), and whether
    webhooks may subscribe to it (events whose data is fit for a partner's server)."""

    verb: str
    label: Any
    webhook: bool = False


_event_types: dict[str, EventType] = {}


def register_event(verb: str, label, *, webhook: bool = False) -> EventType:
    event_type = EventType(verb=verb, label=label, webhook=webhook)
    _event_types[verb] = event_type
    return event_type


def event_label(verb: str):
    """The registered label of a verb, or "" (the page then shows the verb as written)."""
    event_type = _event_types.get(verb)
    return event_type.label if event_type is not None else ""


_event_reasons: dict[str, dict[str, Any]] = {}


def register_event_reasons(verb: str, reasons: dict) -> None:
    """Labels for the reason codes a verb's events carry in ``data["reason"]`` (a classifier
    promoted "first" → "the first version of its scope"), so pages never show a code."""
    _event_reasons[verb] = dict(reasons)


def event_reason(verb: str, reason: str):
    """The label of a registered reason code of ``verb``, or None when ``reason`` is not one
    (free text a person wrote, which the page shows scrubbed)."""
    return _event_reasons.get(verb, {}).get(reason)


def event_types() -> list[EventType]:
    return sorted(_event_types.values(), key=lambda e: e.verb)


def webhook_verbs() -> list[str]:
    """The verbs a webhook may subscribe to."""
    return [e.verb for e in event_types() if e.webhook]


def webhook_verb_set() -> frozenset[str]:
    return frozenset(e.verb for e in _event_types.values() if e.webhook)


# ----------------------------------------------------------------------------------------------
# Hooks: named extension points a lower app offers and higher apps fill
#
# A lower app calls ``hooks("cases.category_suggesters")`` and tries each function; a higher
# app registers one in its ready(). The point's owner documents what its functions take and
# return, beside the call.


_hooks: dict[str, dict[str, Callable]] = {}


def register_hook(point: str, name: str, function: Callable) -> Callable:
    _hooks.setdefault(point, {})[name] = function
    return function


def hooks(point: str) -> list[Callable]:
    """The functions registered at ``point``, in registration order."""
    return list(_hooks.get(point, {}).values())


@dataclass
class _Snapshot:
    jobs: dict = field(default_factory=dict)
    recipes: dict = field(default_factory=dict)
    menu: dict = field(default_factory=dict)
    routers: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    hooks: dict = field(default_factory=dict)
    urls: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)


def snapshot() -> _Snapshot:
    """The registries as they are (for tests that plug an app in and take it out again)."""
    return _Snapshot(dict(_jobs), dict(_recipes), dict(_menu), dict(_routers), dict(_event_types),
                     {point: dict(functions) for point, functions in _hooks.items()}, dict(_urls),
                     dict(_event_reasons))


def restore(saved: _Snapshot) -> None:
    for live, kept in ((_jobs, saved.jobs), (_recipes, saved.recipes), (_menu, saved.menu),
                       (_routers, saved.routers), (_event_types, saved.events), (_hooks, saved.hooks),
                       (_urls, saved.urls), (_event_reasons, saved.reasons)):
        live.clear()
        live.update(kept)
