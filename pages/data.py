"""`/data`: the catalog, each dataset with its provenance, a preview of its rows and downloads."""

from __future__ import annotations

from functools import partial

from dash import ALL, MATCH, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate

from components.charts import data_flag, sdg_badges
from components.kpi import page_header
from components.page import Page, PageContext
from components.routing import wire_ready
from components.state import ui_settings
from components.upload_versions import (
    analyst_actions,
    card_id,
    catalog_tools,
    versions_rows_id,
    versions_summary_id,
    versions_table,
)
from datasets.catalog import CatalogError, Dataset
from datasets.export import csv_size_estimate, district_names, preview
from datasets.workspace import Workspace
from i18n import fmt_number, t
from server.auth import current_analyst, visitor_notice

from .services import Services

PREVIEW_ROWS = 8


def coverage(dataset: Dataset, lang: str) -> str:
    v = dataset.current
    if not v.time_min:
        return t("data.no_time", lang)
    return f"{v.time_min[:10]} → {v.time_max[:10]}"


def fact(label_key: str, value, lang: str) -> list:
    return [html.Dt(t(label_key, lang)), html.Dd(value)]


def preview_table(dataset: Dataset, workspace: Workspace):
    frame = preview(workspace.engine, dataset, PREVIEW_ROWS)
    # numpy writes a float32 as it reads (11.74); a row tuple would widen it (11.739999771118164)
    frame = frame.astype({c: str for c in frame.columns if frame[c].dtype == "float32"})
    return html.Div(
        html.Table(
            [
                html.Thead(html.Tr([html.Th(str(c)) for c in frame.columns])),
                html.Tbody(
                    [
                        html.Tr([html.Td(str(v)) for v in row])
                        for row in frame.itertuples(index=False)
                    ]
                ),
            ],
            className="data-table",
        ),
        className="table-wrap",
    )


def preview_section(dataset: Dataset, lang: str):
    """The preview's rows come when it is opened (`preview_rows`): drawn with the page,
    the tables were two thirds of its components, and the browser's time to draw a page grows
    faster than its components (dash-renderer looks each up again on every store update)."""
    return html.Details(
        [
            html.Summary(t("data.preview", lang), id=preview_id(dataset.id), n_clicks=0),
            html.Div(id=preview_rows_id(dataset.id), className="preview-rows"),
        ],
        className="preview",
    )


def preview_id(dataset_id: str) -> dict:
    return {"type": "ds-preview", "id": dataset_id}


def preview_rows_id(dataset_id: str) -> dict:
    return {"type": "ds-preview-rows", "id": dataset_id}


def fmt_size(n_bytes: int, lang: str) -> str:
    """A file size in the locale's numbers and units (decimal units, as file managers show)."""
    for unit, scale in (("gb", 1e9), ("mb", 1e6), ("kb", 1e3)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return t(f"data.size.{unit}", lang, n=fmt_number(value, lang, 0 if value >= 10 else 1))
    return t("data.size.kb", lang, n=fmt_number(n_bytes / 1e3, lang, 1))


def csv_link(dataset: Dataset, lang: str, workspace: Workspace):
    """The CSV download, with its size: the file is written as it is sent, so no browser can
    show a total; the card says it first, estimated (`csv_size_estimate`)."""
    names = district_names(dataset, workspace.cities.get(dataset.meta.city), lang)
    size = fmt_size(csv_size_estimate(dataset, names), lang)
    return html.A(
        t("data.download_csv_size", lang, size=size),
        href=f"/download/{dataset.id}.csv?lang={lang}",
        title=t("data.csv_size_estimate", lang),
        className="btn btn-small",
    )


def dataset_card(
    dataset: Dataset, lang: str, workspace: Workspace, analyst: str | None, message: str = ""
):
    """One dataset; an `analyst` also gets its versions, restore and delete."""
    m = dataset.meta
    v = dataset.current
    units = ", ".join(f"{c['name']} ({c['unit']})" if c["unit"] else c["name"] for c in v.columns)
    return html.Article(
        [
            html.Header(
                [
                    html.H2(dataset.title(lang)),
                    data_flag(dataset, lang, "pill"),
                    sdg_badges(m.sdg, lang),
                ],
                className="dataset-header",
            ),
            html.P(dataset.description(lang)),
            html.Dl(
                [
                    *fact("data.round_table", t(f"data.round_table.{m.round_table}", lang), lang),
                    *fact("data.kind", m.kind, lang),
                    *fact(
                        "data.source",
                        html.A(m.source, href=m.source_url) if m.source_url else m.source,
                        lang,
                    ),
                    *fact("data.licence", m.licence, lang),
                    *fact("data.coverage", coverage(dataset, lang), lang),
                    *fact("data.rows", fmt_number(v.rows, lang), lang),
                    *fact("data.version", f"v{v.version} · {dataset.updated_at[:10]}", lang),
                    *fact("data.columns", units, lang),
                ],
                className="facts dataset-facts",
            ),
            preview_section(dataset, lang),
            html.Div(
                [
                    html.A(  # the explorer (pages/explorer.py), for anyone
                        t("explorer.open", lang),
                        href=f"/data/{dataset.id}",
                        className="btn btn-small btn-primary",
                    ),
                    html.A(
                        t("data.download_parquet", lang),
                        href=f"/download/{dataset.id}.parquet",
                        className="btn btn-small",
                    ),
                    csv_link(dataset, lang, workspace),
                ],
                className="dataset-actions",
            ),
            analyst_actions(workspace, dataset, lang, analyst, message),
        ],
        className="card dataset-card",
        id=dataset.id,
    )


def layout(ctx: PageContext):
    datasets = ctx.workspace.catalog.datasets(city=ctx.city.id)
    analyst = current_analyst()
    by_table = {
        table: [d for d in datasets if d.meta.round_table == table]
        for table in ("traffic", "ecology", "other")
    }
    sections = []
    for table, members in by_table.items():
        if not members:
            continue
        sections.append(
            html.H2(t(f"data.round_table.{table}", ctx.lang), className="section-title")
        )
        sections.append(
            html.Div(
                [
                    html.Div(dataset_card(d, ctx.lang, ctx.workspace, analyst), id=card_id(d.id))
                    for d in members
                ],
                className="dataset-list",
            )
        )
    return html.Div(
        [
            page_header(
                t("data.title", ctx.lang),
                t("data.subtitle", ctx.lang, count=len(datasets), city=ctx.city.label(ctx.lang)),
            ),
            catalog_tools(ctx.lang),  # sign in, upload (components/upload_versions.py)
            *sections,
        ]
    )


def preview_rows(workspace: Workspace, *, trigger: object, clicks: int | None, shown: object):
    """The rows of the preview `trigger` (its id) once it is opened."""
    # closing the preview, or a forged request: nothing to draw
    if shown or not clicks or not isinstance(trigger, dict):
        raise PreventUpdate
    try:
        dataset = workspace.catalog.get(str(trigger["id"]))
    except CatalogError:
        raise PreventUpdate from None
    return wire_ready(preview_table(dataset, workspace))


def versions_rows(
    workspace: Workspace,
    analyst: str | None,
    *,
    trigger: object,
    clicks: int | None,
    shown: object,
    ui: dict | None,
):
    """The versions' table of the dataset `trigger` (its id) once it is opened."""
    # closing the table, or a forged request: nothing to draw
    if shown or not clicks or not isinstance(trigger, dict):
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    if analyst is None:
        return visitor_notice(lang, "/data", "auth.required")
    try:
        dataset = workspace.catalog.get(str(trigger["id"]))
    except CatalogError:
        raise PreventUpdate from None
    return versions_table(workspace, dataset, lang)


def act(
    workspace: Workspace, analyst: str | None, *, trigger: object, clicked: bool, ui: dict | None
):
    """The card of a dataset once an analyst restored one of its versions (`trigger` is the
    button's id, with the version) or deleted it (confirmed). Restoring moves the dataset's
    current-version pointer (the files of every version stay); deleting removes the dataset and
    its files."""
    if not isinstance(trigger, dict) or not clicked:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    if analyst is None:
        return visitor_notice(lang, "/data", "auth.required")
    dataset_id = trigger["id"]
    try:
        if trigger["type"] == "ds-delete":
            title = workspace.catalog.get(dataset_id).title(lang)
            workspace.catalog.delete(dataset_id)
            workspace.engine.clear_cache()
            return html.P(
                t("versions.deleted", lang, title=title),
                className="card versions-deleted",
                role="status",
            )
        version = int(trigger["v"])
        workspace.catalog.restore(dataset_id, version)
        workspace.engine.clear_cache()
        message = t("versions.restored", lang, version=version)
        dataset = workspace.catalog.get(dataset_id)
        return dataset_card(dataset, lang, workspace, analyst, message)
    except (CatalogError, ValueError) as exc:
        return html.P(str(exc), className="card upload-error", role="alert")


def _preview_request(workspace: Workspace, clicks, shown):
    return preview_rows(workspace, trigger=ctx.triggered_id, clicks=clicks, shown=shown)


def _versions_request(workspace: Workspace, clicks, shown, ui):
    trigger = ctx.triggered_id
    return versions_rows(
        workspace, current_analyst(), trigger=trigger, clicks=clicks, shown=shown, ui=ui
    )


def _act_request(workspace: Workspace, restores, delete, ui):
    clicked = bool(ctx.triggered and ctx.triggered[0]["value"])
    return act(workspace, current_analyst(), trigger=ctx.triggered_id, clicked=clicked, ui=ui)


def register(app, services: Services) -> None:
    """A preview's rows, drawn when it is opened; for analysts, the versions' table, restore
    and delete."""
    workspace = services.workspace
    app.callback(
        Output(preview_rows_id(MATCH), "children"),
        inputs=dict(clicks=Input(preview_id(MATCH), "n_clicks")),
        state=dict(shown=State(preview_rows_id(MATCH), "children")),
        prevent_initial_call=True,
    )(partial(_preview_request, workspace))
    app.callback(
        Output(versions_rows_id(MATCH), "children"),
        inputs=dict(clicks=Input(versions_summary_id(MATCH), "n_clicks")),
        state=dict(shown=State(versions_rows_id(MATCH), "children"), ui=State("ui", "data")),
        prevent_initial_call=True,
    )(partial(_versions_request, workspace))
    app.callback(
        Output(card_id(MATCH), "children"),
        inputs=dict(
            restores=Input({"type": "ds-restore", "id": MATCH, "v": ALL}, "n_clicks"),
            delete=Input({"type": "ds-delete", "id": MATCH}, "submit_n_clicks"),
        ),
        state=dict(ui=State("ui", "data")),
        prevent_initial_call=True,
    )(partial(_act_request, workspace))


PAGE = Page(path="/data", nav="nav.data", title="data.title", layout=layout, filters=False)
PAGES = (PAGE,)
