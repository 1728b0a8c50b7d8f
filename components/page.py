"""What a page is to the shell: its path, titles, layout builder and page-wide options.

The router (`components.routing`) picks the page by path; a page's layout is a function of a
`PageContext`, so it renders in the viewer's language, theme and city with the filters from the
URL. The rooms in `pages/` declare their pages with these types; the shell reads them, which is
why they live beside the shell rather than in `pages/`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from datasets.cities import CityProfile
from datasets.workspace import Workspace

from .charts import ChartContext
from .state import ViewState


@dataclass(frozen=True)
class PageContext:
    workspace: Workspace
    city: CityProfile
    state: ViewState
    lang: str
    theme: str
    view: ChartContext  # the context charts and KPI blocks of this page are built with
    path: str = "/"


@dataclass(frozen=True)
class PageOption:
    """A page-wide choice kept in the URL (e.g. `aqi=epa`), shown as a radio group; or, with
    `choices_from`, a dropdown of choices listed when the page renders (hidden if under two)."""

    name: str
    label: str  # message key
    choices: tuple[tuple[str, str], ...]  # (value, message key)
    default: str
    # (PageContext) -> [(value, label text)], e.g. the datasets of a kind (datasets_choice.py)
    choices_from: Callable[[PageContext], Sequence[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Page:
    path: str
    nav: str  # message key of the navigation label
    title: str  # message key of the page heading
    layout: Callable[[PageContext], object]
    filters: bool = True  # whether the filter bar applies
    options: tuple[PageOption, ...] = field(default=())
    in_nav: bool = True
    prefix: bool = False  # also serves paths below `path` (e.g. /data/<id>)
    # the kind whose time span bounds the filter bar's dates and sets its default period
    period_kind: str = "traffic_readings"
