"""Which known kind a file is, and which of its columns feeds each column of that kind.

Header names are matched against aliases in English, French, Spanish and Chinese after folding
(case, spaces, `_`, `.`, `-`, full-width forms and units removed: `PM2.5 (µg/m³)`, `pm2_5` and
`PM 2.5` all fold to `pm25`). A timestamp spread over columns (year/month/day/hour, or a date and
a time) feeds a time column. Units come from the header, else from the values' magnitude where
that is unambiguous (CO in µg/m³ where the kind keeps mg/m³), and are converted with a note.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field, replace

import pyarrow as pa

from ..schemas import KINDS, Column, Kind
from .detect import TimeSplit, split_unit

GENERIC = "generic"

ALIASES: dict[str, tuple[str, ...]] = {
    "ts": (
        "ts",
        "timestamp",
        "datetime",
        "date_time",
        "time",
        "date",
        "fecha_hora",
        "fechahora",
        "fecha",
        "horodatage",
        "date_heure",
        "dateheure",
        "time_start",
        "start_time",
        "measured_at",
        "时间",
        "時間",
        "日期时间",
        "日期",
        "监测时间",
        "采样时间",
        "数据时间",
        "时间戳",
    ),
    "date": ("date", "day", "fecha", "dia", "día", "jour", "datum", "日期", "日"),
    "month": ("month", "date", "mes", "mois", "月份", "月"),
    "station_id": (
        "station_id",
        "station",
        "station_code",
        "code_station",
        "site",
        "site_id",
        "estacion",
        "estación",
        "cod_estacion",
        "codigo_estacion",
        "站点",
        "站点编号",
        "监测点",
        "监测站",
        "站号",
    ),
    "station_index": ("station_index", "station", "station_id", "stationid", "站点", "车站"),
    "detector_id": (
        "detector_id",
        "detector",
        "sensor",
        "sensor_id",
        "loop_id",
        "id_detector",
        "idelem",
        "détecteur",
        "detecteur",
        "检测器",
        "检测器编号",
        "线圈编号",
    ),
    "pm25": ("pm25", "pm2.5", "pm2_5", "fine particles", "细颗粒物", "partículas pm2.5"),
    "pm10": ("pm10", "pm 10", "可吸入颗粒物", "partículas pm10"),
    "no2": ("no2", "nitrogen dioxide", "二氧化氮", "dioxyde d'azote", "dióxido de nitrógeno"),
    "so2": ("so2", "sulphur dioxide", "sulfur dioxide", "二氧化硫", "dioxyde de soufre"),
    "co": ("co", "carbon monoxide", "一氧化碳", "monoxyde de carbone", "monóxido de carbono"),
    "o3": ("o3", "ozone", "臭氧", "ozono"),
    "volume": (
        "volume",
        "flow",
        "count",
        "vehicles",
        "vehicle_count",
        "intensidad",
        "intensity",
        "débit",
        "debit",
        "车流量",
        "流量",
    ),
    "speed_kmh": (
        "speed_kmh",
        "speed",
        "avg_speed",
        "mean_speed",
        "velocidad",
        "vmed",
        "vitesse",
        "车速",
        "速度",
        "平均速度",
    ),
    "occupancy": ("occupancy", "occ", "ocupacion", "ocupación", "taux d'occupation", "占有率"),
    "district": (
        "district",
        "district_code",
        "adcode",
        "distrito",
        "arrondissement",
        "区",
        "区县",
        "行政区",
        "行政区划代码",
    ),
    "lat": ("lat", "latitude", "latitud", "纬度"),
    "lon": ("lon", "lng", "long", "longitude", "longitud", "经度"),
    "name": ("name", "nombre", "nom", "名称", "站名"),
    "name_zh": ("name_zh", "中文名", "中文名称"),
    "road": ("road", "street", "calle", "rue", "via", "道路", "路名"),
    "road_zh": ("road_zh", "道路中文名"),
    "road_type": ("road_type", "tipo_via", "type de voie", "道路类型"),
    "lanes": ("lanes", "carriles", "voies", "车道数"),
    "pilot": ("pilot", "piloto", "试点"),
    "corridor": ("corridor", "corredor", "走廊"),
    "incident_id": ("incident_id", "event_id", "id_incidente", "事件编号"),
    "detected_at": ("detected_at", "start", "start_time", "detectado", "发现时间", "开始时间"),
    "cleared_at": ("cleared_at", "end", "end_time", "cleared", "resuelto", "结束时间", "清除时间"),
    "type": ("type", "tipo", "类型", "事件类型"),
    "source": ("source", "fuente", "来源"),
    "severity": ("severity", "gravedad", "gravité", "gravite", "等级", "严重程度"),
    "run_id": ("run_id", "id_servicio", "任务编号"),
    "started_at": ("started_at", "start", "start_time", "inicio", "出发时间"),
    "vehicle": ("vehicle", "vehiculo", "véhicule", "车辆"),
    "distance_km": ("distance_km", "distance", "distancia", "距离", "里程"),
    "signals_passed": ("signals_passed", "signals", "semaforos", "信号灯"),
    "travel_min": (
        "travel_min",
        "travel_time",
        "duration",
        "duracion",
        "durée",
        "用时",
        "行程时间",
    ),
    "signal_priority": ("signal_priority", "priority", "prioridad", "信号优先"),
    "kind": ("kind", "station_type", "tipo_estacion", "站点类型"),
    "near_road": ("near_road", "roadside", "交通站"),
    "inflow": ("inflow", "in", "entries", "entradas", "entrées", "进站", "进站量"),
    "outflow": ("outflow", "out", "exits", "salidas", "sorties", "出站", "出站量"),
    "sector": ("sector", "secteur", "行业", "部门"),
    "electricity_gwh": ("electricity_gwh", "electricity", "consumption", "consumo", "用电量"),
    "renewable_gwh": ("renewable_gwh", "renewable", "renewables", "renovable", "可再生"),
    "metro_riders": ("metro_riders", "metro", "subway", "metro_ridership", "地铁客流", "地铁"),
    "bus_riders": ("bus_riders", "bus", "autobus", "公交客流", "公交"),
    "public_bike_trips": ("public_bike_trips", "bike_trips", "bicing", "公共自行车"),
    "ev_charging_sessions": ("ev_charging_sessions", "charging_sessions", "充电次数"),
    "ev_charging_mwh": ("ev_charging_mwh", "charging_energy", "充电量"),
    "stream": ("stream", "waste_type", "fraction", "residuo", "垃圾类别"),
    "tonnes": ("tonnes", "tons", "weight", "peso", "toneladas", "重量"),
    "rain_mm": ("rain_mm", "rain", "precipitation", "precip", "lluvia", "pluie", "降水", "降水量"),
    "temp_c": ("temp_c", "temp", "temperature", "temperatura", "température", "气温", "温度"),
}

# The same physical quantity in another unit: (from, to) → factor, offset (value·factor + offset).
CONVERSIONS: dict[tuple[str, str], tuple[float, float]] = {
    ("µg/m³", "mg/m³"): (0.001, 0.0),
    ("mg/m³", "µg/m³"): (1000.0, 0.0),
    ("mph", "km/h"): (1.609344, 0.0),
    ("m/s", "km/h"): (3.6, 0.0),
    ("°F", "°C"): (5 / 9, -32 * 5 / 9),
    ("kWh", "GWh"): (1e-6, 0.0),
    ("MWh", "GWh"): (1e-3, 0.0),
    ("kWh", "MWh"): (1e-3, 0.0),
    ("GWh", "MWh"): (1e3, 0.0),
    ("kg", "t"): (1e-3, 0.0),
    ("m", "km"): (1e-3, 0.0),
    ("h", "min"): (60.0, 0.0),
}
# Gas concentrations by volume → by mass at 25 °C and 1 atm (molar mass / 24.45).
GAS_PPB = {"no2": 1.88, "so2": 2.62, "o3": 1.96, "co": 1.145e-3}


def conversion(source_unit: str, target_unit: str, target: str = "") -> tuple[float, float] | None:
    """(factor, offset) turning values in `source_unit` into `target_unit`, or None if unknown."""
    if source_unit == target_unit:
        return (1.0, 0.0)
    if target in GAS_PPB and target_unit in {"µg/m³", "mg/m³"}:
        per_ppb = GAS_PPB[target]  # µg/m³ per ppb (mg/m³ per ppb for CO)
        if target == "co" and target_unit == "mg/m³":
            per_ppb = 1.145e-3
        elif target_unit == "mg/m³":
            per_ppb /= 1000
        if source_unit == "ppb":
            return (per_ppb, 0.0)
        if source_unit == "ppm":
            return (per_ppb * 1000, 0.0)
    return CONVERSIONS.get((source_unit, target_unit))


# Values whose size gives their unit away: target, kind's unit → (the unit they are in, test).
MAGNITUDE_UNITS: dict[tuple[str, str], tuple[str, float]] = {
    ("co", "mg/m³"): ("µg/m³", 30.0),  # CO is 0.1–10 mg/m³; hundreds mean µg/m³
}


@dataclass(frozen=True)
class Source:
    """What feeds one target column: a source column, a timestamp spread over columns, or a
    constant; with the unit the source is in (converted to the kind's) and date formats."""

    column: str | None = None
    parts: tuple[tuple[str, str], ...] = ()
    constant: str | None = None
    unit: str | None = None
    formats: tuple[str, ...] = ()
    type: str | None = None  # for generic tables: the type the column is read as

    @property
    def label(self) -> str:
        if self.column is not None:
            return self.column
        if self.parts:
            return " + ".join(name for _, name in self.parts)
        return f"= {self.constant!r}"

    @property
    def columns(self) -> tuple[str, ...]:
        if self.column is not None:
            return (self.column,)
        return tuple(name for _, name in self.parts)

    def to_json(self) -> dict:
        out: dict = {}
        if self.column is not None:
            out["column"] = self.column
        if self.parts:
            out["parts"] = dict(self.parts)
        if self.constant is not None:
            out["constant"] = self.constant
        for key in ("unit", "type"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.formats:
            out["formats"] = list(self.formats)
        return out

    @classmethod
    def from_json(cls, obj: str | dict | Source) -> Source:
        if isinstance(obj, Source):
            return obj
        if isinstance(obj, str):
            return cls(column=obj)
        if not isinstance(obj, dict):
            raise ValueError(f"a column mapping is a name or an object, not {obj!r}")
        parts = obj.get("parts") or {k: obj[k] for k in PART_KEYS if k in obj}
        return cls(
            column=obj.get("column"),
            parts=tuple((k, str(v)) for k, v in parts.items()),
            constant=None if obj.get("constant") is None else str(obj["constant"]),
            unit=obj.get("unit") or None,
            formats=tuple(obj.get("formats") or ()),
            type=obj.get("type") or None,
        )


PART_KEYS = ("date", "time", "year", "month", "day", "hour", "minute", "second")


@dataclass(frozen=True)
class Mapping:
    kind: str
    columns: dict[str, Source]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"kind": self.kind, "columns": {k: v.to_json() for k, v in self.columns.items()}}

    @classmethod
    def from_json(cls, obj: dict | Mapping) -> Mapping:
        if isinstance(obj, Mapping):
            return obj
        return cls(
            kind=obj.get("kind", GENERIC),
            columns={k: Source.from_json(v) for k, v in (obj.get("columns") or {}).items()},
        )


@dataclass(frozen=True)
class ColumnFacts:
    """What the mapper needs to know about a source column (from the inspection)."""

    name: str
    type: str
    unit: str | None = None
    formats: tuple[str, ...] = ()
    numbers: tuple[float, ...] = ()  # a few parsed sample values, for magnitude checks


@dataclass(frozen=True)
class Candidate:
    kind: str
    mapping: Mapping
    required: int
    matched_required: int
    matched: int
    missing: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return self.matched_required == self.required


def fold(name: str) -> str:
    """`PM2.5 (µg/m³)` → `pm25`: case, spaces, punctuation, full-width forms and units gone."""
    base, _ = split_unit(name)
    text = unicodedata.normalize("NFKC", base).casefold()
    return re.sub(r"[\s_\-.·'’()\[\]/]+", "", text)


_COMPATIBLE = {
    "string": {"string", "integer", "number", "boolean", "date", "timestamp", "time"},
    "integer": {"integer", "number"},
    "number": {"integer", "number"},
    "boolean": {"boolean", "integer", "string"},
    "date": {"date", "timestamp"},
    "timestamp": {"timestamp", "date"},
}


def target_type(column: Column) -> str:
    t = column.type
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    return "string"


def match_kind(kind: Kind, facts: list[ColumnFacts], split: TimeSplit | None) -> Candidate:
    """The best mapping of the source columns onto one kind (each source used at most once)."""
    by_fold: dict[str, list[ColumnFacts]] = {}
    for f in facts:
        by_fold.setdefault(fold(f.name), []).append(f)
    used: set[str] = set()
    columns: dict[str, Source] = {}
    notes: list[str] = []
    for col in kind.columns:
        wanted = target_type(col)
        found = _find(col.name, wanted, by_fold, used)
        prefer_split = (
            split is not None
            and wanted == "timestamp"
            and (found is None or found.type != "timestamp" or found.name in split.parts.values())
        )
        if prefer_split and col.name == kind.time_column:
            if not used & set(split.parts.values()):
                columns[col.name] = Source(parts=tuple(split.parts.items()))
                used.update(split.parts.values())
            continue
        if found is None:
            continue
        used.add(found.name)
        # The column's own type, formats and unit are read from the inspection when the rows
        # are validated, so an override of them on the column applies; the mapping only holds
        # what the column does not say (a unit guessed from the magnitudes).
        source = Source(column=found.name)
        unit, note = _unit_for(col, found)
        if unit and unit != found.unit:
            source = replace(source, unit=unit)
        if note:
            notes.append(note)
        columns[col.name] = source
    required = [c.name for c in kind.columns if c.required]
    missing = tuple(n for n in required if n not in columns)
    return Candidate(
        kind=kind.id,
        mapping=Mapping(kind.id, columns, tuple(notes)),
        required=len(required),
        matched_required=len(required) - len(missing),
        matched=len(columns),
        missing=missing,
    )


def _find(target: str, wanted: str, by_fold, used) -> ColumnFacts | None:
    aliases = [fold(a) for a in ALIASES.get(target, (target,))]
    if fold(target) not in aliases:
        aliases.insert(0, fold(target))
    for alias in aliases:  # exact matches, in the order of preference; a text column may still
        for f in by_fold.get(alias, []):  # hold numbers with a few bad ones: validation says
            if f.name not in used and (f.type == "string" or f.type in _COMPATIBLE[wanted]):
                return f
    for alias in aliases:  # then a longer header starting with a distinctive alias: "PM2.5浓度"
        if len(alias) < 3:
            continue
        for key, found in by_fold.items():
            if key.startswith(alias) and key != alias:
                for f in found:
                    if f.name not in used and f.type in _COMPATIBLE.get(wanted, {f.type}):
                        return f
    return None


def _unit_for(col: Column, found: ColumnFacts) -> tuple[str | None, str]:
    if not col.unit:
        return None, ""
    if found.unit and found.unit != col.unit:
        if conversion(found.unit, col.unit, col.name):
            return found.unit, (
                f"{found.name} is in {found.unit} (its header says so): "
                f"converted to {col.unit} for {col.name}"
            )
        return found.unit, f"{found.name} is in {found.unit}, which CityLens cannot convert"
    hint = MAGNITUDE_UNITS.get((col.name, col.unit))
    if hint and not found.unit and found.numbers:
        unit, threshold = hint
        median = statistics.median(found.numbers)
        if median > threshold:
            return unit, (
                f"{found.name} looks like {unit} (median {median:g} in the sample; "
                f"{col.name} is usually under {threshold:g} {col.unit}): converted to "
                f"{col.unit} for {col.name}"
            )
    return None, ""


def suggest(facts: list[ColumnFacts], split: TimeSplit | None) -> tuple[Mapping, list[Candidate]]:
    """The suggested mapping, and every kind ranked (complete ones first, then by columns)."""
    candidates = [match_kind(k, facts, split) for k in KINDS.values() if k.id != GENERIC]
    candidates.sort(
        key=lambda c: (c.complete, c.matched_required / c.required, c.matched), reverse=True
    )
    best = candidates[0] if candidates and candidates[0].complete else None
    if best is None:
        return generic_mapping(facts, split), candidates
    return best.mapping, candidates


def generic_mapping(facts: list[ColumnFacts], split: TimeSplit | None = None) -> Mapping:
    """Every column kept under its own name, read as the type, formats and unit the inspection
    gives it (detected, or overridden by the analyst); a date column with its time or hour
    column becomes one timestamp, under the date column's name."""
    joined = dict(split.parts) if split and "date" in split.parts else {}
    columns = {}
    for f in facts:
        if f.name == joined.get("date"):
            columns[f.name] = Source(parts=tuple(joined.items()), type="timestamp")
        elif f.name not in joined.values():
            columns[f.name] = Source(column=f.name)
    return Mapping(GENERIC, columns)
