"""The dataset chooser of round-table pages: when a city has several datasets of one kind (the
demo's air quality and an uploaded file, say), the viewer picks which one feeds the page.

The choice is a page option kept in the URL, `?ds_air_quality_hourly=<dataset id>`; without it
the most recently updated dataset of the kind is used, as everywhere. Choosing in the dropdown
loads the page again with the new URL, so everything on it is drawn from the chosen dataset.

Queries never see the choice: they call `engine.find / dataset / source / rollup / plan` on a
*view* of the query engine (`chosen_engine`) whose `find` answers with the chosen
dataset. The view shares the real engine's DuckDB connection and caches; the engine's own
methods run bound to the view, so a method that looks a dataset up through `self` (`source`,
`rollup`, `plan`…) sees the choice too. A choice naming a dataset of another kind or city, or
one deleted since, is ignored.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from dataclasses import replace

from dash import ALL, Input, dcc, html

from datasets.catalog import Catalog, CatalogError, Dataset
from i18n import t

from .page import PageOption

PREFIX = "ds_"


def option_name(kind: str) -> str:
    return PREFIX + kind


def chosen_ids(options: dict | None) -> dict[str, str]:
    """{kind: dataset id} from page options such as `{"ds_air_quality_hourly": "beijing"}`."""
    return {
        name[len(PREFIX) :]: value
        for name, value in (options or {}).items()
        if name.startswith(PREFIX) and isinstance(value, str) and value
    }


class _Chooser:
    """The chosen dataset of a kind, looked up once per view, checked against city and kind."""

    def __init__(self, catalog: Catalog, chosen: dict[str, str]) -> None:
        self._catalog = catalog
        self._chosen = dict(chosen)
        self._memo: dict[tuple[str, str], Dataset | None] = {}

    def pick(self, city: str, kind: str) -> Dataset | None:
        dataset_id = self._chosen.get(kind)
        if not dataset_id:
            return None
        key = (city, kind)
        if key not in self._memo:
            try:
                found = self._catalog.get(dataset_id)
            except CatalogError:
                found = None
            ok = found is not None and found.meta.city == city and found.meta.kind == kind
            self._memo[key] = found if ok else None
        return self._memo[key]


class ChosenCatalog:
    """The catalog as the page sees it: `find` returns the chosen dataset of a kind."""

    def __init__(self, catalog: Catalog, chooser: _Chooser) -> None:
        self._catalog = catalog
        self._chooser = chooser

    def find(self, city: str, kind: str) -> Dataset | None:
        return self._chooser.pick(city, kind) or self._catalog.find(city, kind)

    def __getattr__(self, name: str):
        return getattr(self._catalog, name)


class ChosenEngine:
    """A view of a `QueryEngine` for one request. Data attributes (caches, connection) are the
    engine's own; its methods are re-bound to this view so their `self.find(...)` is ours."""

    _OWN = frozenset({"_engine", "_chooser", "catalog"})

    def __init__(self, engine, chosen: dict[str, str]) -> None:
        chooser = _Chooser(engine.catalog, chosen)
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "_chooser", chooser)
        object.__setattr__(self, "catalog", ChosenCatalog(engine.catalog, chooser))

    @property
    def engine(self):
        """The engine this is a view of."""
        return self._engine

    def find(self, city: str, kind: str) -> Dataset | None:
        picked = self._chooser.pick(city, kind)
        if picked is not None:
            return picked
        real = getattr(self._engine, "find", None)  # the engine's own (cached) lookup
        return real(city, kind) if real is not None else self._engine.catalog.find(city, kind)

    def dataset(self, city: str, kind: str) -> Dataset:
        picked = self._chooser.pick(city, kind)
        return picked if picked is not None else self._engine.dataset(city, kind)

    def __getattr__(self, name: str):
        attr = getattr(type(self._engine), name, None)
        if isinstance(attr, types.FunctionType):
            return types.MethodType(attr, self)
        return getattr(self._engine, name)

    def __setattr__(self, name: str, value) -> None:
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self._engine, name, value)


def chosen_engine(engine, options: dict | None):
    """The engine the charts of a page query: `engine` itself when nothing is chosen."""
    chosen = chosen_ids(options)
    if not chosen or engine is None:
        return engine
    return ChosenEngine(getattr(engine, "engine", engine), chosen)


class WorkspaceView:
    """A workspace whose `engine` is a chosen view (for the layout of one page render)."""

    def __init__(self, workspace, engine) -> None:
        self._workspace = workspace
        self.engine = engine

    def __getattr__(self, name: str):
        return getattr(self._workspace, name)


def chosen_workspace(workspace, options: dict | None):
    engine = chosen_engine(workspace.engine, options)
    return workspace if engine is workspace.engine else WorkspaceView(workspace, engine)


# -- the control --------------------------------------------------------------------------------


def dataset_choices(page_ctx, kind: str) -> list[tuple[str, str]]:
    """(value, label) of a kind's datasets in the page's city, most recent first; the empty
    value is "the most recent" (no choice in the URL). Fewer than two datasets: nothing."""
    catalog = page_ctx.workspace.engine.catalog  # the lookups kept in memory (CachedCatalog)
    found = sorted(
        catalog.datasets(city=page_ctx.city.id, kind=kind),
        key=lambda d: d.updated_at,
        reverse=True,
    )
    if len(found) < 2:
        return []
    lang = page_ctx.lang
    latest = t("choice.latest", lang, title=found[0].title(lang))
    return [("", latest)] + [
        (d.id, f"{d.title(lang)} · v{d.current_version} · {d.updated_at[:10]}") for d in found
    ]


def kinds_of(charts: Sequence) -> tuple[str, ...]:
    """The kinds a page's charts read, in order of first appearance."""
    return tuple(dict.fromkeys(kind for chart in charts for kind in chart.kinds))


def with_dataset_choices(page, charts: Sequence):
    """`page` with one dataset chooser per kind its charts read (shown only where the city has
    more than one dataset of that kind)."""

    def lister(kind: str) -> Callable:
        return lambda page_ctx: dataset_choices(page_ctx, kind)

    choosers = tuple(
        PageOption(
            name=option_name(kind),
            label=f"choice.{kind}",
            choices=(),
            default="",
            choices_from=lister(kind),
        )
        for kind in kinds_of(charts)
    )
    return replace(page, options=(*page.options, *choosers))


def choice_control(option, state, lang: str, page_ctx):
    """The dropdown of a `choices_from` option, or None when there is nothing to choose."""
    choices = option.choices_from(page_ctx) if page_ctx is not None else []
    if len(choices) < 2:
        return None
    values = {value for value, _ in choices}
    current = state.options.get(option.name, option.default)
    return html.Div(
        [
            html.Span(t(option.label, lang), className="filter-label"),
            dcc.Dropdown(
                id={"type": "ds-choice", "name": option.name},
                options=[{"label": label, "value": value} for value, label in choices],
                value=current if current in values else option.default,
                clearable=False,
                searchable=False,
                className="dataset-choice",
            ),
        ],
        className="page-option page-option-"
        + ("dataset" if option.name.startswith(PREFIX) else option.name),
    )


# A new choice loads the page again with the choice in its URL: every part of the page (charts,
# KPI blocks, the source line under each chart, this dropdown) is then drawn from the chosen
# dataset, and the back button returns to the previous one. Nothing is in flight when the page
# goes, since no other callback listens to these dropdowns.
NAVIGATE = """
function(values) {
    const inputs = window.dash_clientside.callback_context.inputs_list[0];
    const params = new URLSearchParams(window.location.search);
    let changed = false;
    inputs.forEach((item, i) => {
        const name = item.id.name;
        const value = values[i] || '';
        if ((params.get(name) || '') !== value) {
            changed = true;
            if (value) { params.set(name, value); } else { params.delete(name); }
        }
    });
    if (changed) {
        const query = params.toString();
        window.location.assign(window.location.pathname + (query ? '?' + query : ''));
    }
}
"""


def register_choice_callbacks(app) -> None:
    app.clientside_callback(
        NAVIGATE,
        Input({"type": "ds-choice", "name": ALL}, "value"),
        prevent_initial_call=True,
    )
