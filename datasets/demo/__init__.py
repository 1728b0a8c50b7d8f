"""The demo city: synthetic, seeded tables modelled on a city's published figures.

The generators (calendar, traffic, air, ecology) are pure functions returning Arrow tables and
read their parameters from the city's `demo.json`; `publish` writes them into a workspace.
"""

from __future__ import annotations


def ensure_demo(*args, **kwargs) -> list[str]:
    """See `publish.ensure_demo` (imported on use: the generators are only needed once)."""
    from .publish import ensure_demo as run

    return run(*args, **kwargs)


def generate_demo(*args, **kwargs) -> list[str]:
    """See `publish.generate_demo`."""
    from .publish import generate_demo as run

    return run(*args, **kwargs)
