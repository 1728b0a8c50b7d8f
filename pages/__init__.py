"""Pages of the app: each module declares a `Page` (path, titles, layout builder).

The router in app.py picks the page by path; a page's layout is a function of a `PageContext`
so it renders in the viewer's language, theme and city with the filters from the URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def all_pages() -> list[Page]:
    from components.datasets_choice import with_dataset_choices

    from . import cities, compare, data, ecology, explorer, overview, present, sdg, traffic, upload

    return [
        overview.PAGE,
        with_dataset_choices(traffic.PAGE, traffic.CHARTS),
        with_dataset_choices(ecology.PAGE, ecology.CHARTS),
        sdg.PAGE,
        compare.PAGE,
        data.PAGE,
        upload.PAGE,  # /data/upload (exact path: before the explorer's /data/<id>)
        explorer.PAGE,
        *present.PAGES,
        cities.PAGE,  # /cities: not in the navigation (linked from /sdg and /compare)
    ]
