"""The hourly series a forecast starts from, aggregated inside DuckDB.

One query per forecast returns `series, ts, value` for every station, district or detector over
the last weeks before the cut: per station the hourly mean of a pollutant, per district the
hourly flow and speed from the `district_hour` rollup (or the 5-minute one, or the raw rows when
the version has none), per detector the raw readings. Only those few thousand rows reach pandas.

Where the data end (`until`): a forecast uses no reading stamped after `until`. Air quality is
stamped once an hour, so the hour stamped at or before `until` is the last one used; traffic
readings every 5 minutes are summed into hours, so only hours whose every reading is at or before
`until` are used (a partial hour would read as a drop in flow).

The AQI is not a stored column: `aqi` (HJ 633) and `aqi_epa` are computed per hour from the
hourly concentrations with `datasets.aqi.aqi_frame` (each hour's concentrations through the
daily sub-index tables, O3 through its 1-h table), and that index series is forecast like any
other. Forecasting each pollutant and taking the largest sub-index would need the pollutants'
joint distribution for the intervals, which six separate models do not give.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from datasets.aqi import aqi_frame
from datasets.catalog import CatalogError, Dataset
from datasets.query import QueryEngine, ident

AIR = "air_quality_hourly"
TRAFFIC = "traffic_readings"
READING_MINUTES = 5  # a traffic reading counts the vehicles of 5 minutes
POLLUTANTS = ("pm25", "pm10", "no2", "so2", "co", "o3")
AQI_COLUMNS = {"aqi": "hj633", "aqi_epa": "epa"}
# Traffic columns: how an hour of readings becomes one value of a district or a detector.
TRAFFIC_COLUMNS = ("volume", "flow_vph", "speed_kmh")
UNITS = {"volume": "veh/h", "flow_vph": "veh/h", "speed_kmh": "km/h", "co": "mg/m³"}
GROUPINGS = {AIR: ("station", "district"), TRAFFIC: ("district", "detector")}


class ForecastError(ValueError):
    """A forecast asked of data that cannot give one; the message is meant for the user."""


@dataclass(frozen=True)
class SeriesQuery:
    """What to forecast: a dataset's column, grouped by station, district or detector."""

    dataset: Dataset
    kind: str
    column: str
    by: str

    @property
    def log_scale(self) -> bool:
        """Concentrations and indices are positive and skewed: modelled as log(1 + x)."""
        return self.kind == AIR

    @property
    def unit(self) -> str:
        if self.column in UNITS:
            return UNITS[self.column]
        return "" if self.column in AQI_COLUMNS else "µg/m³"


def columns_for(dataset: Dataset) -> tuple[str, ...]:
    """The columns of a dataset a forecast can be asked for."""
    kind = dataset.meta.kind
    present = {c["name"] for c in dataset.current.columns}
    if kind == AIR:
        pollutants = tuple(p for p in POLLUTANTS if p in present)
        return pollutants + (tuple(AQI_COLUMNS) if pollutants else ())
    if kind == TRAFFIC:
        needs = {"volume": "volume", "flow_vph": "volume", "speed_kmh": "speed_kmh"}
        return tuple(c for c in TRAFFIC_COLUMNS if needs[c] in present)
    return ()


def resolve(engine: QueryEngine, dataset_id: str, column: str, by: str | None) -> SeriesQuery:
    """The dataset and checked arguments of a forecast; ForecastError names what is wrong."""
    try:
        dataset = engine.catalog.get(dataset_id)
    except CatalogError:
        raise ForecastError(f"no dataset {dataset_id!r}") from None
    kind = dataset.meta.kind
    if kind not in GROUPINGS:
        raise ForecastError(
            f"{dataset_id} is {kind}: forecasts are made for {AIR} and {TRAFFIC} datasets"
        )
    allowed = columns_for(dataset)
    if column not in allowed:
        raise ForecastError(
            f"{dataset_id} has no column {column!r} to forecast; try one of {', '.join(allowed)}"
        )
    by = by or GROUPINGS[kind][0]
    if by not in GROUPINGS[kind]:
        raise ForecastError(f"{kind} is forecast by {' or '.join(GROUPINGS[kind])}, not {by!r}")
    return SeriesQuery(dataset, kind, column, by)


def data_span(query: SeriesQuery) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last time stamp of the dataset's current version (from the catalog)."""
    version = query.dataset.current
    if not version.time_min or not version.time_max:
        raise ForecastError(f"{query.dataset.id} holds no dated rows")
    return pd.Timestamp(version.time_min), pd.Timestamp(version.time_max)


def cut_end(query: SeriesQuery, until: pd.Timestamp) -> pd.Timestamp:
    """The first hour not used (the forecast's first hour) when the data end at `until`."""
    until = pd.Timestamp(until)
    if query.kind == TRAFFIC:
        return (until + pd.Timedelta(minutes=READING_MINUTES)).floor("h")
    return until.floor("h") + pd.Timedelta(hours=1)


def _literal(ts: pd.Timestamp) -> str:
    return f"TIMESTAMP '{pd.Timestamp(ts).isoformat(sep=' ')}'"


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _limited(select: str, max_series: int, series: tuple[str, ...] | None = None) -> str:
    """At most `max_series` series (the first by id; only those named in `series` when given),
    ordered for the caller."""
    chosen = f"WHERE series IN ({', '.join(map(_text, series))})" if series else ""
    return f"""
        SELECT * FROM ({select})
        {chosen}
        QUALIFY dense_rank() OVER (ORDER BY series) <= {int(max_series)}
        ORDER BY series, ts
    """


def _air_sql(engine: QueryEngine, query: SeriesQuery, window: str) -> tuple[str, list[str]]:
    src = engine.source(query.dataset.meta.city, AIR, query.dataset.id)
    key = "station_id" if query.by == "station" else "district"
    present = set(columns_for(query.dataset))
    values = (
        [p for p in POLLUTANTS if p in present] if query.column in AQI_COLUMNS else [query.column]
    )
    averages = ", ".join(f"avg({ident(v)})::DOUBLE AS {ident(v)}" for v in values)
    sql = f"""
        SELECT CAST({key} AS VARCHAR) AS series, date_trunc('hour', ts) AS ts, {averages}
        FROM {src}
        WHERE {window.format(time="ts")} AND {key} IS NOT NULL
        GROUP BY ALL
    """
    return sql, values


def _traffic_sql(engine: QueryEngine, query: SeriesQuery, window: str) -> str:
    city, dataset_id = query.dataset.meta.city, query.dataset.id
    raw = {
        "volume": "sum(volume)::DOUBLE",
        "flow_vph": f"avg(volume) * {60 // READING_MINUTES}",
        "speed_kmh": "avg(speed_kmh)::DOUBLE",
    }[query.column]
    if query.by == "detector":
        key, src, grain = "detector_id", engine.source(city, TRAFFIC, dataset_id), None
    else:
        key = "district"
        current = engine.find(city, TRAFFIC)
        if current is not None and current.id == dataset_id:
            src, grain = engine.plan(city, TRAFFIC, ("district_hour", "district_5min"))
        else:  # not the city's default dataset: its rollups are not planned for, read the rows
            src, grain = engine.source(city, TRAFFIC, dataset_id), None
    time = {"district_hour": "hour_start", "district_5min": "ts"}.get(grain, "ts")
    value = raw
    if grain is not None:
        value = {
            "volume": "sum(volume_sum)::DOUBLE",
            "flow_vph": f"sum(volume_sum)::DOUBLE / NULLIF(sum(n_volume), 0) "
            f"* {60 // READING_MINUTES}",
            "speed_kmh": "sum(speed_sum) / NULLIF(sum(n_speed), 0)",
        }[query.column]
    return f"""
        SELECT CAST({key} AS VARCHAR) AS series, date_trunc('hour', {time}) AS ts,
               {value} AS value
        FROM {src}
        WHERE {window.format(time=time)} AND {key} IS NOT NULL
        GROUP BY ALL
    """


def hourly(
    engine: QueryEngine,
    query: SeriesQuery,
    start: pd.Timestamp,
    end: pd.Timestamp,
    max_series: int,
    series: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """`series` (text), `ts` (hour start), `value`: hourly values in [start, end), sorted, for
    at most `max_series` series (those named in `series` when given); hours without data have
    no row."""
    window = f"{{time}} >= {_literal(start)} AND {{time}} < {_literal(end)}"
    if query.kind == TRAFFIC:
        frame = engine.frame(_limited(_traffic_sql(engine, query, window), max_series, series))
    else:
        sql, values = _air_sql(engine, query, window)
        frame = engine.frame(_limited(sql, max_series, series))
        if query.column in AQI_COLUMNS:
            index = aqi_frame(
                frame[values].rename(columns={"o3": "o3_1h"}), AQI_COLUMNS[query.column]
            )
            frame = frame.assign(value=index["aqi"].astype("float64"))
        else:
            frame = frame.rename(columns={query.column: "value"})
    frame = frame[["series", "ts", "value"]]
    frame = frame.assign(
        series=frame["series"].astype(str),
        ts=pd.to_datetime(frame["ts"]).astype("datetime64[us]"),
        value=pd.to_numeric(frame["value"], errors="coerce").astype("float64"),
    )
    return frame.dropna(subset=["value"]).reset_index(drop=True)
