"""`/`: the forum overview — the event, each round table's headline figures, a way into each.

The KPI blocks are the round-table rooms' own (declared when `app.py` imports those rooms).
"""

from __future__ import annotations

from dash import dcc, html

from components.charts import source_line
from components.kpi import KPI_KINDS, kpi_block
from components.page import Page, PageContext
from i18n import t

from .services import Services


def fact(number: str, label_key: str, lang: str):
    return html.Div(
        [html.Span(number, className="hero-number"), html.Span(t(label_key, lang))],
        className="hero-fact",
    )


def round_table(number: int, key: str, path: str, kpis, lang: str, sources=None):
    return html.Section(
        [
            html.Header(
                [
                    html.Span(t("overview.round_table", lang, number=number), className="eyebrow"),
                    html.H2(t(f"overview.{key}.title", lang)),
                    html.P(t(f"overview.{key}.question", lang), className="muted"),
                ]
            ),
            kpis,
            sources,
            dcc.Link(
                t(f"overview.{key}.explore", lang) + " →", href=path, className="btn btn-primary"
            ),
        ],
        className="card round-table",
        id=f"round-table-{number}",
    )


def layout(ctx: PageContext):
    lang = ctx.lang
    engine = ctx.view.engine or ctx.workspace.engine

    def sources(block: str):
        """Where a block's headline figures come from, synthetic or real."""
        return source_line(engine, ctx.city, KPI_KINDS.get(block, ()), lang)

    return html.Div(
        [
            html.Section(
                [
                    html.P(t("overview.eyebrow", lang), className="eyebrow"),
                    html.H1(t("overview.title", lang)),
                    html.P(t("overview.lead", lang), className="page-intro"),
                    html.Div(
                        [
                            fact("400", "overview.fact.leaders", lang),
                            fact("49", "overview.fact.countries", lang),
                            fact("2", "overview.fact.round_tables", lang),
                            fact(ctx.city.label(lang), "overview.fact.host", lang),
                        ],
                        className="hero-facts",
                    ),
                ],
                className="hero",
            ),
            html.Div(
                [
                    round_table(
                        1,
                        "traffic",
                        "/traffic",
                        kpi_block("traffic"),
                        lang,
                        sources("traffic"),
                    ),
                    round_table(
                        2,
                        "ecology",
                        "/ecology",
                        kpi_block("ecology", cards=5),
                        lang,
                        sources("ecology"),
                    ),
                ],
                className="round-tables",
            ),
            html.Section(
                [
                    html.H2(t("overview.sdg.title", lang)),
                    html.P(t("overview.sdg.text", lang)),
                    html.P(t("overview.study.text", lang), className="muted"),
                ],
                className="card forum-notes",
            ),
        ]
    )


PAGE = Page(path="/", nav="nav.overview", title="overview.title", layout=layout)

PAGES = (PAGE,)


def register(app, services: Services) -> None:
    """Nothing to wire: the room's charts and KPI blocks are declarations, drawn by the
    shell's shared callbacks (`components.charts`, `components.kpi`)."""
