"""`/data`: the catalog, each dataset with its provenance, a preview of its rows and downloads."""

from __future__ import annotations

from dash import html

from components.charts import sdg_badges
from components.kpi import page_header
from components.upload_versions import analyst_actions, card_id, catalog_tools
from datasets.catalog import Dataset
from datasets.export import preview
from datasets.workspace import Workspace
from i18n import fmt_number, t

from . import Page, PageContext

PREVIEW_ROWS = 8


def coverage(dataset: Dataset, lang: str) -> str:
    v = dataset.current
    if not v.time_min:
        return t("data.no_time", lang)
    return f"{v.time_min[:10]} → {v.time_max[:10]}"


def fact(label_key: str, value, lang: str):
    return html.Div([html.Dt(t(label_key, lang)), html.Dd(value)], className="fact")


def preview_table(dataset: Dataset, workspace: Workspace):
    frame = preview(workspace.engine, dataset, PREVIEW_ROWS)
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


def dataset_card(dataset: Dataset, lang: str, workspace: Workspace, message: str = ""):
    """One dataset; an analyst also gets its versions, restore and delete."""
    m = dataset.meta
    v = dataset.current
    flag = "synthetic" if m.synthetic else "real"
    units = ", ".join(f"{c['name']} ({c['unit']})" if c["unit"] else c["name"] for c in v.columns)
    return html.Article(
        [
            html.Header(
                [
                    html.H2(dataset.title(lang)),
                    html.Span(t(f"data.{flag}", lang), className=f"flag flag-{flag} pill"),
                    sdg_badges(m.sdg, lang),
                ],
                className="dataset-header",
            ),
            html.P(dataset.description(lang)),
            html.Dl(
                [
                    fact("data.round_table", t(f"data.round_table.{m.round_table}", lang), lang),
                    fact("data.kind", m.kind, lang),
                    fact(
                        "data.source",
                        html.A(m.source, href=m.source_url) if m.source_url else m.source,
                        lang,
                    ),
                    fact("data.licence", m.licence, lang),
                    fact("data.coverage", coverage(dataset, lang), lang),
                    fact("data.rows", fmt_number(v.rows, lang), lang),
                    fact("data.version", f"v{v.version} · {dataset.updated_at[:10]}", lang),
                    fact("data.columns", units, lang),
                ],
                className="facts",
            ),
            html.Details(
                [html.Summary(t("data.preview", lang)), preview_table(dataset, workspace)],
                className="preview",
            ),
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
                    html.A(
                        t("data.download_csv", lang),
                        href=f"/download/{dataset.id}.csv",
                        className="btn btn-small",
                    ),
                ],
                className="dataset-actions",
            ),
            analyst_actions(workspace, dataset, lang, message),
        ],
        className="card dataset-card",
        id=dataset.id,
    )


def layout(ctx: PageContext):
    datasets = ctx.workspace.catalog.datasets(city=ctx.city.id)
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
                    html.Div(dataset_card(d, ctx.lang, ctx.workspace), id=card_id(d.id))
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


PAGE = Page(path="/data", nav="nav.data", title="data.title", layout=layout, filters=False)
