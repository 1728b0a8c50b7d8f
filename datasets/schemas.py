"""Dataset kinds: the columns each kind holds, their types, units and plausible ranges.

A kind is what lets a page use a dataset it has never seen: an uploaded file mapped onto
`air_quality_hourly` feeds the ecology page exactly like the demo's own table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    unit: str = ""  # a quantity has one; a number without one is a code (a district)
    required: bool = True
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Kind:
    id: str
    round_table: str  # traffic | ecology | other
    columns: tuple[Column, ...]
    time_column: str | None = None
    sdg: tuple[str, ...] = ()
    keys: tuple[str, ...] = field(default=())  # columns that identify a row (duplicates check)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])


TS = pa.timestamp("ms")  # what Parquet stores: fractions of a second kept to the millisecond
C = Column

KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind(
            "traffic_detectors",
            "traffic",
            (
                C("detector_id", pa.string()),
                C("name", pa.string()),
                C("road", pa.string()),
                C("road_zh", pa.string(), required=False),
                C("road_type", pa.string()),
                C("district", pa.int32()),
                C("lat", pa.float64(), "°", min=-90, max=90),
                C("lon", pa.float64(), "°", min=-180, max=180),
                C("lanes", pa.int8(), "lanes", min=1, max=12),
                C("pilot", pa.bool_()),
                C("corridor", pa.string(), required=False),
            ),
            sdg=("9.1", "11.2"),
            keys=("detector_id",),
        ),
        Kind(
            "traffic_readings",
            "traffic",
            (
                C("ts", TS),
                C("detector_id", pa.string()),
                C("district", pa.int32()),
                C("pilot", pa.bool_(), required=False),
                C("volume", pa.int16(), "veh/5 min", min=0, max=2000),
                C("speed_kmh", pa.float32(), "km/h", min=0, max=200),
                C("occupancy", pa.float32(), "%", min=0, max=100),
            ),
            time_column="ts",
            sdg=("11.2", "9.1"),
            keys=("ts", "detector_id"),
        ),
        Kind(
            "incidents",
            "traffic",
            (
                C("incident_id", pa.string()),
                C("detected_at", TS),
                C("cleared_at", TS),
                C("type", pa.string()),
                C("source", pa.string()),
                C("severity", pa.int8(), "1–3", min=1, max=3),
                C("district", pa.int32()),
                C("road", pa.string(), required=False),
                C("lat", pa.float64(), "°", min=-90, max=90),
                C("lon", pa.float64(), "°", min=-180, max=180),
                C("detector_id", pa.string(), required=False),
                C("started_at", TS, required=False),  # the true onset, before anyone logged it
            ),
            time_column="detected_at",
            sdg=("3.6", "11.2"),
            keys=("incident_id",),
        ),
        Kind(
            "emergency_runs",
            "traffic",
            (
                C("run_id", pa.string()),
                C("started_at", TS),
                C("district", pa.int32()),
                C("vehicle", pa.string()),
                C("distance_km", pa.float32(), "km", min=0, max=200),
                C("signals_passed", pa.int16(), "signals", min=0, max=500),
                C("travel_min", pa.float32(), "min", min=0, max=600),
                C("signal_priority", pa.bool_()),
            ),
            time_column="started_at",
            sdg=("3.6", "11.2"),
            keys=("run_id",),
        ),
        Kind(
            "air_stations",
            "ecology",
            (
                C("station_id", pa.string()),
                C("name", pa.string()),
                C("name_zh", pa.string(), required=False),
                C("district", pa.int32()),
                C("lat", pa.float64(), "°", min=-90, max=90),
                C("lon", pa.float64(), "°", min=-180, max=180),
                C("kind", pa.string(), required=False),
                C("near_road", pa.bool_(), required=False),
            ),
            sdg=("11.6.2",),
            keys=("station_id",),
        ),
        Kind(
            "air_quality_hourly",
            "ecology",
            (
                C("ts", TS),
                C("station_id", pa.string()),
                C("district", pa.int32(), required=False),
                C("pm25", pa.float32(), "µg/m³", min=0, max=1500),
                C("pm10", pa.float32(), "µg/m³", required=False, min=0, max=3000),
                C("no2", pa.float32(), "µg/m³", required=False, min=0, max=2000),
                C("so2", pa.float32(), "µg/m³", required=False, min=0, max=3000),
                C("co", pa.float32(), "mg/m³", required=False, min=0, max=150),
                C("o3", pa.float32(), "µg/m³", required=False, min=0, max=2000),
            ),
            time_column="ts",
            sdg=("11.6.2", "3.9"),
            keys=("ts", "station_id"),
        ),
        Kind(
            "energy_daily",
            "ecology",
            (
                C("date", pa.date32()),
                C("sector", pa.string()),
                C("electricity_gwh", pa.float32(), "GWh", min=0),
                C("renewable_gwh", pa.float32(), "GWh", min=0),
            ),
            time_column="date",
            sdg=("7.2", "13.2"),
            keys=("date", "sector"),
        ),
        Kind(
            "mobility_daily",
            "ecology",
            (
                C("date", pa.date32()),
                C("metro_riders", pa.int32(), "riders/day", min=0),
                C("bus_riders", pa.int32(), "riders/day", required=False, min=0),
                C("public_bike_trips", pa.int32(), "trips/day", required=False, min=0),
                C("ev_charging_sessions", pa.int32(), "sessions/day", required=False, min=0),
                C("ev_charging_mwh", pa.float32(), "MWh/day", required=False, min=0),
            ),
            time_column="date",
            sdg=("11.2",),
            keys=("date",),
        ),
        Kind(
            "waste_monthly",
            "ecology",
            (
                C("month", pa.date32()),
                C("stream", pa.string()),
                C("tonnes", pa.float64(), "t", min=0),
            ),
            time_column="month",
            sdg=("11.6.1", "12.5"),
            keys=("month", "stream"),
        ),
        Kind(
            "weather_daily",
            "other",
            (
                C("date", pa.date32()),
                C("rain_mm", pa.float32(), "mm", min=0, max=1000),
                C("temp_c", pa.float32(), "°C", required=False, min=-60, max=60),
            ),
            time_column="date",
            keys=("date",),
        ),
        Kind(
            "metro_flow",
            "traffic",
            (
                C("ts", TS),
                C("station_index", pa.int16()),
                C("inflow", pa.int32(), "passengers/10 min", min=0),
                C("outflow", pa.int32(), "passengers/10 min", min=0),
            ),
            time_column="ts",
            sdg=("11.2",),
            keys=("ts", "station_index"),
        ),
        Kind("generic", "other", ()),
    )
}
