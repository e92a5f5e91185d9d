"""What the cases app plugs into the kernel (its job, recipe, menu entries, pages, API router and
event labels), the one table its moves are read from, the hook points it offers other apps
(category suggesters, staff case panels), and the migration that put its verbs in the past tense."""

from __future__ import annotations

import importlib
import typing
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import translation

from linli.cases import classify, jobs, services
from linli.cases.api import Action
from linli.cases.forms import MOVE_FORMS, MoveForm
from linli.cases.models import Case, Category
from linli.cases.notifications import case_messages
from linli.cases.workflow import AUDIT_EVENTS, CASE, OTHER_EVENTS, IllegalTransition
from linli.core import events, registry
from linli.core.models import Event
from linli.core.workflow import SYSTEM

# The verbs other apps rely on (notify's tables, webhooks, the demo's history).
VERBS = {
    "accept": "case.accepted", "reject": "case.rejected", "dispatch": "case.dispatched",
    "transfer": "case.transferred", "return": "case.returned", "start": "case.started",
    "contact": "case.contacted", "resolve": "case.resolved", "rate": "case.rated",
    "visit_back": "case.visited_back", "close_unrated": "case.closed_unrated", "merge": "case.merged",
}
# Moves added after the verbs' migration (0005), which renames only the verbs above.
LATER_VERBS = {"close_unresolved": "case.closed_unresolved"}
MIGRATION = importlib.import_module("linli.cases.migrations.0005_event_verbs_past_tense")


@pytest.fixture
def plugged():
    """Registrations a test adds are taken out again afterwards."""
    saved = registry.snapshot()
    yield
    registry.restore(saved)


def _submit(world, description="三号楼电梯坏了三天") -> Case:
    intake = services.Intake(community=world.community, channel=Case.Channel.WEB, description=description,
                              reporter=world.residents[0], place=Case.Place.HOME)
    return services.case_submit(actor=world.users["resident"], intake=intake)[0]


def _category(world, code="property", keywords="电梯") -> Category:
    return Category.objects.create(community=world.community, code=code, name_zh=code, name_en=code.title(),
                                   keywords=keywords)


# --- the one table ------------------------------------------------------------------------------

def test_each_move_writes_its_fixed_past_tense_verb_labelled_for_the_log_and_webhooks():
    assert {move.name: CASE.verb(move.name) for move in CASE.moves} == {**VERBS, **LATER_VERBS}
    for verb in [*VERBS.values(), *LATER_VERBS.values(), *OTHER_EVENTS]:
        assert registry.event_label(verb), verb
        assert (verb in registry.webhook_verbs()) == (verb not in AUDIT_EVENTS), verb
    assert set(OTHER_EVENTS) == {"case.submitted", "case.noted", "case.reminded", "case.marked_overdue",
                                 "case.escalated", "case.contact_revealed"}
    # A reveal of a resident's contact is an audit record: no partner's webhook receives it.
    assert AUDIT_EVENTS == {"case.contact_revealed"}


def test_pages_the_api_and_the_services_offer_exactly_the_moves_people_make():
    people = [move.name for move in CASE.moves if move.who != SYSTEM]
    assert list(typing.get_args(Action)) == people
    assert sorted(services.MOVE_SERVICES) == sorted(people)
    for name in people:
        move = CASE.table[name]
        form = MOVE_FORMS[move.form]
        assert issubclass(form, MoveForm) and move.message, name
    # The resident rates on their own page; the job alone closes unrated cases.
    assert not MOVE_FORMS[CASE.table["rate"].form].title
    assert CASE.table["close_unrated"].form == "" and "close_unrated" not in services.MOVE_SERVICES


def test_an_unknown_move_by_name_is_refused(world):
    case = _submit(world)
    with pytest.raises(IllegalTransition) as raised:
        services.case_move(actor=world.users["worker"], case=case, move="teleport")
    assert raised.value.code == "illegal_transition"


def test_a_move_s_message_is_what_the_staff_page_says_once_it_is_made(client, world):
    case = _submit(world)
    client.force_login(world.users["worker"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"/cases/console/{case.number}/reject/", {"reject-reason": "重复反映"}, follow=True)
    assert f"Case {case.number} rejected." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Case.Status.REJECTED


# --- what the app registers ---------------------------------------------------------------------

def test_the_deadline_job_and_the_pages_are_registered():
    job = next(j for j in registry.jobs() if j.name == "cases.tick")
    assert job.every_seconds == 60 and registry.resolve_job(job) is jobs.tick
    assert {(u.prefix, u.module) for u in registry.url_modules()} >= {
        ("cases/", "linli.cases.urls"), ("open311/v2/", "linli.cases.urls_open311")}
    assert "cases" in {r.name for r in registry.api_routers()}


def test_staff_see_the_cases_menu_entry_and_residents_their_own_requests(world):
    entries = {e.name: e for e in registry.menu_entries()}
    cases, mine = entries["cases"], entries["my_requests"]
    assert (cases.url_name, mine.url_name) == ("cases:staff_list", "cases:mine")
    for name in ("worker", "grid1", "unit_staff", "supervisor"):
        assert cases.visible(world.users[name]) and not mine.visible(world.users[name]), name
    assert mine.visible(world.users["resident"]) and not cases.visible(world.users["resident"])


def test_the_recipe_tells_the_resident_of_acceptance_with_a_link_to_their_request(world):
    recipe = next(r for r in registry.recipes() if r.name == "cases")
    assert recipe.matches("case.accepted") and not recipe.matches("alert.raised")
    case = _submit(world)
    services.case_accept(actor=world.users["worker"], case=case, category=_category(world))
    accepted = Event.objects.get(verb="case.accepted", target_id=str(case.pk))
    unrelated = Event.objects.filter(verb="resident.created").first()
    with translation.override("en"):
        messages = list(case_messages([unrelated, accepted]))
    assert [(event.pk, list(m.user_ids), m.title, m.url, m.community_id) for event, m in messages] == [
        (accepted.pk, [world.users["resident"].pk], f"Your request {case.number} was accepted",
         f"/cases/{case.number}/", world.community.pk)]


# --- hook points other apps fill --------------------------------------------------------------------

def test_a_registered_suggester_is_asked_before_the_keyword_rules(world, plugged):
    lift, green = _category(world), _category(world, code="greenery", keywords="草坪")
    asked = []

    def suggester(text, categories):
        asked.append((text, sorted(c.code for c in categories)))
        return classify.Suggestion(green.pk, 0.9, "learned") if "草" in text else None

    registry.register_hook(classify.SUGGESTERS, "test", suggester)
    assert classify.suggest("电梯又坏了，草坪也没人管", Category.objects.all()) == classify.Suggestion(
        green.pk, 0.9, "learned")
    # Nothing from the suggester: the keyword rules still answer.
    assert classify.suggest("电梯坏了", Category.objects.all()).category_id == lift.pk
    assert asked == [("电梯又坏了，草坪也没人管", ["greenery", "property"]), ("电梯坏了", ["greenery", "property"])]
    case = _submit(world, description="门口的草坪被踩坏了")
    assert (case.suggested_category_id, case.suggestion_source, case.category_id) == (green.pk, "learned", green.pk)


@pytest.fixture
def panel_template(settings):
    """A panel's own template, as another app would ship one."""
    engine = {**settings.TEMPLATES[0], "APP_DIRS": False}
    engine["OPTIONS"] = {**engine["OPTIONS"], "loaders": [
        ("django.template.loaders.locmem.Loader", {
            "test/panel.html": '<section class="test-panel">{{ note }} · {{ case.number }}</section>'}),
        "django.template.loaders.filesystem.Loader", "django.template.loaders.app_directories.Loader"]}
    settings.TEMPLATES = [engine]


def test_panels_other_apps_register_are_shown_on_the_staff_case_page(client, world, plugged, panel_template):
    case = _submit(world)
    registry.register_hook("cases.staff_case_panels", "test", lambda user, c: (
        {"template": "test/panel.html", "context": {"note": f"for {user.username}"}}
        if user.username == "worker" else None))
    client.force_login(world.users["worker"])
    page = client.get(f"/cases/console/{case.number}/").content.decode()
    assert f'<section class="test-panel">for worker · {case.number}</section>' in page
    client.force_login(world.users["admin"])
    assert 'class="test-panel"' not in client.get(f"/cases/console/{case.number}/").content.decode()


# --- the verbs' migration -----------------------------------------------------------------------------

def test_the_migration_puts_old_verbs_in_the_past_tense_and_back(world):
    case = _submit(world)
    old = [*MIGRATION.RENAMED, "case.submitted", "resident.created"]
    Event.objects.all().delete()
    Event.objects.bulk_create([events.build(actor=None, verb=verb, target=case) for verb in old])
    editor = SimpleNamespace(connection=connection)
    operation = MIGRATION.Migration.operations[0]

    operation.code(apps, editor)
    renamed = sorted(Event.objects.values_list("verb", flat=True))
    assert renamed == sorted([*VERBS.values(), "case.reminded", "case.marked_overdue", "case.submitted",
                              "resident.created"])
    operation.reverse_code(apps, editor)
    assert sorted(Event.objects.values_list("verb", flat=True)) == sorted(old)


def test_the_console_links_to_the_cases_desk_through_the_community_hook(world):
    from django.test import Client

    client = Client()
    client.force_login(world.users["worker"])
    page = client.get("/console/").content.decode()
    assert '<li><a href="/cases/console/">' in page
    links = [link for fn in registry.hooks("community.console_links") for link in fn(world.users["worker"])]
    # Other apps add theirs (the points and volunteers offices); the cases desk comes from cases.
    cases_links = [url for fn in registry.hooks("community.console_links") if fn.__module__.startswith("linli.cases")
                   for _label, url in fn(world.users["worker"])]
    assert cases_links == ["/cases/console/"] and "/cases/console/" in [url for _label, url in links]
