"""Pages of the app: each module declares a `Page` (path, titles, layout builder).

The router in app.py picks the page by path; a page's layout is a function of a `PageContext`
so it renders in the viewer's language, theme and city with the filters from the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from components.charts import ChartContext
from components.state import ViewState
from datasets.cities import CityProfile
from datasets.workspace import Workspace


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
    """A page-wide choice kept in the URL (e.g. `aqi=epa`), shown as a radio group."""

    name: str
    label: str  # message key
    choices: tuple[tuple[str, str], ...]  # (value, message key)
    default: str


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


def all_pages() -> list[Page]:
    from . import data, ecology, overview, traffic

    return [overview.PAGE, traffic.PAGE, ecology.PAGE, data.PAGE]
