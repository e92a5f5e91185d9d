#!/usr/bin/env python
"""Extract the map of the demo community "Y社区" from a real OpenStreetMap extract.

Usage (from the repository root)::

    .venv/bin/python tools/extract_y_community.py [--pbf PATH] [--out PATH] [--center LAT,LON]

Defaults: ``../shared/data/osm/chengdu-central-2018.osm.pbf`` (relative to the
repository root) and ``linli/community/data/y_community.json``.

What it does, deterministically (same pbf in, byte-identical JSON out):

1. Reads the extract with pyosmium: ``landuse=residential`` closed ways, ``building=*``
   closed ways, named ``highway=*`` ways and the administrative boundary of 金牛区
   (Jinniu district).
2. Rebuilds the part of Jinniu that the extract covers. The extract holds only some
   member ways of the district relation (its southern edge with 青羊区 and its eastern
   edge with 成华区); they are chained together and the open chain is closed with a
   straight line between its two ends. Everything inside that ring is Jinniu (the real
   district reaches further north, where the extract has almost no data anyway).
3. Picks the community area: an axis-aligned rectangle of 3.6 km². Candidates: centres
   on a 100 m grid over Jinniu's residential polygons, aspect (east-west : north-south)
   1:1, 3:2, 2:3, 2:1 or 1:2. Rectangles not wholly in Jinniu are dropped; the one holding
   the most usable, non-overlapping residential polygons wins (ties: more real buildings
   in them, squarer, more residential area, centred on them; see choose_area). A square
   alone holds at most 10 such polygons in Jinniu's part of this extract, hence the
   aspects. ``--center`` skips the search and uses a square around that point.
4. Courtyards (院落, one grid each): the 11 real residential polygons chosen in that
   rectangle (named ones first, then the largest, skipping any that overlap one already
   chosen). Only if fewer than 11 exist, the rectangle is instead partitioned into 11
   Voronoi cells of seed points (the real polygons' centroids plus evenly spread extra
   seeds), clipped to the rectangle.
5. Buildings: real ``building=*`` ways whose centroid lies inside the courtyard, then
   synthetic points on a regular grid inside the courtyard polygon, up to a per-courtyard
   target (10–20, about 160 in all, shared out in proportion to courtyard area).

All computation happens on a local equirectangular projection in metres (accurate to a
fraction of a percent over a few kilometres); output coordinates are [lat, lon] rounded
to 6 decimals (≈ 0.1 m). Polygon rings are written open (the first vertex is not
repeated at the end). Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PBF = REPO_ROOT.parent / "shared" / "data" / "osm" / "chengdu-central-2018.osm.pbf"
DEFAULT_OUT = REPO_ROOT / "linli" / "community" / "data" / "y_community.json"

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
COMMUNITY_NAME = "Y社区"
DISTRICT_NAME = "金牛区"

TARGET_AREA_M2 = 3.6e6
N_COURTYARDS = 11
TOTAL_BUILDINGS = 160
MIN_BUILDINGS, MAX_BUILDINGS = 10, 20
# A residential polygon smaller than this cannot sensibly hold 10+ buildings.
MIN_COURTYARD_AREA_M2 = 5_000
# Synthetic buildings keep this far (metres) from the courtyard edge, so that rounding
# to 6 decimals can never push one outside; real centroids need at least 1 m.
SYNTHETIC_EDGE_MARGIN_M = 8.0
REAL_EDGE_MARGIN_M = 1.0
NEARBY_ROAD_M = 100.0
# East-west : north-south aspect ratios tried for the community rectangle, squarest first.
ASPECTS = ((1, 1), (3, 2), (2, 3), (2, 1), (1, 2))
# ``name`` values that describe a thing rather than name it: not used as courtyard names.
GENERIC_NAMES = {"住宅区", "小区", "居民区", "住宅小区", "宿舍"}

# Fixed reference point of the local projection: Tianfu Square (天府广场).
REF_LAT, REF_LON = 30.657, 104.066
KY = 110_574.0                                    # metres per degree of latitude
KX = 111_320.0 * math.cos(math.radians(REF_LAT))  # metres per degree of longitude

Pt = tuple[float, float]  # (x, y) in metres, east/north of the reference point


# ---------------------------------------------------------------- projection, rounding

def to_xy(lat: float, lon: float) -> Pt:
    return ((lon - REF_LON) * KX, (lat - REF_LAT) * KY)


def to_latlon(p: Pt) -> list[float]:
    """[lat, lon] rounded to 6 decimals, the form written to the JSON."""
    return [round(REF_LAT + p[1] / KY, 6), round(REF_LON + p[0] / KX, 6)]


def rounded_xy(p: Pt) -> Pt:
    """The point as it will be read back from the JSON (after rounding)."""
    lat, lon = to_latlon(p)
    return to_xy(lat, lon)


# ---------------------------------------------------------------- plane geometry
# Rings are lists of (x, y) without the closing duplicate vertex.

def ring_area(ring: list[Pt]) -> float:
    """Unsigned area (shoelace)."""
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        s += x1 * y2 - x2 * y1
    return abs(s) / 2


def ring_centroid(ring: list[Pt]) -> Pt:
    """Area centroid; falls back to the vertex mean for degenerate rings."""
    a = cx = cy = 0.0
    x0, y0 = ring[0]  # shift to the first vertex for numerical stability
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        x1, y1, x2, y2 = x1 - x0, y1 - y0, x2 - x0, y2 - y0
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if abs(a) < 1e-9:
        return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    return (x0 + cx / (3 * a), y0 + cy / (3 * a))


def point_in_ring(p: Pt, ring: list[Pt]) -> bool:
    """Even-odd ray casting (works for any vertex order and for [lat, lon] pairs too)."""
    x, y = p
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y):
            if x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def dist_point_segment(p: Pt, a: Pt, b: Pt) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def dist_to_ring_edge(p: Pt, ring: list[Pt]) -> float:
    return min(dist_point_segment(p, a, b) for a, b in zip(ring, ring[1:] + ring[:1]))


def _orient(a: Pt, b: Pt, c: Pt) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool:
    """Proper crossing only: touching or collinear (shared) edges do not count."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    return o1 * o2 < 0 and o3 * o4 < 0


def edges(ring: list[Pt]):
    return list(zip(ring, ring[1:] + ring[:1]))


def rings_overlap(r1: list[Pt], r2: list[Pt]) -> bool:
    """True when two rings share interior area. Neighbours that only share edges or
    nodes (common in OSM) are not overlapping: a vertex counts as inside the other ring
    only when it is more than 1 m from that ring's edge."""
    for a, b in ((r1, r2), (r2, r1)):
        for p in a + [ring_centroid(a)]:
            if point_in_ring(p, b) and dist_to_ring_edge(p, b) > 1.0:
                return True
    e2 = edges(r2)
    return any(segments_cross(a, b, c, d) for a, b in edges(r1) for c, d in e2)


def clip_halfplane(ring: list[Pt], nx: float, ny: float, c: float) -> list[Pt]:
    """Sutherland–Hodgman step: keep the part of ring where nx*x + ny*y <= c."""
    out: list[Pt] = []
    for p, q in edges(ring):
        fp, fq = nx * p[0] + ny * p[1] - c, nx * q[0] + ny * q[1] - c
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


# ---------------------------------------------------------------- reading OSM

def has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def chinese_name(tags: dict) -> str | None:
    """The Chinese name of an object. ``name`` wins when it is Chinese (some ``name:zh``
    values in this extract are stale or junk); a bilingual "中文 - English" is cut to the
    Chinese part; an English-only ``name`` falls back to ``name:zh``."""
    name = (tags.get("name") or "").strip()
    if has_cjk(name):
        return name.split(" - ")[0].strip()
    zh = (tags.get("name:zh") or "").strip()
    if has_cjk(zh):
        return zh
    return name or None


@dataclass
class Way:
    osm_id: int
    tags: dict
    ring: list[Pt]            # for closed ways: open ring; for others: the polyline
    name: str | None = None
    area: float = 0.0
    centroid: Pt = (0.0, 0.0)


@dataclass
class OsmData:
    residential: list[Way] = field(default_factory=list)
    buildings: list[Way] = field(default_factory=list)
    roads: list[Way] = field(default_factory=list)
    boundary_ways: dict[int, Way] = field(default_factory=dict)
    district_members: list[int] = field(default_factory=list)
    district_relation: int | None = None


def read_osm(pbf: Path) -> OsmData:
    import osmium  # imported here so that --help works without it

    data = OsmData()
    for obj in osmium.FileProcessor(str(pbf)).with_locations():
        if obj.is_way():
            tags = dict(obj.tags)
            wanted = (tags.get("landuse") == "residential"
                      or tags.get("building", "no") != "no"
                      or ("highway" in tags and "name" in tags)
                      or tags.get("boundary") == "administrative")
            if not wanted:
                continue
            try:
                pts = [to_xy(n.lat, n.lon) for n in obj.nodes]
            except osmium.InvalidLocationError:
                continue  # a node outside the extract: skip the way
            if len(pts) < 2:
                continue
            closed = obj.nodes[0].ref == obj.nodes[-1].ref and len(pts) >= 4
            way = Way(obj.id, tags, pts[:-1] if closed else pts, chinese_name(tags))
            if closed:
                way.area = ring_area(way.ring)
                way.centroid = ring_centroid(way.ring)
            if tags.get("boundary") == "administrative":
                data.boundary_ways[obj.id] = way
            if closed and tags.get("landuse") == "residential":
                data.residential.append(way)
            if closed and tags.get("building", "no") != "no":
                data.buildings.append(way)
            if "highway" in tags and way.name:
                data.roads.append(way)
        elif obj.is_relation():
            tags = dict(obj.tags)
            if (tags.get("boundary") == "administrative"
                    and DISTRICT_NAME in (tags.get("name:zh", ""), chinese_name(tags) or "",
                                          (tags.get("name") or "").split(" ")[0])):
                data.district_relation = obj.id
                data.district_members = [m.ref for m in obj.members if m.type == "w"]
    return data


def district_ring(data: OsmData) -> list[Pt]:
    """Chain the district's member ways that the extract holds into one line and close
    it with a straight segment (see the module docstring)."""
    pieces = [list(data.boundary_ways[i].ring) for i in sorted(data.district_members)
              if i in data.boundary_ways]
    if not pieces:
        raise SystemExit(f"no boundary ways of {DISTRICT_NAME} in the extract; "
                         "pass --center LAT,LON instead")
    chains = []
    while pieces:
        chain = pieces.pop(0)
        grown = True
        while grown:
            grown = False
            for i, c in enumerate(pieces):
                if c[0] == chain[-1]:
                    chain = chain + c[1:]
                elif c[-1] == chain[-1]:
                    chain = chain + c[::-1][1:]
                elif c[-1] == chain[0]:
                    chain = c[:-1] + chain
                elif c[0] == chain[0]:
                    chain = c[::-1][:-1] + chain
                else:
                    continue
                pieces.pop(i)
                grown = True
                break
        chains.append(chain)
    chain = max(chains, key=len)  # deterministic: pieces were sorted by way id
    if chain[0] == chain[-1]:
        chain = chain[:-1]
    return chain


# ---------------------------------------------------------------- choosing the area

@dataclass
class Courtyard:
    ring: list[Pt]
    name: str | None
    osm_id: str | None
    source: str                      # "landuse=residential" or "voronoi"
    buildings: list[dict] = field(default_factory=list)
    target: int = 0
    center: Pt = (0.0, 0.0)
    nearby_roads: list[str] = field(default_factory=list)


def usable_residential(data: OsmData) -> list[Way]:
    return [w for w in data.residential if w.area >= MIN_COURTYARD_AREA_M2]


def inside_bounds(ring: list[Pt], rect: list[Pt]) -> bool:
    """All vertices of ring within the axis-aligned rectangle rect."""
    (x0, y0), (x1, y1) = rect[0], rect[2]
    return all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in ring)


def select_polygons(polys: list[Way], rect: list[Pt]) -> list[Way]:
    """Up to N_COURTYARDS real residential polygons wholly inside the rectangle: named
    ones first, then the largest, skipping any that overlap a polygon already chosen."""
    inside = [w for w in polys if inside_bounds(w.ring, rect)]
    inside.sort(key=lambda w: (not (w.name and w.name not in GENERIC_NAMES), -w.area, w.osm_id))
    chosen: list[Way] = []
    for w in inside:
        if not any(rings_overlap(w.ring, c.ring) for c in chosen):
            chosen.append(w)
            if len(chosen) == N_COURTYARDS:
                break
    return chosen


def real_buildings_in(ring: list[Pt], buildings: list[Way]) -> list[Way]:
    (minx, miny), (maxx, maxy) = bbox(ring)
    out = []
    for b in buildings:
        x, y = b.centroid
        if not (minx <= x <= maxx and miny <= y <= maxy):
            continue
        p = rounded_xy(b.centroid)
        if point_in_ring(p, ring) and dist_to_ring_edge(p, ring) >= REAL_EDGE_MARGIN_M:
            out.append(b)
    return out


def bbox(ring: list[Pt]) -> tuple[Pt, Pt]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return (min(xs), min(ys)), (max(xs), max(ys))


def rect_ring(center: Pt, width: float, height: float) -> list[Pt]:
    cx, cy = center
    w, h = width / 2, height / 2
    # counter-clockwise from the south-west corner
    return [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)]


def choose_area(data: OsmData) -> tuple[list[Pt], str]:
    """The community rectangle: TARGET_AREA_M2, east-west : north-south aspect one of
    ASPECTS, centre on a 100 m grid, wholly inside the district. Score, best first:
    most usable non-overlapping residential polygons (capped at N_COURTYARDS), most real
    buildings in them, squarest, most residential area, centre nearest to the chosen
    polygons' mean centroid, then south-west-most (a total order: deterministic)."""
    district = district_ring(data)
    d_edges = edges(district)
    polys = usable_residential(data)
    # search where the district and the residential data overlap
    in_district = [w.centroid for w in polys if point_in_ring(w.centroid, district)]
    if not in_district:
        raise SystemExit(f"no residential polygons in {DISTRICT_NAME}; pass --center LAT,LON")
    (minx, miny), (maxx, maxy) = bbox(in_district)
    step = 100.0
    best = None
    for ew, ns in ASPECTS:
        aspect = ew / ns
        width = math.sqrt(TARGET_AREA_M2 * aspect)
        height = TARGET_AREA_M2 / width
        for j in range(int((maxy - miny) / step) + 1):
            for i in range(int((maxx - minx) / step) + 1):
                center = rounded_xy((minx + i * step, miny + j * step))
                rect = rect_ring(center, width, height)
                inside = [w for w in polys if inside_bounds(w.ring, rect)]
                if best is not None and min(len(inside), N_COURTYARDS) < best[0][0]:
                    continue  # cannot beat the best so far: skip the costly tests
                # the rectangle must lie wholly in the district: corners in, no crossing
                if not all(point_in_ring(c, district) for c in rect):
                    continue
                if any(segments_cross(a, b, c, d) for a, b in edges(rect) for c, d in d_edges):
                    continue
                chosen = select_polygons(inside, rect)
                if not chosen:
                    continue
                n_real = sum(len(real_buildings_in(w.ring, data.buildings)) for w in chosen)
                mx = sum(w.centroid[0] for w in chosen) / len(chosen)
                my = sum(w.centroid[1] for w in chosen) / len(chosen)
                score = (len(chosen), n_real, -round(abs(math.log(aspect)), 6),
                         round(sum(w.area for w in chosen)), -round(math.dist((mx, my), center)),
                         -center[1], -center[0])
                if best is None or score > best[0]:
                    best = (score, rect, f"{ew}:{ns}")
    if best is None:
        raise SystemExit(f"no {TARGET_AREA_M2 / 1e6:g} km² rectangle fits in {DISTRICT_NAME}; "
                         "pass --center LAT,LON")
    score, rect, aspect = best
    why = (f"its centre lies on a 100 m search grid and its aspect (east-west : north-south "
           f"= {aspect}) is one of {', '.join(f'{e}:{n}' for e, n in ASPECTS)}; of all such "
           f"rectangles lying wholly in {DISTRICT_NAME} (relation/{data.district_relation}, "
           f"rebuilt from the {len(district)}-vertex chain of its member ways present in the "
           f"extract, closed by a straight line between the chain's ends) it holds the most "
           f"usable non-overlapping residential polygons ({score[0]}), then real buildings "
           f"in them ({score[1]}), then is squarest, then has the most residential area "
           f"({score[3]} m²)")
    return rect, why


# ---------------------------------------------------------------- Voronoi fallback

def voronoi_courtyards(real: list[Way], sq: list[Pt]) -> list[Courtyard]:
    """N_COURTYARDS cells of seed points clipped to the rectangle sq. Seeds: the centroids of
    the real polygons, then extra seeds by farthest-point sampling over a 40×40 grid
    (each extra seed is the grid point farthest from all seeds so far; ties: first in
    row-major order), which spreads them evenly and deterministically."""
    seeds: list[tuple[Pt, Way | None]] = [(w.centroid, w) for w in real][:N_COURTYARDS]
    (x0, y0), (x1, y1) = sq[0], sq[2]
    n = 40
    grid = [(x0 + (i + 0.5) * (x1 - x0) / n, y1 - (j + 0.5) * (y1 - y0) / n)
            for j in range(n) for i in range(n)]
    while len(seeds) < N_COURTYARDS:
        far = max(grid, key=lambda g: min((math.dist(g, s) for s, _ in seeds), default=0.0))
        seeds.append((far, None))
    yards = []
    for i, (s, w) in enumerate(seeds):
        cell = list(sq)
        for j, (t, _) in enumerate(seeds):
            if i == j:
                continue
            # keep points nearer to s than to t: (t - s)·p <= (|t|² - |s|²) / 2
            nx, ny = t[0] - s[0], t[1] - s[1]
            c = (t[0] ** 2 + t[1] ** 2 - s[0] ** 2 - s[1] ** 2) / 2
            cell = clip_halfplane(cell, nx, ny, c)
        name = w.name if w is not None and w.name not in GENERIC_NAMES else None
        yards.append(Courtyard(cell, name, None, "voronoi"))
    return yards


# ---------------------------------------------------------------- buildings

def allocate_targets(areas: list[float], floors: list[int]) -> list[int]:
    """Share TOTAL_BUILDINGS out in proportion to area, each within
    [max(MIN_BUILDINGS, floor), MAX_BUILDINGS]; leftovers go by largest remainder."""
    total = sum(areas)
    ideal = [TOTAL_BUILDINGS * a / total for a in areas]
    lo = [max(MIN_BUILDINGS, min(f, MAX_BUILDINGS)) for f in floors]
    t = [min(MAX_BUILDINGS, max(lo[i], round(ideal[i]))) for i in range(len(areas))]
    while sum(t) != TOTAL_BUILDINGS:
        if sum(t) < TOTAL_BUILDINGS:
            room = [i for i in range(len(t)) if t[i] < MAX_BUILDINGS]
            if not room:
                break
            t[max(room, key=lambda i: (ideal[i] - t[i], -i))] += 1
        else:
            room = [i for i in range(len(t)) if t[i] > lo[i]]
            if not room:
                break
            t[min(room, key=lambda i: (ideal[i] - t[i], i))] -= 1
    return t


def grid_points(ring: list[Pt], n: int, avoid: list[Pt]) -> list[Pt]:
    """n points of a regular square grid inside the ring, rows north to south, each
    point west to east. The spacing starts at sqrt(area / n) and shrinks by 4 % until
    enough grid points lie inside (clear of the edge and of real buildings); then n of
    them are taken evenly spaced along that row-major order."""
    if n <= 0:
        return []
    (minx, miny), (maxx, maxy) = bbox(ring)
    s = math.sqrt(ring_area(ring) / n)
    for _ in range(60):
        margin = min(SYNTHETIC_EDGE_MARGIN_M, s / 3)
        cand = []
        ny, nx = int((maxy - miny) / s) + 1, int((maxx - minx) / s) + 1
        # centre the grid on the bounding box so the layout is symmetric
        oy = maxy - ((maxy - miny) - (ny - 1) * s) / 2
        ox = minx + ((maxx - minx) - (nx - 1) * s) / 2
        for j in range(ny):
            for i in range(nx):
                p = rounded_xy((ox + i * s, oy - j * s))
                if (point_in_ring(p, ring) and dist_to_ring_edge(p, ring) >= margin
                        and all(math.dist(p, q) >= s / 2 for q in avoid)):
                    cand.append(p)
        if len(cand) >= n:
            return [cand[(2 * k + 1) * len(cand) // (2 * n)] for k in range(n)]
        s *= 0.96
    raise RuntimeError("courtyard too small for its synthetic buildings")


def interior_point(ring: list[Pt]) -> Pt:
    """The centroid if it lies well inside the ring, else the inside grid point farthest
    from the edge (for concave courtyards)."""
    c = rounded_xy(ring_centroid(ring))
    if point_in_ring(c, ring) and dist_to_ring_edge(c, ring) >= REAL_EDGE_MARGIN_M:
        return c
    pts = grid_points(ring, 25, [])
    return max(pts, key=lambda p: (dist_to_ring_edge(p, ring), -math.dist(p, c)))


def fill_buildings(yards: list[Courtyard], data: OsmData) -> None:
    reals = []
    for y in yards:
        rb = real_buildings_in(y.ring, data.buildings)
        # more real buildings than the cap: keep the largest footprints
        rb.sort(key=lambda b: (-round(b.area, 1), b.osm_id))
        reals.append(rb[:MAX_BUILDINGS])
    targets = allocate_targets([ring_area(y.ring) for y in yards], [len(r) for r in reals])
    for y, rb, t in zip(yards, reals, targets):
        y.target = t
        rb.sort(key=lambda b: b.osm_id)
        positions = [rounded_xy(b.centroid) for b in rb]
        y.buildings = [{"osm_id": f"way/{b.osm_id}", "synthetic": False,
                        "position": to_latlon(b.centroid)} for b in rb]
        for p in grid_points(y.ring, t - len(rb), positions):
            y.buildings.append({"osm_id": None, "synthetic": True, "position": to_latlon(p)})


# ---------------------------------------------------------------- names, roads

def road_distance(ring: list[Pt], line: list[Pt]) -> float:
    if any(point_in_ring(p, ring) for p in line):
        return 0.0
    if any(segments_cross(a, b, c, d) for a, b in edges(ring) for c, d in zip(line, line[1:])):
        return 0.0
    d1 = min(dist_point_segment(p, a, b) for p in ring for a, b in zip(line, line[1:]))
    d2 = min(dist_point_segment(p, a, b) for p in line for a, b in edges(ring))
    return min(d1, d2)


def nearby_roads(ring: list[Pt], roads: list[Way], limit: int = 3) -> list[str]:
    (minx, miny), (maxx, maxy) = bbox(ring)
    best: dict[str, float] = {}
    for r in roads:
        (rx0, ry0), (rx1, ry1) = bbox(r.ring)
        if (rx1 < minx - NEARBY_ROAD_M or rx0 > maxx + NEARBY_ROAD_M
                or ry1 < miny - NEARBY_ROAD_M or ry0 > maxy + NEARBY_ROAD_M):
            continue
        d = road_distance(ring, r.ring)
        if d <= NEARBY_ROAD_M and d < best.get(r.name, math.inf):
            best[r.name] = d
    return [n for n, _ in sorted(best.items(), key=lambda kv: (kv[1], kv[0]))][:limit]


def roads_in_rect(rect: list[Pt], roads: list[Way]) -> list[str]:
    """Names of the named roads that enter the rectangle, sorted."""
    names = set()
    for r in roads:
        if any(point_in_ring(p, rect) for p in r.ring) or any(
                segments_cross(a, b, c, d) for a, b in edges(rect) for c, d in zip(r.ring, r.ring[1:])):
            names.add(r.name)
    return sorted(names)


def cn_numeral(n: int) -> str:
    digits = "一二三四五六七八九"
    if n <= 9:
        return digits[n - 1]
    if n < 20:
        return "十" + (digits[n - 11] if n > 10 else "")
    raise ValueError(n)


# ---------------------------------------------------------------- output

def compact_json(obj, indent: int = 0, width: int = 100) -> str:
    """Pretty JSON that keeps any value whose one-line form fits in `width` on one line
    (so coordinate pairs and buildings take one line each)."""
    flat = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    if len(flat) + indent <= width or not isinstance(obj, (dict, list)) or not obj:
        return flat
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: "
                 f"{compact_json(v, indent + 1, width).lstrip()}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + compact_json(v, indent + 1, width).lstrip() for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def build(pbf: Path, center_override: tuple[float, float] | None = None) -> dict:
    data = read_osm(pbf)
    if center_override:
        side = math.sqrt(TARGET_AREA_M2)
        rect = rect_ring(rounded_xy(to_xy(*center_override)), side, side)
        why = "a square whose centre was given on the command line"
    else:
        rect, why = choose_area(data)
    rect = [rounded_xy(p) for p in rect]
    center = rounded_xy(((rect[0][0] + rect[2][0]) / 2, (rect[0][1] + rect[2][1]) / 2))
    (x0, y0), (x1, y1) = rect[0], rect[2]

    real = select_polygons(usable_residential(data), rect)
    if len(real) >= N_COURTYARDS:
        yards = [Courtyard(w.ring, w.name if w.name not in GENERIC_NAMES else None,
                           f"way/{w.osm_id}", "landuse=residential") for w in real]
        how = (f"the {N_COURTYARDS} courtyards are real landuse=residential ways wholly inside "
               f"the rectangle (area >= {MIN_COURTYARD_AREA_M2} m², named first, then largest, "
               f"no overlaps)")
    else:
        yards = voronoi_courtyards(real, rect)
        how = (f"only {len(real)} usable landuse=residential ways lie in the rectangle, so the "
               f"courtyards are {N_COURTYARDS} Voronoi cells clipped to it, seeded by "
               f"those ways' centroids plus farthest-point grid seeds")

    # round the rings now, so every later inside-test sees exactly what the JSON holds
    for y in yards:
        y.ring = [rounded_xy(p) for p in y.ring]
        y.center = interior_point(y.ring)
    # codes in reading order: north to south, then west to east
    yards.sort(key=lambda y: (-round(y.center[1]), round(y.center[0])))
    fill_buildings(yards, data)

    used_names: set[str] = set()
    for i, y in enumerate(yards, 1):
        y.nearby_roads = nearby_roads(y.ring, data.roads)
        if y.name in used_names:          # two parts of one estate: "X（二）"
            k = 2
            while f"{y.name}（{cn_numeral(k)}）" in used_names:
                k += 1
            y.name = f"{y.name}（{cn_numeral(k)}）"
        if not y.name:
            y.name = f"{cn_numeral(i)}号院"
        used_names.add(y.name)

    n_real = sum(1 for y in yards for b in y.buildings if not b["synthetic"])
    n_all = sum(len(y.buildings) for y in yards)
    method = (
        f"Community: an axis-aligned rectangle of {TARGET_AREA_M2 / 1e6:g} km² "
        f"({x1 - x0:.0f} m east-west, {y1 - y0:.0f} m north-south) in {DISTRICT_NAME}; "
        f"{why}. Courtyards: {how}. Buildings: "
        f"{n_real} real building=* ways whose centroid lies inside a courtyard (position = "
        f"footprint centroid), plus {n_all - n_real} synthetic points on a regular grid inside "
        f"each courtyard, for {MIN_BUILDINGS}-{MAX_BUILDINGS} per courtyard and {n_all} in all "
        f"(shared in proportion to courtyard area). Names: the courtyard's OSM name; unnamed "
        f"ones are called N号院 after their code. Rings are open (first vertex not repeated); "
        f"coordinates are [lat, lon], WGS84, 6 decimals. Made by tools/extract_y_community.py."
    )
    return {
        "attribution": ATTRIBUTION,
        "source": pbf.name,
        "method": method,
        "community": {
            "name": COMMUNITY_NAME,
            "district": DISTRICT_NAME,
            "center": to_latlon(center),
            "boundary": [to_latlon(p) for p in rect],
            "area_km2": round(ring_area(rect) / 1e6, 2),
            "roads": roads_in_rect(rect, data.roads),
        },
        "courtyards": [
            {
                "code": f"G{i:02d}",
                "name": y.name,
                "osm_id": y.osm_id,
                "source": y.source,
                "area_m2": round(ring_area(y.ring)),
                "center": to_latlon(y.center),
                "nearby_roads": y.nearby_roads,
                "boundary": [to_latlon(p) for p in y.ring],
                "buildings": y.buildings,
            }
            for i, y in enumerate(yards, 1)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pbf", type=Path, default=DEFAULT_PBF, help=f"default: {DEFAULT_PBF}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    ap.add_argument("--center", help="LAT,LON: use this centre instead of searching for one")
    args = ap.parse_args(argv)
    if not args.pbf.is_file():
        print(f"OSM extract not found: {args.pbf}", file=sys.stderr)
        return 2
    center = tuple(float(v) for v in args.center.split(",")) if args.center else None
    doc = build(args.pbf, center)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(compact_json(doc) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): "
          f"{len(doc['courtyards'])} courtyards, "
          f"{sum(len(c['buildings']) for c in doc['courtyards'])} buildings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
