"""What every room is given: the services `app.py` builds once and hands to each room's
`register(app, services)`.

A room (`pages/<room>.py` or `pages/<room>/`) exposes its pages (`PAGES`, a tuple of `Page`) and
`register(app, services)`, which wires its callbacks and routes. Callback bodies are module-level
functions that take what they need (the services, then the callback's plain values) and return
plain values, so tests import and call them; `register` binds them with `functools.partial`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.charts import ChartContext
    from components.routing import Site
    from config import Config
    from datasets.workspace import Workspace
    from server.jobs import JobStore


@dataclass(frozen=True)
class Services:
    cfg: Config
    workspace: Workspace
    # (filters store, ui store, chart option) -> the context a chart or KPI block is drawn in
    make_context: Callable[[dict, dict, str | None], ChartContext]
    site: Site
    jobs: JobStore  # the one job store every process of the data folder shares
