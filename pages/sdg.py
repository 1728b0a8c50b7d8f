"""`/sdg`: the city's SDG targets, and the Voluntary Local Review annex (`/sdg/annex`).

The forum's session on localising the SDGs asked cities to monitor and report: this page lists
every indicator the city's datasets can compute (`datasets.indicators`), grouped by SDG target,
with its value, trend, reference, status, datasets and method, and every gap with the kind of
dataset that would fill it. The annex is the same content as a document (HTML or PDF, in each of
the four languages) that a city attaches to its Voluntary Local Review.
"""

from __future__ import annotations

import functools
import json

import flask
import pandas as pd
from dash import dcc, html

from components.annex import (
    build_html,
    build_pdf,
    gap_name,
    gap_need,
    gap_reason,
    method_text,
    period_text,
    reference_text,
    status_text,
    trend_text,
    value_text,
)
from components.annex import filename as annex_filename
from components.charts import Chart, ChartContext, card, data_flag, sdg_badges
from components.charts import register as declare_chart
from components.evidence import city_evidence
from components.figures import sdg as figures
from components.kpi import page_header
from components.page import Page, PageContext
from datasets.cities import DEFAULT_CITY, CityProfile
from datasets.evidence.interventions import InterventionStore
from datasets.indicators import Gap, Result, evaluate, unit_label
from datasets.query import MissingDataset
from datasets.workspace import Workspace
from i18n import LANGUAGE_NAMES, LANGUAGES, fmt_date, t
from server import job_routes
from server.jobs import Busy

from .services import Services

UPLOAD_PATH = "/data/upload"
AIR = ("air_quality_hourly", "air_stations")


def _city_query(city_id: str, **extra: str) -> str:
    params = {"city": city_id, **extra} if city_id != DEFAULT_CITY else dict(extra)
    return "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""


# -- the PM2.5 chart ---------------------------------------------------------------------------


def pm25_months(ctx: ChartContext) -> pd.DataFrame:
    """Monthly population-weighted PM2.5 of the reporting period (columns period, value)."""
    if ctx.engine.catalog.find(ctx.city.id, "air_quality_hourly") is None:
        raise MissingDataset(f"{ctx.city.id} has no air_quality_hourly dataset")
    result = evaluate(ctx.engine, ctx.city).result("pm25_annual")
    if result is None:
        return pd.DataFrame(columns=["period", "value"])
    return result.months.dropna(subset=["value"]).reset_index(drop=True)


PM25_CHART = declare_chart(
    Chart(
        id="sdg-pm25-who",
        title="sdg.chart.pm25_who",
        data=pm25_months,
        figure=figures.pm25_who_figure,
        kinds=AIR,
        sdg=("11.6.2",),
        note="sdg.note.pm25_who",
        height=340,
        wide=True,
    )
)


# -- cards -------------------------------------------------------------------------------------


def dataset_links(datasets, lang: str):
    items = []
    for d in datasets:
        items.append(
            html.Li(
                [
                    html.A(d.title(lang), href=f"/data#{d.id}"),
                    f" · {d.meta.source} · v{d.current_version} · {d.updated_at[:10]} · ",
                    data_flag(d, lang),
                ]
            )
        )
    return html.Ul(items, className="sdg-datasets")


def fact(label_key: str, value, lang: str):
    return html.Div([html.Dt(t(label_key, lang)), html.Dd(value)], className="sdg-fact")


def result_card(result: Result, lang: str):
    ind = result.indicator
    name = t(f"sdg.ind.{result.id}.name", lang)
    svg = figures.sparkline_svg(
        result.trend,
        result.trend_unit,
        lang,
        status_class=result.status_class,
        reference=ind.reference.value if ind.reference and not ind.percent else None,
        percent=ind.percent,
        digits=ind.digits,
        label=name,
    )
    trend = trend_text(result, lang)
    return html.Article(
        [
            html.Header(
                [
                    html.H3(name),
                    html.Span(
                        status_text(result, lang),
                        className=f"sdg-status status-{result.status_class}",
                        **{"data-status": result.status},
                    ),
                ],
                className="sdg-card-header",
            ),
            html.Div(
                [
                    html.P(
                        [
                            html.Span(value_text(result, lang), className="sdg-number"),
                            html.Span(unit_label(ind, lang), className="sdg-unit"),
                        ],
                        className="sdg-value",
                    ),
                    html.Img(src=figures.svg_data_uri(svg), alt=trend, className="sdg-spark"),
                ],
                className="sdg-value-row",
            ),
            html.P(trend, className="sdg-trend muted"),
            html.Dl(
                [
                    fact("sdg.col.period", period_text(result, lang), lang),
                    fact("sdg.col.reference", reference_text(result, lang), lang),
                    fact("sdg.col.source", dataset_links(result.datasets, lang), lang),
                    fact("sdg.col.method", method_text(result, lang), lang),
                ],
                className="sdg-facts",
            ),
        ],
        className="card sdg-card",
        id=f"sdg-{result.id}",
        **{"data-indicator": result.id},
    )


def gap_card(gap: Gap, city_id: str, lang: str):
    return html.Article(
        [
            html.Header(html.H3(gap_name(gap, lang)), className="sdg-card-header"),
            html.P(gap_reason(gap, lang), className="sdg-gap-reason"),
            html.P(
                [html.Strong(t("sdg.gap.would_fill", lang)), " ", gap_need(gap, lang)],
                className="sdg-gap-need",
            ),
            html.A(
                t("sdg.gap.upload", lang) + " →",
                href=UPLOAD_PATH + _city_query(city_id),
                className="btn btn-small",
            ),
        ],
        className="card sdg-card sdg-gap",
        id=f"gap-{gap.id}",
        **{"data-gap": gap.reason},
    )


def annex_links(city_id: str, lang: str):
    rows = []
    for code in (lang, *[c for c in LANGUAGES if c != lang]):
        rows.append(
            html.Li(
                [
                    html.Span(LANGUAGE_NAMES[code], className="sdg-annex-lang"),
                    *[
                        html.A(
                            t(f"sdg.annex.{fmt}", lang),
                            href="/sdg/annex" + _city_query(city_id, lang=code, format=fmt),
                            className="btn btn-small",
                            target="_blank",
                            id=f"annex-{code}-{fmt}",
                        )
                        for fmt in ("html", "pdf")
                    ],
                ]
            )
        )
    return html.Section(
        [
            html.H2(t("sdg.annex.title", lang)),
            html.P(t("sdg.annex.text", lang), className="muted"),
            html.Ul(rows, className="sdg-annex-links"),
        ],
        className="card sdg-annex",
        id="sdg-annex",
    )


def target_section(target: str, results: list[Result], gaps: list[Gap], city_id: str, lang: str):
    return html.Section(
        [
            html.H2([sdg_badges((target,), lang), " ", t(f"sdg.{target}", lang)]),
            html.Div(
                [result_card(r, lang) for r in results]
                + [gap_card(g, city_id, lang) for g in gaps],
                className="sdg-grid",
            ),
        ],
        className="sdg-target",
        id=f"target-{target.replace('.', '-')}",
        **{"data-target": target},
    )


def layout(ctx: PageContext):
    lang, city = ctx.lang, ctx.city
    engine = ctx.workspace.engine
    evaluation = evaluate(engine, city)
    datasets = evaluation.datasets
    summary = t(
        "sdg.summary",
        lang,
        computed=len(evaluation.results),
        datasets=len(datasets),
        gaps=len(evaluation.gaps),
    )
    notes = [html.P(summary, className="sdg-summary", id="sdg-summary")]
    if any(d.meta.synthetic for d in datasets):
        notes.append(html.P(t("sdg.synthetic_note", lang), className="notice sdg-synthetic"))
    notes.append(
        html.P(
            t("sdg.computed", lang, date=fmt_date(evaluation.computed_at.date(), lang)),
            className="muted small",
        )
    )
    has_air = engine.catalog.find(city.id, "air_quality_hourly") is not None
    return html.Div(
        [
            page_header(
                t("sdg.title", lang),
                t("sdg.subtitle", lang, city=city.label(lang)),
                t("sdg.intro", lang),
            ),
            *notes,
            annex_links(city.id, lang),
            html.Div([card(PM25_CHART, engine, city, lang)], className="chart-grid")
            if has_air
            else None,
            *[
                target_section(target, results, gaps, city.id, lang)
                for target, results, gaps in evaluation.by_target()
            ],
            html.P(dcc.Link(t("sdg.add_city", lang) + " →", href="/cities"), className="sdg-more"),
        ],
        className="page-sdg",
    )


PAGE = Page(path="/sdg", nav="nav.sdg", title="sdg.title", layout=layout, filters=False)


# -- the annex route ---------------------------------------------------------------------------

ANNEX_PDF = "sdg-annex-pdf"  # the job kind of the annex printed by Chromium


def annex_key(workspace: Workspace, city: CityProfile, lang: str) -> str:
    """What the printed annex depends on: the city (and its population, which per-capita
    indicators divide by), the language, the versions of the city's datasets and the
    interventions recorded for it (each evaluated in the annex)."""
    people = [city.population, [(d.code, d.population) for d in city.districts]]
    recorded = [
        (iv.id, iv.created_at) for iv in InterventionStore(workspace.data_dir).list(city.id)
    ]
    return json.dumps([city.id, lang, people, workspace.engine.data_token(city.id), recorded])


def print_annex(workspace: Workspace, params: dict, progress) -> tuple[bytes, str, str]:
    """The job that prints the annex of `params` (city, lang) to PDF."""
    city = workspace.city(params["city"])
    evaluation = evaluate(workspace.engine, city)
    lang = params["lang"]
    document = build_html(evaluation, lang, interventions=city_evidence(workspace, city))
    pdf = build_pdf(document, progress=progress)
    return pdf, annex_filename(evaluation, lang, "pdf"), "application/pdf"


def annex_reply(services: Services):
    """`GET /sdg/annex?city=&lang=&format=html|pdf[&download=1]`: the HTML at once, the PDF
    through the job store (waited for up to the export wait, or the job's status)."""
    workspace, jobs = services.workspace, services.jobs
    args = flask.request.args
    lang = args.get("lang", "en")
    fmt = args.get("format", "html")
    if lang not in LANGUAGES or fmt not in ("html", "pdf"):
        flask.abort(400)
    try:
        city = workspace.city(args.get("city") or services.cfg.city)
    except LookupError:
        flask.abort(404)
    disposition = "attachment" if args.get("download") else "inline"
    if fmt == "html":
        # inline: the evaluation is the one /sdg itself shows, the interventions' those the
        # pilot card and /evaluate keep (each cached until the data change; seconds for one
        # not yet evaluated), and writing it out as HTML is string work of milliseconds
        evaluation = evaluate(workspace.engine, city)
        name = annex_filename(evaluation, lang, fmt)
        return flask.Response(
            build_html(evaluation, lang, interventions=city_evidence(workspace, city)),
            mimetype="text/html",
            headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
        )
    params = {"city": city.id, "lang": lang}
    try:
        job = job_routes.submit(jobs, ANNEX_PDF, params, annex_key(workspace, city, lang))
    except Busy as exc:
        return job_routes.busy_reply(exc)
    return job_routes.waited_reply(jobs, job, disposition)


PAGES = (PAGE,)


def register(app, services: Services) -> None:
    """The annex: its route and the job printing its PDF."""
    services.jobs.register(ANNEX_PDF, functools.partial(print_annex, services.workspace))
    app.server.add_url_rule(
        "/sdg/annex", "sdg_annex", functools.partial(annex_reply, services), methods=["GET"]
    )
