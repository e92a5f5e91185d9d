"""The community map: its JSON endpoint (/map/<code>.json: who may read it, what it holds,
caching), the pages that show it, and the shipped street file of the demo community
(linli/community/data/y_streets.json, made by tools/extract_y_streets.py).

The determinism check re-runs the extraction and only runs where the OpenStreetMap
extract (../shared/data/osm/, outside the repository) is present.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from linli.cases import services
from linli.cases.models import Case
from linli.demo.community import COMMUNITY_CODE
from linli.community.models import Community, Grid

from factories import _user

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT / "linli" / "community" / "data"
STREETS_JSON = DATA / "y_streets.json"
COMMUNITY_JSON = DATA / "y_community.json"
SCRIPT = REPO_ROOT / "tools" / "extract_y_streets.py"
PBF = REPO_ROOT.parent / "shared" / "data" / "osm" / "chengdu-central-2018.osm.pbf"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def mapped(world):
    """World's Y given the demo community's code and real outline (so the street file
    belongs to it): its boundary, and the eleven real courtyards (G01, G02 are world's)."""
    doc = load(COMMUNITY_JSON)
    y = world.community
    y.code = COMMUNITY_CODE
    y.boundary = doc["community"]["boundary"]
    y.latitude, y.longitude = doc["community"]["center"]
    y.save()
    for grid, yard in zip(world.grids, doc["courtyards"]):
        grid.name, grid.boundary = yard["name"], yard["boundary"]
        grid.latitude, grid.longitude = yard["center"]
        grid.save()
    for yard in doc["courtyards"][len(world.grids):]:  # the other nine, without buildings
        Grid.objects.create(community=y, code=yard["code"], name=yard["name"], boundary=yard["boundary"],
                            latitude=yard["center"][0], longitude=yard["center"][1])
    return world


def url(community: Community) -> str:
    return f"/map/{community.code}.json"


def read(client, world, who, community):
    if who == "anonymous":
        client.logout()
    else:
        client.force_login(world.users[who])
    return client.get(url(community), **EN)


# --- who may read it --------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["resident", "admin", "worker", "grid1", "secretary", "leader", "unit_staff",
                                 "supervisor"])
def test_the_community_and_its_staff_read_the_map(client, mapped, who):
    response = read(client, mapped, who, mapped.community)
    assert response.status_code == 200, who
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == COMMUNITY_CODE


@pytest.mark.parametrize("who", ["z_worker", "nobody", "anonymous"])
def test_others_get_a_404(client, mapped, who):
    response = read(client, mapped, who, mapped.community)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Unknown community.", "field": None}
    assert "no-store" in response["Cache-Control"]


def test_a_resident_of_another_community_gets_a_404_and_cannot_tell_it_exists(client, mapped):
    z_user = _user("z_resident")
    mapped.other_resident.user = z_user
    mapped.other_resident.save(update_fields=["user"])
    client.force_login(z_user)
    refused = client.get(url(mapped.community), **EN)
    unknown = client.get("/map/NO-SUCH-CODE.json", **EN)
    assert refused.status_code == unknown.status_code == 404
    assert refused.content == unknown.content
    assert client.get(url(mapped.other_community), **EN).status_code == 200
    # and Y's resident cannot read Z's
    client.force_login(mapped.users["resident"])
    assert client.get(url(mapped.other_community), **EN).status_code == 404


def test_anonymous_visitors_read_it_only_where_anonymous_reports_are_taken(client, mapped, settings):
    settings.LINLI_ANONYMOUS_INTAKE = False
    assert client.get(url(mapped.community)).status_code == 404
    settings.LINLI_ANONYMOUS_INTAKE = True
    response = client.get(url(mapped.community))
    assert response.status_code == 200
    assert response.json()["courtyards"]
    assert client.get("/map/NO-SUCH-CODE.json").status_code == 404


def test_only_get_and_head(client, mapped):
    client.force_login(mapped.users["resident"])
    assert client.post(url(mapped.community)).status_code == 405
    assert client.head(url(mapped.community)).status_code == 200


# --- what it holds ----------------------------------------------------------------------------

def test_the_layers_of_the_demo_community(client, mapped):
    response = read(client, mapped, "resident", mapped.community)
    data = response.json()
    doc = load(COMMUNITY_JSON)
    assert data["boundary"] == doc["community"]["boundary"]
    assert data["center"] == doc["community"]["center"]
    assert [(c["code"], c["name"]) for c in data["courtyards"]] == [(y["code"], y["name"]) for y in doc["courtyards"]]
    assert data["courtyards"][0]["id"] == mapped.grids[0].pk
    assert data["courtyards"][0]["boundary"] == doc["courtyards"][0]["boundary"]
    assert data["courtyards"][0]["center"] == doc["courtyards"][0]["center"]
    streets = load(STREETS_JSON)
    assert len(data["streets"]) == len(streets["streets"])
    assert data["streets"][0] == {k: streets["streets"][0][k] for k in ("name", "class", "lines")}
    assert [f["name"] for f in data["features"]] == [f["name"] for f in streets["features"]]
    assert data["attribution"] == ATTRIBUTION


def test_another_community_has_its_courtyards_only(client, mapped):
    z = mapped.other_community
    data = read(client, mapped, "z_worker", z).json()
    assert data["code"] == "Z"
    assert [c["code"] for c in data["courtyards"]] == ["G01"]
    assert data["boundary"] == [] and data["center"] is None
    assert data["streets"] == [] and data["features"] == [] and data["attribution"] == ""


def test_a_malformed_stored_boundary_is_left_out_not_passed_on(client, mapped):
    Grid.objects.filter(pk=mapped.grids[1].pk).update(boundary=[[30.7, "east"], [1, 2]])
    data = read(client, mapped, "resident", mapped.community).json()
    assert data["courtyards"][1]["boundary"] == []


def test_no_personal_data_in_the_map(client, mapped):
    response = read(client, mapped, "admin", mapped.community)
    data = response.json()
    assert set(data) == {"code", "name", "boundary", "center", "courtyards", "streets", "features", "attribution"}
    assert all(set(c) == {"id", "code", "name", "boundary", "center"} for c in data["courtyards"])
    assert all(set(s) == {"name", "class", "lines"} for s in data["streets"])
    assert all(set(f) == {"kind", "name", "point"} for f in data["features"])
    body = response.content.decode()
    for resident in mapped.residents:
        for value in (resident.name, resident.phone, resident.id_number, resident.address):
            assert str(value) not in body
    assert "household" not in body and "resident" not in body and "phone" not in body


def test_cached_privately_for_a_few_minutes_and_revalidated_by_etag(client, mapped):
    first = read(client, mapped, "resident", mapped.community)
    cache = {part.strip() for part in first["Cache-Control"].split(",")}
    assert cache == {"private", "max-age=300"}
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = client.get(url(mapped.community), HTTP_IF_NONE_MATCH=etag, **EN)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    # a change to a courtyard changes the tag
    Grid.objects.filter(pk=mapped.grids[0].pk).update(name="新名字")
    changed = client.get(url(mapped.community), HTTP_IF_NONE_MATCH=etag, **EN)
    assert changed.status_code == 200 and changed["ETag"] != etag


# --- the pages --------------------------------------------------------------------------------

def test_the_report_form_offers_the_map_and_keeps_the_fields(client, mapped):
    client.force_login(mapped.users["resident"])
    page = client.get("/cases/new/", **EN).content.decode()
    assert f'data-map-url="/map/{COMMUNITY_CODE}.json"' in page
    assert 'data-map="picker"' in page and "/static/linli/map.js" in page
    assert "/static/vendor/leaflet/leaflet.js" in page and "/static/vendor/leaflet/leaflet.css" in page
    assert 'data-text-outside="This point is outside the community."' in page
    assert 'name="latitude"' in page and 'name="longitude"' in page  # without script, as before


def test_the_staff_form_names_the_map_of_each_community(client, mapped):
    client.force_login(mapped.users["worker"])
    page = client.get("/cases/console/new/", **EN).content.decode()
    assert (f'data-community="{mapped.community.pk}" data-map-url="/map/{COMMUNITY_CODE}.json"') in page


def _point_case(world, lat, lon):
    case, _created = services.case_submit(actor=world.users["resident"], intake=services.Intake(
        community=world.community, channel=Case.Channel.WEB, description="路灯坏了，晚上很黑",
        reporter=world.residents[0], place=Case.Place.POINT, latitude=lat, longitude=lon))
    return case


def test_the_case_pages_show_a_point_on_a_small_map(client, mapped):
    lat, lon = load(COMMUNITY_JSON)["courtyards"][0]["center"]
    case = _point_case(mapped, lat, lon)
    assert case.grid == mapped.grids[0]
    client.force_login(mapped.users["resident"])
    mine = client.get(f"/cases/{case.number}/", **EN).content.decode()
    assert f'data-point="{lat:.6f},{lon:.6f}"' in mine and 'data-map="view"' in mine
    client.force_login(mapped.users["worker"])
    staff = client.get(f"/cases/console/{case.number}/", **EN).content.decode()
    assert f'data-point="{lat:.6f},{lon:.6f}"' in staff


def test_no_map_on_a_case_without_a_point(client, mapped):
    case, _created = services.case_submit(actor=mapped.users["resident"], intake=services.Intake(
        community=mapped.community, channel=Case.Channel.WEB, description="楼道灯坏了很久了",
        reporter=mapped.residents[0], place=Case.Place.GRID, grid=mapped.grids[1]))
    client.force_login(mapped.users["resident"])
    page = client.get(f"/cases/{case.number}/", **EN).content.decode()
    assert 'data-map="view"' not in page and "map.js" not in page


# --- the shipped street file ------------------------------------------------------------------

@pytest.fixture(scope="module")
def streets() -> dict:
    return load(STREETS_JSON)


def test_street_file_carries_its_source_and_licence(streets):
    assert streets["attribution"] == ATTRIBUTION
    assert streets["source"] == PBF.name
    assert "tools/extract_y_streets.py" in streets["method"]
    assert streets["community_code"] == COMMUNITY_CODE
    assert STREETS_JSON.stat().st_size < 300_000


def _metres(a, b) -> float:
    dy = (b[0] - a[0]) * 110_574
    dx = (b[1] - a[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def test_streets_and_landmarks_lie_around_the_community(streets):
    boundary = load(COMMUNITY_JSON)["community"]["boundary"]
    south, north = min(p[0] for p in boundary), max(p[0] for p in boundary)
    west, east = min(p[1] for p in boundary), max(p[1] for p in boundary)
    margin = streets["area"]["margin_m"]
    assert 100 <= margin <= 200

    def near(point) -> bool:
        """Within the community rectangle grown by the margin on each side (1 m of slack:
        rounding to 6 decimals moves a point by ~0.1 m)."""
        lat = min(max(point[0], south), north)
        lon = min(max(point[1], west), east)
        return (_metres((lat, point[1]), point) <= margin + 1
                and _metres((point[0], lon), point) <= margin + 1)

    points = [p for s in streets["streets"] for line in s["lines"] for p in line]
    assert len(streets["streets"]) >= 20 and len(points) >= 200
    assert all(near(p) for p in points)
    assert all(len(line) >= 2 for s in streets["streets"] for line in s["lines"])
    assert {s["class"] for s in streets["streets"]} <= {"major", "minor", "path"}
    # the named roads that cross the community (per the community extract) are all drawn
    names = {s["name"] for s in streets["streets"]}
    assert set(load(COMMUNITY_JSON)["community"]["roads"]) <= names
    assert streets["features"] and all(near(f["point"]) and f["name"] for f in streets["features"])
    assert {f["kind"] for f in streets["features"]} <= {"school", "hospital", "market", "park"}


def test_street_extraction_is_deterministic(tmp_path):
    if not PBF.is_file():
        pytest.skip(f"OSM extract not available at {PBF}: determinism check skipped")
    pytest.importorskip("osmium", reason="pyosmium not installed: determinism check skipped")
    out = tmp_path / "y_streets.json"
    subprocess.run([sys.executable, str(SCRIPT), "--pbf", str(PBF), "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    assert out.read_bytes() == STREETS_JSON.read_bytes(), (
        "re-running tools/extract_y_streets.py gave different JSON; if the script or "
        "y_community.json was changed on purpose, regenerate linli/community/data/y_streets.json")
