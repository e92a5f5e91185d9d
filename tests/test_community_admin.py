"""The Django admin's edits of staff roles, organisations and communities go through the
services and are audited: a role opens personal data, so every grant, change and revocation
writes one event naming the role and its scope by ids, and nothing about the account's holder."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from linli.community.models import Community, Organisation, StaffRole
from linli.community.scope import scope_of
from linli.core import registry
from linli.core.models import Event

from factories import PASSWORD

ADMIN = "/admin/community"


@pytest.fixture
def root(client, world):
    user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.login(username="root", password=PASSWORD)
    return user


def events_of(verb_prefix: str) -> list[Event]:
    return list(Event.objects.filter(verb__startswith=verb_prefix).order_by("pk"))


def role_form(world, **over) -> dict:
    data = {"user": world.users["nobody"].pk, "role": "grid_worker", "community": world.community.pk,
            "street": "", "organisation": "", "grids": [world.grids[1].pk], "buildings": [], "active": "on"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_granting_a_role_in_the_admin_is_audited(client, world, root):
    nobody = world.users["nobody"]
    response = client.post(f"{ADMIN}/staffrole/add/", role_form(world))
    assert response.status_code == 302, response.content
    role = StaffRole.objects.get(user=nobody)
    (granted,) = events_of("staff_role.")
    assert (granted.verb, granted.actor, granted.target_id) == ("staff_role.granted", root, str(role.pk))
    assert (granted.community_id, granted.street_id) == (world.community.pk, world.street.pk)
    assert granted.data == {"account": nobody.pk, "role": "grid_worker", "active": True,
                            "community": world.community.pk, "street": None, "organisation": None,
                            "grids": [world.grids[1].pk], "buildings": []}
    # The grant did what it says: the account now sees the courtyard's registry.
    assert scope_of(get_user_model().objects.get(pk=nobody.pk)).grids == {world.grids[1].pk}
    assert nobody.username not in repr(granted.data)


def test_changing_a_role_in_the_admin_is_audited_with_the_fields_changed(client, world, root):
    role = StaffRole.objects.get(user=world.users["grid1"])
    url = f"{ADMIN}/staffrole/{role.pk}/change/"
    unchanged = role_form(world, user=role.user_id, grids=[world.grids[0].pk])
    assert client.post(url, unchanged).status_code == 302
    assert events_of("staff_role.") == []   # saved as it was: nothing happened
    both = [world.grids[0].pk, world.grids[1].pk]
    assert client.post(url, role_form(world, user=role.user_id, grids=both, active=None)).status_code == 302
    (changed,) = events_of("staff_role.")
    assert changed.verb == "staff_role.changed"
    assert changed.data["fields"] == ["active", "grids"]
    assert (changed.data["active"], changed.data["grids"]) == (False, sorted(both))


def test_revoking_a_role_in_the_admin_is_audited(client, world, root):
    role = StaffRole.objects.get(user=world.users["supervisor"])
    response = client.post(f"{ADMIN}/staffrole/{role.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not StaffRole.objects.filter(pk=role.pk).exists()
    (revoked,) = events_of("staff_role.")
    assert (revoked.verb, revoked.target_id) == ("staff_role.revoked", str(role.pk))
    # A street supervisor's role: the event is the street's.
    assert (revoked.community_id, revoked.street_id) == (None, world.street.pk)
    assert revoked.data["role"] == "street_supervisor" and revoked.data["street"] == world.street.pk


def test_deleting_roles_in_bulk_writes_one_event_each(client, world, root):
    roles = list(StaffRole.objects.filter(user__username__in=["grid1", "grid2"]).values_list("pk", flat=True))
    response = client.post(f"{ADMIN}/staffrole/", {"action": "delete_selected", "_selected_action": roles,
                                                   "post": "yes"})
    assert response.status_code == 302
    assert sorted(int(e.target_id) for e in events_of("staff_role.revoked")) == sorted(roles)
    assert not StaffRole.objects.filter(pk__in=roles).exists()


def test_organisation_edits_in_the_admin_are_audited(client, world, root):
    form = {"kind": "partner", "name": "邻里公益社", "community": world.community.pk, "street": world.street.pk,
            "parent": "", "grids": [world.grids[0].pk]}
    assert client.post(f"{ADMIN}/organisation/add/", form).status_code == 302
    organisation = Organisation.objects.get(name="邻里公益社")
    assert client.post(f"{ADMIN}/organisation/{organisation.pk}/change/", dict(form, name="邻里公益服务社")
                       ).status_code == 302
    assert client.post(f"{ADMIN}/organisation/{organisation.pk}/delete/", {"post": "yes"}).status_code == 302
    created, changed, deleted = events_of("organisation.")
    assert [e.verb for e in (created, changed, deleted)] == [
        "organisation.created", "organisation.changed", "organisation.deleted"]
    assert created.data == {"kind": "partner", "community": world.community.pk, "street": world.street.pk,
                            "parent": None, "grids": [world.grids[0].pk]}
    assert changed.data["fields"] == ["name"]
    assert {e.target_id for e in (created, changed, deleted)} == {str(organisation.pk)}
    assert not Organisation.objects.filter(pk=organisation.pk).exists()


def test_community_edits_in_the_admin_are_audited(client, world, root):
    # "initial-boundary": the hidden initial value the admin's page posts for a field with a callable default.
    form = {"street": world.street.pk, "code": "X", "name": "X社区", "latitude": "", "longitude": "",
            "boundary": "[]", "initial-boundary": "[]"}
    assert client.post(f"{ADMIN}/community/add/", form).status_code == 302
    community = Community.objects.get(code="X")
    assert client.post(f"{ADMIN}/community/{community.pk}/change/", dict(form, latitude="30.7")).status_code == 302
    assert client.post(f"{ADMIN}/community/{community.pk}/delete/", {"post": "yes"}).status_code == 302
    created, changed, deleted = events_of("community.")
    assert [e.verb for e in (created, changed, deleted)] == [
        "community.created", "community.changed", "community.deleted"]
    assert created.data == {"code": "X", "street": world.street.pk}
    assert changed.data == {"code": "X", "street": world.street.pk, "fields": ["latitude"]}
    assert {e.community_id for e in (created, changed, deleted)} == {community.pk}


def test_the_admin_events_have_labels(world):
    from django.utils import translation

    with translation.override("en"):
        assert str(registry.event_label("staff_role.granted")) == "granted a staff role"
        assert str(registry.event_label("staff_role.revoked")) == "revoked a staff role"
        assert str(registry.event_label("community.changed")) == "changed a community"
