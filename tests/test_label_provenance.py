"""Only a category a person chose or confirmed is a label (issue 8, B d).

Intake used to mark confidently auto-classified cases as confirmed (category set, not waiting
for triage), and the retraining job then trained and validated on the model's own predictions.
Each case now keeps who or what set its category (``Case.category_source``); training and the
fixed validation split take only human labels."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone, translation

from linli.cases import services as case_services
from linli.cases.models import Case, Category
from linli.insight import jobs, services

S = Case.CategorySource


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _categories(community) -> dict[str, Category]:
    """Three categories whose keywords let the rule-based suggester classify confidently."""
    spec = {"property": ("物业", "电梯\n门禁"), "environment": ("环境", "垃圾\n噪音"), "traffic": ("交通", "停车\n红绿灯")}
    return {code: Category.objects.create(community=community, code=code, name_zh=zh, name_en=code, keywords=kw)
            for code, (zh, kw) in spec.items()}


def _submit(world, description, *, actor="resident", channel="web", category=None):
    intake = case_services.Intake(community=world.community, channel=channel, description=description,
                                  category=category, place="grid", grid=world.grids[0],
                                  reporter=world.residents[0] if actor == "resident" else None,
                                  contact_phone="" if actor == "resident" else "13800001111")
    case, _created = case_services.case_submit(actor=world.users[actor], intake=intake)
    return case


def test_a_confident_machine_category_is_not_a_label(world):
    _categories(world.community)
    case = _submit(world, "电梯坏了三天，没有人来修")
    # The keyword rules set the category on their own: the case goes straight to acceptance…
    assert case.category.code == "property" and case.needs_triage is False
    # …but that category is the machine's, and no training or validation takes it.
    assert case.category_source == S.KEYWORDS
    assert list(services.confirmed_cases(world.community)) == []


def test_a_category_chosen_at_intake_records_who_chose_it(world):
    categories = _categories(world.community)
    by_resident = _submit(world, "楼下一直有人乱停车", category=categories["traffic"])
    by_staff = _submit(world, "来电反映楼下垃圾没人清运", actor="worker", channel="phone",
                       category=categories["environment"])
    untriaged = _submit(world, "想问一下这个月的活动安排")
    assert by_resident.category_source == S.RESIDENT
    assert by_staff.category_source == S.STAFF_INTAKE
    assert (untriaged.category_id, untriaged.needs_triage, untriaged.category_source) == (None, True, S.NONE)
    labelled = {pk for pk, _d, _c in services.confirmed_cases(world.community)}
    assert labelled == {by_resident.pk, by_staff.pk}


def test_staff_accepting_confirms_the_machine_category(world):
    categories = _categories(world.community)
    case = _submit(world, "电梯门禁坏了")
    assert case.category_source == S.KEYWORDS
    # Accepting through the API without a category leaves the machine's category unconfirmed.
    case = case_services.case_accept(actor=world.users["worker"], case=case)
    case.refresh_from_db()
    assert case.category_source == S.KEYWORDS

    other = _submit(world, "电梯又坏了")
    # The accept form always shows the category: staff keeping or changing it confirm it.
    other = case_services.case_accept(actor=world.users["worker"], case=other, category=categories["environment"])
    other.refresh_from_db()
    assert (other.category.code, other.category_source) == ("environment", S.STAFF_ACCEPT)
    assert [pk for pk, _d, _c in services.confirmed_cases(world.community)] == [other.pk]


def _bulk(community, categories, n, *, source, start=0):
    now = timezone.now()
    words = {"property": "电梯坏了没人修", "environment": "垃圾没人清运很臭", "traffic": "路口乱停车堵路"}
    for i in range(n):
        code = list(words)[i % 3]
        Case.objects.create(community=community, number=f"{community.code}-L-{start + i:05d}",
                            channel=Case.Channel.WEB, description=f"{words[code]}，第{start + i}次反映",
                            category=categories[code], category_source=source,
                            created_at=now - dt.timedelta(minutes=i))


def test_training_and_validation_take_only_human_labels(world):
    y = world.community
    categories = _categories(y)
    _bulk(y, categories, 60, source=S.CLASSIFIER)
    _bulk(y, categories, 30, source=S.KEYWORDS, start=100)
    # Machine categories alone: nothing to train on, and the daily job does not even look.
    assert services.training_split(y) == ([], [])
    assert jobs.retrain(y.pk) == {"trained": 0, "skipped": "too_few_cases"}
    assert jobs.retrain_all()["communities"] == 0

    _bulk(y, categories, 45, source=S.STAFF_ACCEPT, start=200)
    human = set(Case.objects.filter(category_source=S.STAFF_ACCEPT).values_list("description", flat=True))
    train, validation = services.training_split(y)
    assert len(train) + len(validation) == 45
    assert {text for (_title, text), _c in train + validation} == human
    # The validation split is fixed: the same cases, by a hash of the case, every time.
    expected = {pk for pk in Case.objects.filter(category_source=S.STAFF_ACCEPT).values_list("pk", flat=True)
                if services.in_validation_split(pk)}
    assert len(validation) == len(expected) and services.training_split(y)[1] == validation
    version = services.classifier_train_from_cases(actor=None, community=y)
    assert version.trained_on == len(train)


def test_the_migration_backfills_conservatively(world):
    y = world.community
    categories = _categories(y)
    now = timezone.now()
    prop, env = categories["property"], categories["environment"]

    def case(n, **fields):
        return Case.objects.create(community=y, number=f"Y-M-{n}", channel=fields.pop("channel", "web"),
                                   description="电梯坏了很久", created_at=now, **fields)

    machine_accepted = case(1, category=prop, suggested_category=prop, suggestion_source="model v3",
                            suggestion_confidence=0.9, accepted_at=now)
    keywords = case(2, category=prop, suggested_category=prop, suggestion_source="keywords",
                    suggestion_confidence=0.8)
    recategorised = case(3, category=env, suggested_category=prop, suggestion_source="keywords", accepted_at=now)
    resident = case(4, category=env)
    staff = case(5, category=env, channel="phone")
    partner = case(6, category=env, channel="api")
    untriaged = case(7, needs_triage=True)
    Case.objects.update(category_source="")

    migration = importlib.import_module("linli.cases.migrations.0007_case_category_source")
    migration.backfill(apps, None)
    got = dict(Case.objects.values_list("pk", "category_source"))
    assert got == {machine_accepted.pk: "classifier", keywords.pk: "keywords", recategorised.pk: "staff_accept",
                   resident.pk: "resident", staff.pk: "staff_intake", partner.pk: "partner", untriaged.pk: ""}
