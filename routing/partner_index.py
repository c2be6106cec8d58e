"""The partner spatial index: which partner organisations' service areas cover a located point.

Built once per routing-tables version (`partner_index`), from the partners' service areas and the
locator's grids; `select_partners` is the router's partner step — capability, service area and
capacity, nearest office first — and reports on the partners it looked at, so a dispatcher can see
why one was or was not chosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from django.conf import settings

from grids.locator import current_index
from partners.models import Partner
from routing.explanations import fixed_texts
from routing.tables import RoutingTables

PARTNER_CANDIDATES = 8  # how many nearby partners an explanation reports on when none qualifies

PartnerLoad = Callable[[list[int]], dict[int, int]]


class PartnerIndex:
    """Every partner in memory: service areas prepared for point tests, offices and bounds in arrays.

    The main path is by grid (`at_grid`): built once from the locator's grids, it holds for each
    (capability, grid) the active partners whose service area covers the whole grid — every point the
    locator places in that grid is covered, no test needed — and those whose area only overlaps it,
    which a point there is tested against (a few prepared point-in-polygon tests in one call).

    Points the grids cannot answer for (placed in a grid from outside it, or located by a newer grid
    snapshot than the one this index was built from) take the general path: for each (capability set,
    community) the partners whose service area's bounding box meets the community's, then a box
    comparison and the polygon test on what is left. Explanations use that path too.
    """

    def __init__(self) -> None:
        self.partners = list(Partner.objects.defer("service_area", "location").order_by("id"))
        geoms = dict(Partner.objects.values_list("id", "service_area"))
        locations = dict(Partner.objects.values_list("id", "location"))
        self.areas = np.array(
            [shapely.from_wkb(bytes(geoms[p.id].wkb)) if geoms.get(p.id) else shapely.Polygon() for p in self.partners],
            dtype=object,
        )
        shapely.prepare(self.areas)
        self.bounds = shapely.bounds(self.areas) if len(self.areas) else np.empty((0, 4))
        self.capabilities = [frozenset(p.capabilities or ()) for p in self.partners]
        self.active = [p.is_active for p in self.partners]
        self.capacity = [p.capacity for p in self.partners]
        self.xs = np.array([locations[p.id].x if locations.get(p.id) else np.nan for p in self.partners])
        self.ys = np.array([locations[p.id].y if locations.get(p.id) else np.nan for p in self.partners])
        self.xs_list, self.ys_list = self.xs.tolist(), self.ys.tolist()
        self._community_boxes: dict[str, tuple] | None = None
        self._eligible: dict[frozenset | None, Any] = {}
        self._pools: dict[tuple, tuple] = {}
        self._setup_grids()

    def _setup_grids(self) -> None:
        grids = current_index()
        self.grids = grids
        self.grid_position = {code: g for g, code in enumerate(grids.codes)}
        n = len(grids.codes)
        # capability -> per grid (covering partners, overlapping partners or None); ascending indices.
        self._by_grid: dict[str, list[tuple[tuple[int, ...], Any]]] = {}
        self._combined: dict[tuple[frozenset, int], tuple[tuple[int, ...], Any]] = {}
        if not n or not len(self.areas):
            return
        # Boxes first (the tree alone, no geometry): a pair whose boxes meet but whose shapes do not
        # only costs a point test that fails. Only a grid whose box lies inside the area's can be covered.
        p, g = grids.tree.query(self.areas)
        a, b = self.bounds[p], shapely.bounds(grids.geoms)[g]
        maybe = (a[:, 0] <= b[:, 0]) & (a[:, 1] <= b[:, 1]) & (a[:, 2] >= b[:, 2]) & (a[:, 3] >= b[:, 3])
        whole = np.zeros(len(p), dtype=bool)
        whole[maybe] = shapely.covers(self.areas[p[maybe]], grids.geoms[g[maybe]])
        order = np.lexsort((p, g))
        offered = [caps if self.active[i] else frozenset() for i, caps in enumerate(self.capabilities)]
        whole_at: dict[str, list[list[int]]] = {}
        partial_at: dict[str, list[list[int]]] = {}
        for capability in sorted(set().union(*self.capabilities)):
            whole_at[capability] = [[] for _ in range(n)]
            partial_at[capability] = [[] for _ in range(n)]
        # Ascending partner index within each grid (the lexsort order), as the general path gives them.
        for i, k, covered in zip(p[order].tolist(), g[order].tolist(), whole[order].tolist(), strict=True):
            for capability in offered[i]:
                (whole_at if covered else partial_at)[capability][k].append(i)
        for capability, wholes in whole_at.items():
            self._by_grid[capability] = [
                (tuple(w), np.array(q, dtype=np.int64) if q else None)
                for w, q in zip(wholes, partial_at[capability], strict=True)
            ]

    def at_grid(self, needed: frozenset, location) -> list[int] | None:
        """The partners offering any of `needed` whose service area covers the located point, from the
        grid index; None when the grid index cannot answer for this location (take `covering`)."""
        if location.outside:
            return None
        g = self.grid_position.get(location.grid)
        if g is None or current_index() is not self.grids:
            return None
        if len(needed) == 1:
            (capability,) = needed
            per_grid = self._by_grid.get(capability)
            if per_grid is None:
                return []
            whole, partial = per_grid[g]
        else:
            key = (needed, g)
            found = self._combined.get(key)
            if found is None:
                parts = [self._by_grid[c][g] for c in needed if c in self._by_grid]
                whole = tuple(sorted({i for w, _p in parts for i in w}))
                partial = sorted({i for _w, q in parts if q is not None for i in q.tolist()} - set(whole))
                found = self._combined[key] = (whole, np.array(partial, dtype=np.int64) if partial else None)
            whole, partial = found
        if partial is None:
            return list(whole)
        hits = partial[shapely.intersects_xy(self.areas[partial], location.lon, location.lat)]
        return [*whole, *hits.tolist()] if hits.size else list(whole)

    def pool(self, needed: frozenset | None, community: str) -> tuple:
        """(indices, their bounds) of the partners whose service area's box meets the community's:
        active ones offering any of `needed`, or — `needed` None — every partner, for explanations."""
        key = (needed, community)
        found = self._pools.get(key)
        if found is None:
            indices = self._eligible.get(needed)
            if indices is None:
                if needed is None:
                    indices = np.arange(len(self.partners))
                else:
                    indices = np.array(
                        [i for i, caps in enumerate(self.capabilities) if self.active[i] and needed & caps],
                        dtype=np.int64,
                    )
                self._eligible[needed] = indices
            box = self.community_boxes().get(community)
            if box is not None and indices.size:
                b = self.bounds[indices]
                indices = indices[(b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])]
            found = self._pools[key] = (indices, self.bounds[indices])
        return found

    def community_boxes(self) -> dict[str, tuple]:
        """Bounding boxes of the communities, from the locator's grids (no query)."""
        if self._community_boxes is None:
            index = current_index()
            boxes: dict[str, list[float]] = {}
            for code, (x0, y0, x1, y1) in zip(index.codes, shapely.bounds(index.geoms).tolist(), strict=True):
                box = boxes.get(code[:12])
                if box is None:
                    boxes[code[:12]] = [x0, y0, x1, y1]
                else:
                    box[0], box[1], box[2], box[3] = min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)
            self._community_boxes = {code: tuple(box) for code, box in boxes.items()}
        return self._community_boxes

    def covering(self, pool: tuple, lon: float, lat: float) -> list[int]:
        """The partners of a pool whose service area covers the point (its edge counts)."""
        indices, b = pool
        if not indices.size:
            return []
        hits = indices[(b[:, 0] <= lon) & (b[:, 2] >= lon) & (b[:, 1] <= lat) & (b[:, 3] >= lat)]
        if not hits.size:
            return []
        return hits[shapely.intersects_xy(self.areas[hits], lon, lat)].tolist()

    def distance(self, i: int, lon: float, lat: float) -> float:
        # Equirectangular is well within a metre of the great circle at city scale.
        x, y = self.xs_list[i], self.ys_list[i]
        if x != x:  # no office location (NaN)
            return math.inf
        return 6_371_008.8 * math.hypot(math.radians(x - lon) * math.cos(math.radians(lat)), math.radians(y - lat))


def partner_index(t: RoutingTables) -> PartnerIndex:
    """The partner index of these tables, built on first use (once, whichever thread asks first)."""
    index = t.lazy.get("partners")
    if index is None:
        with t.lock:
            index = t.lazy.get("partners")
            if index is None:
                index = PartnerIndex()
                t.lazy["partners"] = index
    return index


def select_partners(
    t: RoutingTables, node, location, partner_load: PartnerLoad | None
) -> tuple[list, list[dict[str, Any]]]:
    """Active partners with a needed capability whose service area covers the point and who are under
    capacity, nearest office first, at most ROUTER_MAX_PARTNERS; and the tests of those looked at.

    When fewer than the maximum qualify, the partners nearby are reported too, each with the first
    test it failed, so a dispatcher can see why.
    """
    index = partner_index(t)
    lon, lat = location.lon, location.lat
    needed = frozenset(node.capabilities)

    found = index.at_grid(needed, location)
    if found is None:
        found = index.covering(index.pool(needed, location.community), lon, lat)
    ranked = sorted((index.distance(i, lon, lat), i) for i in found)
    load: dict[int, int] = {}
    if partner_load is not None and ranked:
        load = partner_load([index.partners[i].id for _d, i in ranked])

    limit = settings.ROUTER_MAX_PARTNERS
    chosen: list = []
    tests: list[dict[str, Any]] = []
    reported: set[int] = set()
    for d, i in ranked:
        if len(chosen) >= limit:
            break
        partner = index.partners[i]
        full = load.get(partner.id, 0) >= index.capacity[i]
        if not full:
            chosen.append(partner)
        tests.append(_partner_test(index, i, d, load, "capacity" if full else None))
        reported.add(i)
    if len(chosen) < limit:
        tests.extend(_why_not(index, needed, location, load, reported))
    return chosen, tests


def _why_not(index: PartnerIndex, needed: frozenset, location, load, reported: set) -> list:
    """The nearest partners around the point not reported yet — any whose service area reaches the
    community, active or not, capable or not — each with the first test it fails."""
    lon, lat = location.lon, location.lat
    pool = index.pool(None, location.community)
    covering = set(index.covering(pool, lon, lat))
    indices = pool[0]
    if len(indices) > PARTNER_CANDIDATES + len(reported):
        # Only the nearest few are reported: rank offices in one vectorised pass, sort just those.
        k = math.cos(math.radians(lat))
        far = np.hypot((index.xs[indices] - lon) * k, index.ys[indices] - lat)
        indices = indices[np.argpartition(np.nan_to_num(far, nan=np.inf), PARTNER_CANDIDATES + len(reported))]
        indices = indices[: PARTNER_CANDIDATES + len(reported) + 1]
    nearby = sorted((index.distance(i, lon, lat), i) for i in indices.tolist() if i not in reported)
    tests = []
    for d, i in nearby[:PARTNER_CANDIDATES]:
        if not index.active[i]:
            failed = "inactive"
        elif not needed & index.capabilities[i]:
            failed = "capability"
        elif i not in covering:
            failed = "service_area"
        else:
            failed = "capacity"  # active, capable and covering: only its load can have kept it out
        tests.append(_partner_test(index, i, d, load, failed))
    return tests


def _partner_test(index: PartnerIndex, i: int, distance: float, load, failed: str | None) -> dict[str, Any]:
    partner = index.partners[i]
    return {
        "partner": partner.id,
        "name": partner.name,
        "distance_m": None if distance == math.inf else round(distance),
        "open_cases": load.get(partner.id, 0),
        "capacity": index.capacity[i],
        "chosen": failed is None,
        "failed": failed,
        "reason": fixed_texts()[failed] if failed else None,
    }
