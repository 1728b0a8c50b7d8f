"""Slides: the charts that only the forum deck needs, and a slide rendered for a screen or a file.

The deck's charts are ordinary registered `Chart`s (query + pure figure), so a presenter may add
them to a deck like any other: the council and the host city (opening), the headline KPIs,
two time playbacks (a weekday of speeds by district as 24 hourly frames of the district map, a
year of daily AQI revealed week by week) and the SDG table. `render_slide` renders any slide with
the dashboard's own `render(chart, ctx)`, so a slide's figure is the dashboard's figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

from datasets.aqi import CATEGORIES
from datasets.catalog import CatalogError, Dataset
from datasets.decks import Deck, Slide
from datasets.queries import ecology as eq
from datasets.queries import traffic as tq
from datasets.query import MissingDataset, QueryEngine
from i18n import fmt_date, fmt_figure, fmt_number, fmt_percent, t

from .charts import REGISTRY, Chart, ChartContext, FigureContext, blank_figure, register, render
from .explorer_view import DATASET_OPTION, EXPLORER, explorer_chart
from .figures import ecology as eco_figures
from .figures import geo
from .figures import traffic as traffic_figures
from .figures.plot import KEY_FIGURE
from .routing import filters_data
from .state import ViewState
from .theme import PALETTE, colorway

PROJECTOR_FONT = 24  # px: the smallest text legible from the back of a room at 1080p
KEY_FIGURE_FONT = 34  # px: a chart's key figure (KEY_FIGURE annotations), read first
BASE_HOUR = 8  # the static picture of the day playback: the morning peak
AQI_STEP_DAYS = 7

ContextFactory = Callable[[dict, dict, str | None], ChartContext]


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


# -- headline KPIs and the SDG table --------------------------------------------------------------

# id, message key, unit, digits, which way is better, share, SDG target
HEADLINES = (
    ("mean_speed_kmh", "traffic.kpi.speed", "km/h", 1, "up", False, "11.2"),
    ("tti", "traffic.kpi.tti", "", 2, "down", False, "11.2"),
    ("incidents", "traffic.kpi.incidents", "", 0, "down", False, "3.6"),
    ("response_min", "traffic.kpi.response", "min", 1, "down", False, "3.6"),
    ("pm25", "eco.kpi.pm25", "µg/m³", 1, "down", False, "11.6.2"),
    ("good_days", "eco.kpi.good_days.hj633", "", 0, "up", True, "3.9"),
    ("renewable", "eco.kpi.renewable", "", 1, "up", True, "7.2"),
    ("bike_trips", "eco.kpi.bike_trips", "", 0, "up", False, "11.2"),
    ("recycled", "eco.kpi.recycled", "", 1, "up", True, "12.5"),
)
KPI_SLIDE = ("mean_speed_kmh", "tti", "response_min", "pm25", "good_days", "renewable")
HEADLINE_KINDS = (
    tq.READINGS,
    tq.INCIDENTS,
    tq.RUNS,
    "air_quality_hourly",
    "energy_daily",
    "mobility_daily",
    "waste_monthly",
)


def _number(value) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def headline_data(ctx: ChartContext) -> pd.DataFrame:
    """The traffic and ecology KPIs of the period (or the last 30 days), with the previous one."""
    values: dict[str, tuple[float | None, float | None]] = {}
    start = end = None
    try:
        traffic = tq.kpis(ctx.engine, ctx.city.id, ctx.filters)
        now, before = traffic.iloc[0], traffic.iloc[1]
        start, end = now["start"], now["end"]
        for key in ("mean_speed_kmh", "tti", "incidents", "response_min"):
            values[key] = (_number(now[key]), _number(before[key]))
    except MissingDataset:
        pass
    standard = eq.standard_or_default((ctx.page_options or {}).get("aqi"))
    eco = eq.kpis(ctx.engine, ctx.city.id, ctx.filters, standard)
    for row in eco.itertuples(index=False):
        values[row.kpi] = (_number(row.value), _number(row.previous))
        if start is None:
            start, end = row.start, row.end
    rows = []
    for key, label, unit, digits, better, share, sdg in HEADLINES:
        value, previous = values.get(key, (None, None))
        if key == "good_days":
            label = f"eco.kpi.good_days.{standard}"
        rows.append(
            {
                "id": key,
                "label": label,
                "unit": unit,
                "digits": digits,
                "better": better,
                "share": share,
                "sdg": sdg,
                "value": value,
                "previous": previous,
                "start": start,
                "end": end,
            }
        )
    frame = pd.DataFrame(rows)
    return frame if frame["value"].notna().any() else frame.iloc[0:0]


def _unit(unit: str, lang: str) -> str:
    return t("traffic.unit.min", lang) if unit == "min" else unit


def _period_caption(frame: pd.DataFrame, lang: str) -> str:
    start, end = frame["start"].iloc[0], frame["end"].iloc[0]
    if start is None or end is None or start != start:
        return ""
    return t(
        "present.kpis.period",
        lang,
        start=fmt_date(pd.Timestamp(start).date(), lang),
        end=fmt_date(pd.Timestamp(end).date(), lang),
    )


def kpis_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    lang = ctx.lang
    good, bad = ("#4ade80", "#f87171") if ctx.theme == "dark" else ("#1a7f37", "#b42318")
    shown = frame[frame["id"].isin(KPI_SLIDE)].set_index("id").reindex(list(KPI_SLIDE))
    fig = go.Figure()
    for i, (_key, row) in enumerate(shown.iterrows()):
        col, line = i % 3, i // 3
        domain = {
            "x": [col / 3 + 0.03, (col + 1) / 3 - 0.03],
            "y": [0.52 - line * 0.48, 0.9 - line * 0.48],
        }
        unit = _unit(row["unit"], lang)
        share = bool(row["share"])
        value = row["value"]
        previous = row["previous"]
        up, down = (good, bad) if row["better"] == "up" else (bad, good)
        delta = (
            {
                "reference": previous,
                "relative": not share,
                "valueformat": ".1%",
                "increasing": {"color": up},
                "decreasing": {"color": down},
                "font": {"size": 22},
            }
            if previous is not None and previous == previous
            else None
        )
        digits = int(row["digits"])
        fig.add_trace(
            go.Indicator(
                mode="number+delta" if delta else "number",
                value=value if value is not None and value == value else None,
                number={
                    "valueformat": f".{digits}%" if share else f",.{digits}f",
                    "suffix": f" {unit}" if unit else "",
                    "font": {"size": 60},
                },
                delta=delta,
                title={"text": t(row["label"], lang), "font": {"size": 20}},
                domain=domain,
            )
        )
    caption = _period_caption(frame, lang)
    if caption:
        fig.add_annotation(
            text=caption,
            x=0.5,
            y=0.0,
            xref="paper",
            yref="paper",
            showarrow=False,
            font={"size": 16},
        )
    fig.update_layout(margin={"t": 24, "b": 24, "l": 16, "r": 16})
    return fig


def _format_value(row, lang: str) -> str:
    value = row["value"]
    if value is None or value != value:
        return "–"
    figure = fmt_figure(value, lang, int(row["digits"]), bool(row["share"]))
    unit = "" if row["share"] else _unit(row["unit"], lang)
    return figure + (f" {unit}" if unit else "")


def _format_change(row, lang: str) -> str:
    value, previous = row["value"], row["previous"]
    if value is None or previous is None or value != value or previous != previous:
        return "–"
    if row["share"]:
        diff = (value - previous) * 100
        return ("+" if diff > 0 else "") + t("kpi.points", lang, value=fmt_number(diff, lang, 1))
    if not previous:
        return "–"
    change = (value - previous) / abs(previous)
    return ("+" if change > 0 else "") + fmt_percent(change, lang, 1)


SDG_ROWS = ("mean_speed_kmh", "response_min", "pm25", "good_days", "renewable", "recycled")


def sdg_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """The indicators by SDG target: the "monitoring and reporting" pillar in one table."""
    lang = ctx.lang
    colours = PALETTE[ctx.theme]
    header_fill = "#1e3a52" if ctx.theme == "dark" else "#e8f1f8"
    rows = frame[frame["id"].isin(SDG_ROWS)]
    rows = rows.assign(order=rows["sdg"].map(lambda s: tuple(int(p) for p in s.split("."))))
    rows = rows.sort_values("order", kind="stable")
    fig = go.Figure(
        go.Table(
            columnwidth=[4.4, 3.4, 1.5, 1.3],
            header={
                "values": [
                    f"<b>{t(f'present.sdg.col.{c}', lang)}</b>"
                    for c in ("target", "indicator", "value", "change")
                ],
                "fill": {"color": header_fill},
                "font": {"color": colours["text"], "size": 19},
                "align": "left",
                "height": 38,
            },
            cells={
                "values": [
                    [t(f"sdg.{s}", lang) for s in rows["sdg"]],
                    [t(label, lang) for label in rows["label"]],
                    [_format_value(r, lang) for _, r in rows.iterrows()],
                    [_format_change(r, lang) for _, r in rows.iterrows()],
                ],
                "fill": {"color": colours["paper"]},
                "line": {"color": colours["grid"]},
                "font": {"color": colours["text"], "size": 17},
                "align": "left",
                "height": 34,
            },
        )
    )
    caption = " · ".join(
        p for p in (_period_caption(frame, lang), t("eco.kpi.pm25_source", lang)) if p
    )
    fig.update_layout(margin={"t": 4, "b": 28, "l": 4, "r": 4})
    fig.add_annotation(
        text=caption,
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        yanchor="top",
        xanchor="left",
        showarrow=False,
        font={"size": 14},
    )
    return fig


# -- playback 1: a weekday of speeds by district --------------------------------------------------


def hourly_district_speeds(engine: QueryEngine, city_id: str, filters) -> pd.DataFrame:
    """Per weekday hour and district: detectors, mean speed (km/h), travel time index."""
    src = engine.source(city_id, tq.READINGS)
    stats = engine.frame(
        f"""
        SELECT detector_id,
               any_value(district) AS district,
               hour(ts) AS hour,
               count(speed_kmh) AS readings,
               sum(speed_kmh) AS speed_sum,
               count(*) FILTER (WHERE speed_kmh > 0) AS moving_readings,
               sum(1.0 / speed_kmh) FILTER (WHERE speed_kmh > 0) AS inverse_speed_sum
        FROM {src}
        WHERE {filters.where("ts", "district")} AND isodow(ts) <= 5
        GROUP BY detector_id, hour(ts)
        ORDER BY hour, detector_id
        """
    )
    columns = ["hour", "district", "detectors", "speed_kmh", "tti"]
    if stats.empty:
        return pd.DataFrame(columns=columns)
    per = stats.assign(tti=tq.detector_tti(engine, city_id, stats))
    out = per.groupby(["hour", "district"], as_index=False).agg(
        detectors=("detector_id", "nunique"),
        readings=("readings", "sum"),
        speed_sum=("speed_sum", "sum"),
        tti=("tti", "mean"),
    )
    out["speed_kmh"] = out["speed_sum"] / out["readings"].where(out["readings"] > 0)
    out["district"] = out["district"].astype("int64")
    out["hour"] = out["hour"].astype("int64")
    return out[columns]


def _play_controls(lang: str, steps: list[dict], active: int, frame_ms: int, redraw: bool):
    play = {
        "label": "▶ " + t("present.play", lang),
        "method": "animate",
        "args": [
            None,
            {
                "frame": {"duration": frame_ms, "redraw": redraw},
                "transition": {"duration": 0},
                "fromcurrent": False,
                "mode": "immediate",
            },
        ],
    }
    pause = {
        "label": "▮▮ " + t("present.pause", lang),
        "method": "animate",
        "args": [
            [None],
            {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
        ],
    }
    menus = [
        {
            "type": "buttons",
            "direction": "left",
            "showactive": False,
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 36, "r": 10},
            "buttons": [play, pause],
            "name": "playback",
        }
    ]
    slider = {
        "active": active,
        "x": 0.26,
        "len": 0.74,
        "y": 0,
        "yanchor": "top",
        "pad": {"t": 30, "b": 4},
        "currentvalue": {"prefix": "", "visible": True, "xanchor": "left"},
        "transition": {"duration": 0},
        "steps": steps,
        "name": "playback",
    }
    return menus, slider


def _step(name: str, label: str, redraw: bool) -> dict:
    return {
        "method": "animate",
        "label": label,
        "args": [
            [name],
            {"mode": "immediate", "frame": {"duration": 0, "redraw": redraw}, "transition": {}},
        ],
    }


def speed_day_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """The district map at the morning peak, with 24 hourly frames of a weekday to play."""
    lang = ctx.lang
    hours = sorted(int(h) for h in frame["hour"].unique())
    base_hour = BASE_HOUR if BASE_HOUR in hours else hours[0]
    at_base = frame[frame["hour"] == base_hour].dropna(subset=["speed_kmh"])
    map_ctx = FigureContext(lang, ctx.theme, ctx.city, "speed", ctx.page_options)
    fig = go.Figure(traffic_figures.district_map(at_base, map_ctx))  # a dict: frames need go
    # the choropleth colours the districts; the text trace before it names them with values
    data_trace = max(i for i, trace in enumerate(fig.data) if trace.type == "choropleth")
    label_trace = max(
        i for i, trace in enumerate(fig.data) if trace.type == "scattergeo" and trace.mode == "text"
    )
    districts = [int(c) for c in fig.data[data_trace].locations]
    names = ctx.city.district_names(lang)
    speeds = frame.dropna(subset=["speed_kmh"])
    fig.data[data_trace].update(
        zauto=False,
        zmin=float(np.floor(speeds["speed_kmh"].min())),
        zmax=float(np.ceil(speeds["speed_kmh"].max())),
    )
    frames, steps = [], []
    for hour in hours:
        part = frame[frame["hour"] == hour].set_index("district").reindex(districts)
        z = [None if v != v else round(float(v), 2) for v in part["speed_kmh"]]
        custom = [
            [
                names.get(code, str(code)),
                None if d != d else int(d),
                None if s != s else round(float(s), 2),
                None if x != x else round(float(x), 3),
            ]
            for code, d, s, x in zip(
                districts, part["detectors"], part["speed_kmh"], part["tti"], strict=True
            )
        ]
        name = f"{hour:02d}:00"
        texts = traffic_figures.district_label_texts(
            dict(zip(districts, part["speed_kmh"], strict=True)), "speed", map_ctx
        )
        frames.append(
            go.Frame(
                name=name,
                data=[go.Choropleth(z=z, customdata=custom), go.Scattergeo(text=texts)],
                traces=[data_trace, label_trace],
            )
        )
        steps.append(_step(name, name, redraw=True))
    menus, slider = _play_controls(lang, steps, hours.index(base_hour), 700, redraw=True)
    slider["currentvalue"]["prefix"] = t("present.speed_day.hour", lang) + " "
    fig.frames = frames
    fig.update_layout(updatemenus=menus, sliders=[slider], margin={"b": 96})
    return fig


# -- playback 2: a year of daily AQI --------------------------------------------------------------


def aqi_year_figure(frame: pd.DataFrame, ctx: FigureContext) -> go.Figure:
    """The dashboard's daily AQI bars (the whole period), with weekly frames that reveal it."""
    fig = go.Figure(eco_figures.aqi_daily_figure(frame, ctx))  # a dict (or a graph object)
    standard = eco_figures.standard_of(ctx)
    days = frame.dropna(subset=["aqi"]).copy()
    days["date"] = pd.to_datetime(days["date"])
    shown = [c.key for c in CATEGORIES[standard] if (days["category"] == c.key).any()]
    first, last = days["date"].min(), days["date"].max()
    ends = list(pd.date_range(first + pd.Timedelta(days=AQI_STEP_DAYS - 1), last, freq="7D"))
    if not ends or ends[-1] < last:
        ends.append(last)
    parts = {
        key: days[days["category"] == key].sort_values("date")[["date", "aqi"]] for key in shown
    }
    frames, steps = [], []
    for end in ends:
        data = []
        for key in shown:
            part = parts[key][parts[key]["date"] <= end]
            data.append(
                go.Bar(
                    x=part["date"].dt.strftime("%Y-%m-%d").tolist(),
                    y=part["aqi"].astype(float).round(1).tolist(),
                )
            )
        name = end.strftime("%Y-%m-%d")
        frames.append(go.Frame(name=name, data=data, traces=list(range(len(shown)))))
        steps.append(_step(name, fmt_date(end.date(), ctx.lang), redraw=True))
    menus, slider = _play_controls(ctx.lang, steps, len(steps) - 1, 220, redraw=True)
    slider["currentvalue"]["prefix"] = t("present.aqi_year.until", ctx.lang) + " "
    day = pd.Timedelta(days=1)
    fig.frames = frames
    fig.update_layout(
        updatemenus=menus,
        sliders=[slider],
        margin={"b": 110},
        xaxis={"range": [first - day, last + day], "autorange": False},
        yaxis={"range": [0, float(days["aqi"].max()) * 1.08], "autorange": False},
    )
    return fig


# -- registration ---------------------------------------------------------------------------------


def _aqi_standard(ctx: ChartContext) -> str:
    return eq.standard_or_default((ctx.page_options or {}).get("aqi"))


COUNCIL = register(
    Chart(
        id="present-council",
        title="present.chart.council",
        data=council_data,
        figure=council_figure,
        kinds=(),
        sdg=("11.2", "11.6.2"),
    )
)
CITY = register(
    Chart(
        id="present-city",
        title="present.chart.city",
        data=city_data,
        figure=city_figure,
        kinds=(),
    )
)
KPIS = register(
    Chart(
        id="present-kpis",
        title="present.chart.kpis",
        data=headline_data,
        figure=kpis_figure,
        kinds=HEADLINE_KINDS,
        sdg=("11.2", "3.6", "11.6.2", "7.2"),
    )
)
SPEED_DAY = register(
    Chart(
        id="present-speed-day",
        title="present.chart.speed_day",
        data=lambda c: hourly_district_speeds(c.engine, c.city.id, c.filters),
        figure=speed_day_figure,
        kinds=(tq.READINGS,),
        sdg=("11.2",),
        note="present.note.speed_day",
        height=480,
    )
)
AQI_YEAR = register(
    Chart(
        id="present-aqi-year",
        title="present.chart.aqi_year",
        data=lambda c: eq.city_daily_aqi(c.engine, c.city.id, c.filters, _aqi_standard(c)),
        figure=aqi_year_figure,
        kinds=("air_quality_hourly", "air_stations"),
        sdg=("11.6.2", "3.9"),
        note="present.note.aqi_year",
        height=420,
    )
)
SDG = register(
    Chart(
        id="present-sdg",
        title="present.chart.sdg",
        data=headline_data,
        figure=sdg_figure,
        kinds=HEADLINE_KINDS,
        sdg=("11.2", "11.6.2", "7.2", "12.5", "3.6", "3.9"),
    )
)


# -- a slide, rendered ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlideView:
    """Everything a screen, a presenter view or an export shows of one slide."""

    index: int  # 1-based
    count: int
    chart: str
    title: str
    takeaway: str
    notes: str
    section: str  # translated name of the agenda part, or ""
    figure: dict
    message: str  # the empty-state message ("" when the figure has data)
    sources: tuple[str, ...]
    sdg: tuple[str, ...]
    animated: bool

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "count": self.count,
            "chart": self.chart,
            "title": self.title,
            "takeaway": self.takeaway,
            "notes": self.notes,
            "section": self.section,
            "figure": self.figure,
            "message": self.message,
            "sources": list(self.sources),
            "sdg": list(self.sdg),
            "animated": self.animated,
        }


def slide_text(slide: Slide, field_name: str, lang: str) -> str:
    raw = getattr(slide, field_name)
    if slide.keys and raw:
        return t(raw, lang)
    return raw


def deck_title(deck: Deck, lang: str) -> str:
    return t(deck.title, lang) if deck.builtin else deck.title


def slide_title(slide: Slide, lang: str) -> str:
    title = slide_text(slide, "title", lang)
    if title:
        return title
    if slide.chart == EXPLORER:
        return t("explorer.title", lang)
    chart = REGISTRY.get(slide.chart)
    return t(chart.title, lang) if chart else slide.chart


def source_line(found: Dataset, lang: str) -> str:
    """A dataset's provenance: title · source · licence · version · date · synthetic/real."""
    flag = t("data.synthetic" if found.meta.synthetic else "data.real", lang)
    licence = f" · {found.meta.licence}" if found.meta.licence else ""
    return (
        f"{found.title(lang)} · {found.meta.source}{licence} · v{found.current_version}"
        f" · {found.updated_at[:10]} · {flag}"
    )


def source_texts(engine: QueryEngine | None, city, kinds: tuple[str, ...], lang: str) -> tuple:
    """One line per dataset behind a chart: the dataset the slide draws (`engine.find` answers
    with a dataset chosen for it, else the kind's default)."""
    if engine is None:
        return ()
    lines = []
    for kind in kinds:
        found = engine.find(city.id, kind)
        if found is None:
            continue
        lines.append(source_line(found, lang))
    return tuple(lines)


def explorer_slide(
    slide: Slide, ctx: ChartContext, make_context: ContextFactory
) -> tuple[dict, str, tuple[str, ...], str]:
    """An explorer view on a slide: (figure, empty-state message, source line, the dataset's
    title), drawn by the explorer's own `explorer_chart` from the view kept in the query, in the
    dataset's city (whose outlines a map draws) as the explorer draws it."""
    options = dict(ViewState.from_query(slide.query).options)
    dataset_id = options.pop(DATASET_OPTION, "")
    try:
        dataset = ctx.engine.catalog.get(dataset_id) if ctx.engine is not None else None
    except CatalogError:
        dataset = None
    if dataset is None:
        return blank_figure(ctx), t("explorer.missing", ctx.lang, id=dataset_id), (), ""
    if ctx.city is None or ctx.city.id != dataset.meta.city:
        ui = {"lang": ctx.lang, "theme": ctx.theme, "city": dataset.meta.city}
        ctx = make_context({}, ui, None)
    try:
        figure, note = explorer_chart(ctx.engine, dataset, options, ctx)
    except (duckdb.Error, ValueError) as exc:
        figure, note = blank_figure(ctx), t("explorer.error", ctx.lang, error=str(exc)[:200])
    message = "" if figure.get("data") else note
    return figure, message, (source_line(dataset, ctx.lang),), dataset.title(ctx.lang)


def _raise_fonts(node, floor: int) -> None:
    """Every font size set in a figure part (tick labels, annotations, legend, trace text)
    raised to `floor` px at least, in place: a dashboard chart sets small ones (11 px notes)
    that a projector cannot carry. Lists of values are skipped, not walked."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict):
                size = value.get("size")
                if isinstance(size, int | float) and size < floor:
                    value["size"] = floor
            _raise_fonts(value, floor)
    elif isinstance(node, list) and node and isinstance(node[0], dict | list):
        for item in node:
            _raise_fonts(item, floor)


def projector(figure: dict) -> dict:
    """The dashboard figure with projector-sized type (a chart's key figure larger still);
    its traces and data are left as they are. Changes `figure` (a fresh copy: `as_sent`)."""
    layout = figure.setdefault("layout", {})
    layout["font"] = {**(layout.get("font") or {}), "size": PROJECTOR_FONT}
    _raise_fonts(figure, PROJECTOR_FONT)
    for note in layout.get("annotations") or []:
        if note.get("name") == KEY_FIGURE:
            note["font"] = {**(note.get("font") or {}), "size": KEY_FIGURE_FONT}
    layout.pop("height", None)
    layout["autosize"] = True
    return figure


def as_sent(figure: dict) -> dict:
    """The figure as the dashboard's callback sends it: written by plotly's orjson path and
    read back. A freshly rendered figure holds numpy arrays; alone, orjson writes them as they
    are, but in a response that also holds Dash components (the slide's) plotly falls back to
    a walk in Python that spells times differently ("...T00:00:00.000000"), so the slide would
    not draw the dashboard's very data. Also a deep copy: the memoised figure stays as it is."""
    return orjson.loads(to_json_plotly(figure, engine="orjson"))


def still(figure: dict) -> dict:
    """The figure without its playback (frames, play button, slider): previews, print."""
    out = {k: v for k, v in figure.items() if k != "frames"}
    out["layout"] = {
        k: v for k, v in (figure.get("layout") or {}).items() if k not in ("updatemenus", "sliders")
    }
    return out


def slide_context(slide: Slide, lang: str, theme: str, make_context: ContextFactory):
    chart = REGISTRY.get(slide.chart)
    state = ViewState.from_query(slide.query)
    ui = {"lang": lang, "theme": theme, "city": state.city or ""}
    option = slide.option or (chart.default_option if chart else None)
    return chart, make_context(filters_data(state), ui, option)


def render_slide(
    deck: Deck, index: int, lang: str, theme: str, make_context: ContextFactory
) -> SlideView:
    """Slide `index` (1-based, clamped) of `deck` with its chart rendered by `render()`."""
    count = len(deck.slides)
    index = min(max(int(index), 1), max(count, 1))
    if not count:
        ctx = make_context({}, {"lang": lang, "theme": theme}, None)
        return SlideView(
            1,
            0,
            "",
            deck_title(deck, lang),
            t("present.empty_deck", lang),
            "",
            "",
            blank_figure(ctx),
            t("present.empty_deck", lang),
            (),
            (),
            False,
        )
    slide = deck.slides[index - 1]
    chart, ctx = slide_context(slide, lang, theme, make_context)
    title = slide_title(slide, lang)
    if slide.chart == EXPLORER:
        figure, message, sources, dataset_title = explorer_slide(slide, ctx, make_context)
        title = slide_text(slide, "title", lang) or dataset_title or title
        sdg = ()
    elif chart is None:
        figure, message = blank_figure(ctx), t("present.unknown_chart", lang, chart=slide.chart)
        sources, sdg = (), ()
    else:
        figure, message, _hidden = render(chart, ctx)
        sources = source_texts(ctx.engine, ctx.city, chart.kinds, lang)
        sdg = chart.sdg
    figure = projector(as_sent(figure))
    return SlideView(
        index=index,
        count=count,
        chart=slide.chart,
        title=title,
        takeaway=slide_text(slide, "takeaway", lang),
        notes=slide_text(slide, "notes", lang),
        section=t(f"present.section.{slide.section}", lang) if slide.section else "",
        figure=figure,
        message=message,
        sources=sources,
        sdg=sdg,
        animated=bool(figure.get("frames")),
    )
