"""The shipped map of the demo community "Y社区" (linli/community/data/y_community.json).

Plain pytest, no Django. The JSON is made from a real OpenStreetMap extract by
tools/extract_y_community.py; the determinism check re-runs that script and only runs
where the extract (../shared/data/osm/, outside the repository) is present.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MAP_JSON = REPO_ROOT / "linli" / "community" / "data" / "y_community.json"
SCRIPT = REPO_ROOT / "tools" / "extract_y_community.py"
PBF = REPO_ROOT.parent / "shared" / "data" / "osm" / "chengdu-central-2018.osm.pbf"

# Central Chengdu, generously: every coordinate in the file must fall in here.
LAT_RANGE = (30.60, 30.75)
LON_RANGE = (104.00, 104.12)


def point_in_polygon(point, ring) -> bool:
    """Even-odd ray casting on [lat, lon] pairs; the ring may be open or closed."""
    y, x = point
    inside = False
    n = len(ring)
    for i in range(n):
        y1, x1 = ring[i]
        y2, x2 = ring[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(MAP_JSON.read_text(encoding="utf-8"))


def all_coordinates(doc):
    c = doc["community"]
    yield c["center"]
    yield from c["boundary"]
    for yard in doc["courtyards"]:
        yield yard["center"]
        yield from yard["boundary"]
        for b in yard["buildings"]:
            yield b["position"]


def test_attribution_and_size(doc):
    assert doc["attribution"] == "© OpenStreetMap contributors, ODbL 1.0"
    assert "OpenStreetMap" in doc["attribution"] and "ODbL" in doc["attribution"]
    assert doc["source"] == PBF.name
    assert doc["method"]
    assert MAP_JSON.stat().st_size < 200_000


def test_community(doc):
    c = doc["community"]
    assert c["name"] == "Y社区"
    assert 3.0 <= c["area_km2"] <= 4.2
    assert len(c["boundary"]) >= 3
    assert point_in_polygon(c["center"], c["boundary"])


def test_eleven_courtyards_with_codes(doc):
    codes = [y["code"] for y in doc["courtyards"]]
    assert codes == [f"G{i:02d}" for i in range(1, 12)]
    names = [y["name"] for y in doc["courtyards"]]
    assert all(names) and len(set(names)) == 11


def test_building_counts(doc):
    counts = [len(y["buildings"]) for y in doc["courtyards"]]
    assert all(10 <= n <= 20 for n in counts), counts
    assert 140 <= sum(counts) <= 180


def test_buildings_inside_their_courtyard(doc):
    for yard in doc["courtyards"]:
        assert point_in_polygon(yard["center"], yard["boundary"]), yard["code"]
        for b in yard["buildings"]:
            assert point_in_polygon(b["position"], yard["boundary"]), (yard["code"], b)
            # a real building carries its OSM id, a synthetic one none
            assert (b["osm_id"] is None) == b["synthetic"], (yard["code"], b)
            if b["osm_id"]:
                assert b["osm_id"].startswith("way/")


def test_courtyards_inside_community(doc):
    boundary = doc["community"]["boundary"]
    for yard in doc["courtyards"]:
        inside = sum(point_in_polygon(p, boundary) for p in yard["boundary"])
        assert inside >= 0.9 * len(yard["boundary"]), yard["code"]


def test_coordinates_in_central_chengdu(doc):
    for lat, lon in all_coordinates(doc):
        assert LAT_RANGE[0] <= lat <= LAT_RANGE[1], (lat, lon)
        assert LON_RANGE[0] <= lon <= LON_RANGE[1], (lat, lon)
        # rounded to 6 decimals
        assert round(lat, 6) == lat and round(lon, 6) == lon


def test_extraction_is_deterministic(tmp_path):
    if not PBF.is_file():
        pytest.skip(f"OSM extract not available at {PBF}: determinism check skipped")
    pytest.importorskip("osmium", reason="pyosmium not installed: determinism check skipped")
    out = tmp_path / "y_community.json"
    subprocess.run([sys.executable, str(SCRIPT), "--pbf", str(PBF), "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    assert out.read_bytes() == MAP_JSON.read_bytes(), (
        "re-running tools/extract_y_community.py gave different JSON; if the script was "
        "changed on purpose, regenerate linli/community/data/y_community.json with it")
