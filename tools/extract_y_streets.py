#!/usr/bin/env python
"""Extract the streets and landmarks around the demo community "Y社区" for its map.

Usage (from the repository root)::

    .venv/bin/python tools/extract_y_streets.py [--pbf PATH] [--community PATH] [--out PATH]

Defaults: ``../shared/data/osm/chengdu-central-2018.osm.pbf`` (relative to the
repository root), ``linli/community/data/y_community.json`` (made by
tools/extract_y_community.py: only its community rectangle is read) and
``linli/community/data/y_streets.json``.

What it does, deterministically (same pbf and rectangle in, byte-identical JSON out):

1. The area: the community rectangle of ``y_community.json`` grown by MARGIN_M on every
   side, so that the streets bounding the community are drawn whole and a point just
   outside it still has context on the map.
2. Streets: every ``highway=*`` way with at least one segment in the area, clipped to it
   (Liang–Barsky, segment by segment; a way that leaves and re-enters gives several
   lines). Each keeps its Chinese name (as in extract_y_community.py; null when unnamed),
   its ``highway`` value and a drawing class: ``major`` (motorway, trunk, primary,
   secondary and their links), ``minor`` (tertiary, residential, unclassified, living
   street, road) or ``path`` (everything else: service roads, footways, steps...).
3. Landmarks: named schools, hospitals, markets and parks (see FEATURE_TAGS) whose point
   lies in the area. A node is its own point; a closed way's point is its area centroid,
   an open way's the mean of its nodes. Several objects with one kind and one name (a
   park mapped in parts) keep one point: the largest part's. Relations are not read.

Coordinates are [lat, lon], WGS84, rounded to 6 decimals (≈ 0.1 m). Output is sorted
(streets by class, name, way id; landmarks by kind, name), so it does not depend on the
order of the pbf. Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

# Same projection, naming and JSON layout as the community extract (same folder).
from extract_y_community import (
    ATTRIBUTION, DEFAULT_OUT as COMMUNITY_JSON, DEFAULT_PBF, REPO_ROOT, Pt, chinese_name,
    compact_json, ring_area, ring_centroid, to_latlon, to_xy,
)

DEFAULT_OUT = REPO_ROOT / "linli" / "community" / "data" / "y_streets.json"
# The demo community's code (linli.demo.community.COMMUNITY_CODE): the map endpoint
# serves this file for that community only.
COMMUNITY_CODE = "510106017001"
MARGIN_M = 150.0

MAJOR = {"motorway", "trunk", "primary", "secondary",
         "motorway_link", "trunk_link", "primary_link", "secondary_link"}
MINOR = {"tertiary", "tertiary_link", "residential", "unclassified", "living_street", "road"}
CLASS_ORDER = {"major": 0, "minor": 1, "path": 2}

# (tag key, tag value) -> landmark kind.
FEATURE_TAGS = {
    ("amenity", "school"): "school",
    ("amenity", "kindergarten"): "school",
    ("amenity", "college"): "school",
    ("amenity", "university"): "school",
    ("amenity", "hospital"): "hospital",
    ("amenity", "clinic"): "hospital",
    ("amenity", "marketplace"): "market",
    ("shop", "supermarket"): "market",
    ("shop", "mall"): "market",
    ("leisure", "park"): "park",
}
FEATURE_ORDER = {"school": 0, "hospital": 1, "market": 2, "park": 3}

Box = tuple[float, float, float, float]  # min x, min y, max x, max y (metres)


def street_class(highway: str) -> str:
    if highway in MAJOR:
        return "major"
    if highway in MINOR:
        return "minor"
    return "path"


def feature_of(tags: dict) -> tuple[str, str] | None:
    """(kind, "key=value") of the first tag that makes the object a landmark, or None."""
    for (key, value), kind in FEATURE_TAGS.items():
        if tags.get(key) == value:
            return kind, f"{key}={value}"
    return None


# ---------------------------------------------------------------- clipping

def clip_segment(p: Pt, q: Pt, box: Box) -> tuple[Pt, Pt] | None:
    """Liang–Barsky: the part of segment pq inside the box, or None."""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for step, dist in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if step == 0:
            if dist < 0:
                return None  # parallel to this edge and outside it
            continue
        t = dist / step
        if step < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return ((p[0] + t0 * dx, p[1] + t0 * dy), (p[0] + t1 * dx, p[1] + t1 * dy))


def clip_polyline(line: list[Pt], box: Box) -> list[list[Pt]]:
    """The pieces of the polyline inside the box, each with at least two distinct points."""
    pieces: list[list[Pt]] = []
    current: list[Pt] = []
    for p, q in zip(line, line[1:]):
        part = clip_segment(p, q, box)
        if part is None:
            if current:
                pieces.append(current)
                current = []
            continue
        a, b = part
        if current and current[-1] == a:
            current.append(b)
        else:
            if current:
                pieces.append(current)
            current = [a, b]
        if b != q:  # the segment leaves the box here
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    out = []
    for piece in pieces:
        latlon = [to_latlon(pt) for pt in piece]
        deduped = [pt for i, pt in enumerate(latlon) if i == 0 or pt != latlon[i - 1]]
        if len(deduped) >= 2:
            out.append(deduped)
    return out


# ---------------------------------------------------------------- reading OSM

@dataclass
class Feature:
    kind: str
    tag: str
    name: str
    osm_id: str
    point: Pt
    area: float


def area_box(community_json: Path) -> Box:
    doc = json.loads(community_json.read_text(encoding="utf-8"))
    pts = [to_xy(lat, lon) for lat, lon in doc["community"]["boundary"]]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) - MARGIN_M, min(ys) - MARGIN_M, max(xs) + MARGIN_M, max(ys) + MARGIN_M)


def in_box(p: Pt, box: Box) -> bool:
    return box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]


def read_osm(pbf: Path, box: Box) -> tuple[list[dict], list[Feature]]:
    import osmium  # imported here so that --help works without it

    streets: list[dict] = []
    features: list[Feature] = []
    for obj in osmium.FileProcessor(str(pbf)).with_locations():
        if obj.is_relation():
            continue
        tags = dict(obj.tags)
        feature = feature_of(tags)
        if obj.is_node():
            name = chinese_name(tags) if feature else None
            if feature and name:
                p = to_xy(obj.lat, obj.lon)
                if in_box(p, box):
                    features.append(Feature(*feature, name, f"node/{obj.id}", p, 0.0))
            continue
        if "highway" not in tags and not feature:
            continue
        try:
            pts = [to_xy(n.lat, n.lon) for n in obj.nodes]
        except osmium.InvalidLocationError:
            continue  # a node outside the extract: skip the way
        if len(pts) < 2:
            continue
        if "highway" in tags:
            lines = clip_polyline(pts, box)
            if lines:
                streets.append({
                    "osm_id": f"way/{obj.id}", "name": chinese_name(tags), "highway": tags["highway"],
                    "class": street_class(tags["highway"]), "lines": lines,
                })
        name = chinese_name(tags) if feature else None
        if feature and name:
            closed = obj.nodes[0].ref == obj.nodes[-1].ref and len(pts) >= 4
            if closed:
                ring = pts[:-1]
                p, area = ring_centroid(ring), ring_area(ring)
            else:
                p, area = (sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)), 0.0
            if in_box(p, box):
                features.append(Feature(*feature, name, f"way/{obj.id}", p, area))
    return streets, features


def merge_features(features: list[Feature]) -> list[dict]:
    """One landmark per (kind, name): the largest part, ties by OSM id."""
    best: dict[tuple[str, str], Feature] = {}
    for f in sorted(features, key=lambda f: (-round(f.area), f.osm_id)):
        best.setdefault((f.kind, f.name), f)
    ordered = sorted(best.values(), key=lambda f: (FEATURE_ORDER[f.kind], f.name, f.osm_id))
    return [{"kind": f.kind, "name": f.name, "tag": f.tag, "osm_id": f.osm_id, "point": to_latlon(f.point)}
            for f in ordered]


def build(pbf: Path, community_json: Path) -> dict:
    box = area_box(community_json)
    streets, features = read_osm(pbf, box)
    streets.sort(key=lambda s: (CLASS_ORDER[s["class"]], s["name"] is None, s["name"] or "",
                                int(s["osm_id"].split("/")[1])))
    landmarks = merge_features(features)
    n_points = sum(len(line) for s in streets for line in s["lines"])
    method = (
        f"Streets: every highway=* way of the extract with a segment in the community rectangle "
        f"of {community_json.name} grown by {MARGIN_M:g} m on each side, clipped to that area "
        f"({len(streets)} ways, {n_points} points); class major = motorway, trunk, primary, "
        f"secondary and links; minor = tertiary, residential, unclassified, living_street, road; "
        f"path = the rest. Landmarks: named {', '.join(sorted(FEATURE_ORDER))} objects "
        f"({', '.join(sorted({f'{k}={v}' for k, v in FEATURE_TAGS}))}) whose point (node, or "
        f"closed way's area centroid) lies in that area; one per kind and name (the largest "
        f"part). Names: Chinese name, as in tools/extract_y_community.py. Coordinates are "
        f"[lat, lon], WGS84, 6 decimals. Made by tools/extract_y_streets.py."
    )
    return {
        "attribution": ATTRIBUTION,
        "source": pbf.name,
        "method": method,
        "community_code": COMMUNITY_CODE,
        "area": {"margin_m": MARGIN_M,
                 "south_west": to_latlon((box[0], box[1])), "north_east": to_latlon((box[2], box[3]))},
        "streets": streets,
        "features": landmarks,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pbf", type=Path, default=DEFAULT_PBF, help=f"default: {DEFAULT_PBF}")
    ap.add_argument("--community", type=Path, default=COMMUNITY_JSON, help=f"default: {COMMUNITY_JSON}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = ap.parse_args(argv)
    for path, what in ((args.pbf, "OSM extract"), (args.community, "community map")):
        if not path.is_file():
            print(f"{what} not found: {path}", file=sys.stderr)
            return 2
    doc = build(args.pbf, args.community)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(compact_json(doc) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(doc['streets'])} streets, "
          f"{len(doc['features'])} landmarks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
