"""Large-text mode (MIIT 适老化): one button in the header of every page, a cookie that
works before signing in, and a way back that never leaves the site."""

from __future__ import annotations

import pytest

from linli.core.views import TEXT_SIZE_COOKIE

pytestmark = pytest.mark.django_db


def test_every_page_offers_large_text_and_it_starts_off(client, world):
    client.force_login(world.users["resident"])
    page = client.get("/me/").content.decode()
    assert 'name="size" value="large"' in page
    assert 'class="text-large"' not in page


def test_switching_on_sets_a_cookie_and_the_page_grows(client, world):
    client.force_login(world.users["resident"])
    response = client.post("/text-size/", {"size": "large", "next": "/me/"})
    assert response.status_code == 302 and response["Location"] == "/me/"
    cookie = response.cookies[TEXT_SIZE_COOKIE]
    assert cookie.value == "large" and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/me/").content.decode()
    assert '<html lang="zh-hans" class="text-large">' in page
    # The same button now switches it off again, and says it is pressed.
    assert 'name="size" value="normal" aria-pressed="true"' in page
    client.post("/text-size/", {"size": "normal", "next": "/me/"})
    assert 'class="text-large"' not in client.get("/me/").content.decode()


def test_it_works_before_signing_in(client):
    response = client.post("/text-size/", {"size": "large", "next": "/accounts/login/"})
    assert response["Location"] == "/accounts/login/"
    assert 'class="text-large"' in client.get("/accounts/login/").content.decode()


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/x", "javascript:alert(1)", ""])
def test_the_way_back_stays_on_the_site(client, target):
    response = client.post("/text-size/", {"size": "large", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_unknown_size_changes_nothing(client):
    response = client.post("/text-size/", {"size": "huge", "next": "/"})
    assert response.status_code == 302 and TEXT_SIZE_COOKIE not in response.cookies


def test_only_post_switches(client):
    assert client.get("/text-size/?size=large").status_code == 405
