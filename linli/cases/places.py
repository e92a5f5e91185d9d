"""Which courtyard a point lies in (ray casting over the grid boundaries)."""

from __future__ import annotations

from linli.community.models import Community, Grid


def point_in_polygon(lat: float, lon: float, ring: list) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        (y1, x1), (y2, x2) = ring[i], ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def grid_at(community: Community, lat: float, lon: float) -> Grid | None:
    """The grid whose boundary holds the point; else, inside the community's boundary,
    the nearest grid centre; else None (outside the community)."""
    grids = list(Grid.objects.filter(community=community))
    for grid in grids:
        if grid.boundary and point_in_polygon(lat, lon, grid.boundary):
            return grid
    if community.boundary and point_in_polygon(lat, lon, community.boundary):
        located = [g for g in grids if g.latitude is not None]
        if located:
            return min(located, key=lambda g: (g.latitude - lat) ** 2 + (g.longitude - lon) ** 2)
    return None
