"""The community map in the system's Chromium (never a downloaded one), at phone width with
touch: a resident chooses "a point on the map", taps inside a courtyard, reads its name,
is stopped before sending a point outside the community, sends the request, and finds
the point on the small map of the case page; the worker sees it too.

World's Y is given the demo community's code and real outline (the `mapped` fixture of
tests/test_map.py), so its street file is drawn. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_cases_browser import PHONE, click_and_load, fits_the_phone, new_page, shot, sign_in
from tests.test_map import mapped  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def tap_at_label(page, text):
    """Tap the map where a courtyard's label sits (its interior point): labels let taps through."""
    page.locator(".place-map .map-canvas").scroll_into_view_if_needed()
    box = page.locator(".place-map .map-label.yard span", has_text=text).bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_resident_picks_a_point_on_the_map(transactional_db, live_server, mapped, browser, media):  # noqa: F811
    from linli.cases.models import Case
    from linli.cases.places import grid_at

    grid = mapped.grids[0]
    base = live_server.url
    context, page = new_page(browser, **PHONE)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        sign_in(page, base, "resident")
        page.goto(f"{base}/cases/new/")
        page.fill("#id_description", "The street lamp by the gate has been dark for a week.")
        assert page.locator(".place-map").is_hidden()  # nothing loads until the map is wanted
        assert page.evaluate("typeof window.L") == "undefined"
        page.check("#id_place_2")  # a point on the map
        page.locator(".place-map .leaflet-container").wait_for(state="visible")
        page.locator(".place-map .map-label.yard span").first.wait_for()
        assert page.locator(".place-map .map-label.yard").count() == 11
        attribution = page.inner_text(".place-map .leaflet-control-attribution")
        assert "OpenStreetMap contributors" in attribution and "ODbL" in attribution
        assert page.locator(".place-map .leaflet-tile").count() == 0  # no tiles, nothing from outside

        tap_at_label(page, grid.name)
        page.locator(".place-map img.leaflet-marker-icon").wait_for()
        status = page.locator(".map-status")
        assert status.inner_text() == f"Courtyard: {grid.name}"
        lat, lon = page.input_value("#id_latitude"), page.input_value("#id_longitude")
        assert len(lat.split(".")[1]) == 6 and len(lon.split(".")[1]) == 6
        assert grid_at(mapped.community, float(lat), float(lon)) == grid  # the server agrees
        assert fits_the_phone(page)
        page.locator(".place-map").screenshot(path=str(ARTIFACTS / "map-01-phone-point-in-courtyard.png"))
        shot(page, "map-02-phone-report-form")

        # Closer in, the street names appear.
        assert page.locator(".place-map .map-label.street span").count() == 0
        page.tap(".place-map .leaflet-control-zoom-in")
        page.wait_for_function("Array.prototype.some.call(document.querySelectorAll("
                               "'.place-map .map-label.street span'), function (s) {"
                               " return s.style.visibility !== 'hidden'; })")
        page.wait_for_timeout(400)  # the zoom animation
        page.locator(".place-map").screenshot(path=str(ARTIFACTS / "map-05-phone-zoomed-in.png"))

        # Typed coordinates outside the community: said at once, and the form is not sent.
        page.fill("#id_latitude", "30.700000")
        page.fill("#id_longitude", "104.000000")
        assert status.inner_text() == "This point is outside the community."
        assert "error" in status.get_attribute("class")
        page.click("form.intake button.primary")
        page.wait_for_timeout(300)
        assert page.url == f"{base}/cases/new/" and Case.objects.count() == 0

        # Back inside: zoom out to see the whole community, tap the courtyard again, send.
        page.tap(".place-map .leaflet-control-zoom-out")
        page.wait_for_timeout(400)
        tap_at_label(page, grid.name)
        assert status.inner_text() == f"Courtyard: {grid.name}"
        lat, lon = page.input_value("#id_latitude"), page.input_value("#id_longitude")
        click_and_load(page, "form.intake button.primary")
        case = Case.objects.get()
        assert page.url == f"{base}/cases/{case.number}/"
        assert (case.place, case.grid, case.latitude, case.longitude) == ("point", grid, float(lat), float(lon))

        # The case page shows the point on a small map.
        page.locator(".place-map.readonly img.leaflet-marker-icon").wait_for()
        assert "OpenStreetMap contributors" in page.inner_text(".place-map.readonly .leaflet-control-attribution")
        assert fits_the_phone(page)
        shot(page, "map-03-phone-case-page")
        # the offline rule: nothing was fetched from anywhere but this server
        assert f"{base}/map/{mapped.community.code}.json" in requested
        assert [url for url in requested if not url.startswith(base + "/") and not url.startswith("data:")] == []
    finally:
        context.close()

    context, page = new_page(browser, viewport={"width": 1280, "height": 860})
    try:
        sign_in(page, base, "worker")
        page.goto(f"{base}/cases/console/{case.number}/")
        page.locator(".place-map.readonly img.leaflet-marker-icon").wait_for()
        shot(page, "map-04-staff-case-page")
    finally:
        context.close()


def test_without_an_outline_the_fields_work_alone(transactional_db, live_server, world, browser, media):
    """World's Y as it is: no boundary and no courtyard outlines. No map; the point typed
    into the fields is filed by the server (here: outside, so an error on the form)."""
    base = live_server.url
    context, page = new_page(browser, **PHONE)
    try:
        sign_in(page, base, "resident")
        page.goto(f"{base}/cases/new/")
        page.fill("#id_description", "The street lamp by the gate has been dark for a week.")
        page.check("#id_place_2")
        page.wait_for_function("typeof window.L !== 'undefined'")
        page.wait_for_timeout(300)
        assert page.locator(".place-map").is_hidden()
        assert page.locator("#id_latitude").is_visible()
        page.fill("#id_latitude", "30.7")
        page.fill("#id_longitude", "104.05")
        click_and_load(page, "form.intake button.primary")
        assert "This point is outside the community." in page.inner_text("form.intake")
    finally:
        context.close()


def test_the_staff_intake_form_shows_the_map_of_its_community(transactional_db, live_server, mapped,  # noqa: F811
                                                              browser, media):
    from linli.cases.places import grid_at

    base = live_server.url
    context, page = new_page(browser, viewport={"width": 1280, "height": 860})
    try:
        sign_in(page, base, "worker")
        page.goto(f"{base}/cases/console/new/")
        page.check("#id_intake-place_2")  # a point on the map
        page.locator(".place-map .map-label.yard span").first.wait_for()
        assert page.locator(".place-map .map-label.yard").count() == 11
        page.locator(".place-map .map-canvas").click()  # the centre of the community
        lat, lon = float(page.input_value("#id_intake-latitude")), float(page.input_value("#id_intake-longitude"))
        filed = grid_at(mapped.community, lat, lon)  # what the server will say
        assert filed is not None and filed.name in page.inner_text(".map-status")
        shot(page, "map-06-staff-intake")
    finally:
        context.close()


def test_use_my_location_moves_the_marker_and_names_the_courtyard(transactional_db, live_server, mapped,  # noqa: F811
                                                                  browser, media):
    """One geolocation request (cases.js's), and the map follows the fields it fills."""
    grid = mapped.grids[1]
    context, page = new_page(browser, **PHONE, geolocation={"latitude": grid.latitude, "longitude": grid.longitude},
                             permissions=["geolocation"])
    try:
        sign_in(page, live_server.url, "resident")
        page.goto(f"{live_server.url}/cases/new/")
        page.check("#id_place_2")
        page.locator(".place-map .map-label.yard span").first.wait_for()
        page.click("button.locate")
        page.locator(".place-map img.leaflet-marker-icon").wait_for()
        assert page.locator(".map-status").inner_text() == f"Courtyard: {grid.name}"
        assert float(page.input_value("#id_latitude")) == pytest.approx(grid.latitude, abs=1e-6)
    finally:
        context.close()
