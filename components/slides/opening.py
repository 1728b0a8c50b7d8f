"""The deck's opening: the council in three numbers, and the host city's districts by density."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from i18n import fmt_number, t

from ..charts import ChartContext, FigureContext
from ..figures import geo
from ..figures import traffic as traffic_figures
from ..theme import PALETTE, colorway

# -- opening: the council, the host city ----------------------------------------------------------

COUNCIL_FACTS = (
    ("leaders", 400, "overview.fact.leaders"),
    ("countries", 49, "overview.fact.countries"),
    ("round_tables", 2, "overview.fact.round_tables"),
)


def council_data(ctx: ChartContext) -> pd.DataFrame:
    return pd.DataFrame(COUNCIL_FACTS, columns=["id", "value", "label"])


def council_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    colours = colorway(ctx.theme)
    fig = go.Figure()
    n = len(frame)
    for i, row in enumerate(frame.itertuples(index=False)):
        fig.add_trace(
            go.Indicator(
                mode="number",
                value=row.value,
                number={"font": {"size": 96, "color": colours[i % len(colours)]}},
                title={"text": t(row.label, ctx.lang), "font": {"size": 24}},
                domain={"x": [i / n + 0.02, (i + 1) / n - 0.02], "y": [0.15, 0.85]},
            )
        )
    fig.add_annotation(
        text=t("present.council.caption", ctx.lang),
        x=0.5,
        y=0.0,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 20},
    )
    return fig


def city_data(ctx: ChartContext) -> pd.DataFrame:
    rows = [
        {
            "district": d.code,
            "name": d.label(ctx.lang),
            "population": d.population,
            "area_km2": d.area_km2,
        }
        for d in ctx.city.districts
        if d.population and d.area_km2
    ]
    frame = pd.DataFrame(rows, columns=["district", "name", "population", "area_km2"])
    frame["density"] = frame["population"] / frame["area_km2"]
    return frame


def city_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    lang = ctx.lang
    text = PALETTE[ctx.theme]["text"]
    _, outline = traffic_figures.district_colours(ctx.theme)
    features = [f for f in ctx.city.geojson["features"] if f["id"] in set(frame["district"])]
    fig = go.Figure(
        go.Choropleth(
            geojson={"type": "FeatureCollection", "features": features},
            locations=frame["district"].astype(int).tolist(),
            z=np.log10(frame["density"].astype(float)),
            customdata=list(
                zip(
                    frame["name"],
                    [fmt_number(v, lang) for v in frame["population"]],
                    [fmt_number(v, lang) for v in frame["density"]],
                    strict=True,
                )
            ),
            colorscale="Viridis",
            marker={"line": {"color": outline, "width": 1}, "opacity": 0.85},
            colorbar={
                "title": {"text": t("present.city.density", lang), "side": "right"},
                "tickvals": [2, 3, 4],
                "ticktext": [fmt_number(v, lang) for v in (100, 1000, 10000)],
                "thickness": 14,
                "tickfont": {"color": text},
            },
            hovertemplate="<b>%{customdata[0]}</b><br>"
            + t("present.city.population", lang)
            + " %{customdata[1]}<br>"
            + t("present.city.density", lang)
            + " %{customdata[2]}<extra></extra>",
        )
    )
    box = geo.geojson_bounds(features)
    fig.update_layout(
        geo=geo.view(geo.padded(box), traffic_figures.map_background(ctx.theme)),
        margin={"l": 0, "r": 0, "t": 8, "b": 0},
    )
    total = ctx.city.population or int(frame["population"].sum())
    fig.add_annotation(
        text=t(
            "present.city.caption",
            lang,
            city=ctx.city.label(lang),
            population=fmt_number(total / 1e6, lang, 1),
            year=ctx.city.year or "",
        ),
        x=0.01,
        y=0.98,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 22, "color": text},
        bgcolor=PALETTE[ctx.theme]["paper"],
        opacity=0.9,
    )
    return fig
