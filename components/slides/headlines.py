"""The headline KPIs of traffic and ecology on one slide, and the same figures by SDG target
in a table; both state their period as the dashboard's KPI block does."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from datasets.queries import ecology as eq
from datasets.queries import traffic as tq
from datasets.query import MissingDataset
from i18n import fmt_figure, fmt_number, fmt_percent, t

from ..charts import ChartContext, FigureContext
from ..period import comparison_of, kpi_caption
from ..theme import PALETTE

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
    """The traffic and ecology KPIs of the page's period, with those of the period it is
    compared with (`?cmp=`), as the KPI cards of the dashboard show them."""
    values: dict[str, tuple[float | None, float | None]] = {}
    start = end = None
    has_earlier = False
    comparison = comparison_of(ctx.page_options or {})
    try:
        traffic = tq.kpis(ctx.engine, ctx.city.id, ctx.filters, comparison)
        now, before = traffic.iloc[0], traffic.iloc[1]
        start, end = now["start"], now["end"]
        has_earlier = bool(pd.notna(before["start"]))
        for key in ("mean_speed_kmh", "tti", "incidents", "response_min"):
            values[key] = (_number(now[key]), _number(before[key]))
    except MissingDataset:
        pass
    standard = eq.standard_or_default((ctx.page_options or {}).get("aqi"))
    eco = eq.kpis(ctx.engine, ctx.city.id, ctx.filters, standard, comparison)
    for row in eco.itertuples(index=False):
        values[row.kpi] = (_number(row.value), _number(row.previous))
        if start is None:
            start, end = row.start, row.end
            has_earlier = bool(pd.notna(row.previous_start))
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
                "comparison": comparison,
                "has_earlier": has_earlier,
            }
        )
    frame = pd.DataFrame(rows)
    return frame if frame["value"].notna().any() else frame.iloc[0:0]


def _unit(unit: str, lang: str) -> str:
    return t("traffic.unit.min", lang) if unit == "min" else unit


def _period_caption(frame: pd.DataFrame, lang: str) -> str:
    """The KPI block's line on its periods, in the words of the dashboard's KPI cards."""
    first = frame.iloc[0]
    if pd.isna(first["start"]) or pd.isna(first["end"]):
        return ""
    start, end = pd.Timestamp(first["start"]).date(), pd.Timestamp(first["end"]).date()
    return kpi_caption(start, end, first["comparison"], bool(first["has_earlier"]), lang)


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
                "font": {"size": 24},
                # beside the number: below it, plotly.js sets the change so close under the
                # figure that descenders (µg/m³) meet it on a printed slide
                "position": "right",
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
