"""District boundaries light enough to draw: simplified until the whole city fits a vertex budget.

A district file drawn from a survey can hold a million vertices; every page that shows the
city's map sends its boundaries to the browser, which draws them as SVG paths. Above
`MAP_VERTICES` in all, the boundaries are simplified with shapely's topology-preserving
simplifier (no ring collapses or crosses itself), with the smallest tolerance, found by
bisection, that brings the count under the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

MAP_VERTICES = 50_000  # in all the city's districts: a map of them draws in well under a second
RING_VERTICES = 4  # the fewest a ring keeps, however far it is simplified (closed triangle)
SEARCH_ROUNDS = 24
# Plain Douglas-Peucker is ~10x faster than the topology-preserving pass and keeps about as many
# vertices: the tolerance is searched with it, aiming a little under the budget, then the
# topology-preserving pass runs once (twice or more only if it kept too many).
SEARCH_AIM = 0.9


@dataclass(frozen=True)
class Simplified:
    """The shapes as kept, and what simplification did (tolerance 0: nothing)."""

    shapes: np.ndarray
    vertices_read: int
    vertices_kept: int
    tolerance: float = 0.0


def vertex_count(shapes: np.ndarray) -> int:
    return int(shapely.get_num_coordinates(shapes).sum())


def ring_count(shapes: np.ndarray) -> int:
    """Exterior and interior rings of every polygon, in (multi)polygons."""
    parts = shapely.get_parts(shapes)
    return int(len(parts) + shapely.get_num_interior_rings(parts).sum())


def fewest_vertices(shapes: np.ndarray) -> int:
    """What the topology-preserving simplifier cannot go under: every ring keeps 4 vertices."""
    return RING_VERTICES * ring_count(shapes)


def simplify_to_budget(shapes: np.ndarray, budget: int = MAP_VERTICES) -> Simplified | None:
    """`shapes` with at most `budget` vertices in all; None when no tolerance gets there (too
    many rings). Unchanged when already under the budget."""
    shapes = np.asarray(shapes, dtype=object)
    read = vertex_count(shapes)
    if read <= budget:
        return Simplified(shapes, read, read)
    if fewest_vertices(shapes) > budget:
        return None
    x_min, y_min, x_max, y_max = shapely.total_bounds(shapes)
    extent = max(x_max - x_min, y_max - y_min, 1e-9)
    low, high = extent * 1e-9, extent  # kept: above the aim at `low`, under it at `high`
    for _ in range(SEARCH_ROUNDS):
        middle = math.sqrt(low * high)
        kept = vertex_count(shapely.simplify(shapes, middle, preserve_topology=False))
        if kept > budget * SEARCH_AIM:
            low = middle
        else:
            high = middle
            if kept >= budget * SEARCH_AIM / 2:  # close enough: the map cannot show more
                break
    tolerance = high
    while True:
        simplified = shapely.simplify(shapes, tolerance, preserve_topology=True)
        kept = vertex_count(simplified)
        if kept <= budget:
            return Simplified(simplified, read, kept, tolerance)
        if tolerance > 2 * extent:  # as far as it goes: only unsimplifiable rings are left
            return None
        tolerance *= 2
