"""Validating a decoded `demo.json` into `DemoParams`: every value read through a node that
knows its JSON path, so an error names the first bad value.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from datasets.cities import CityProfile

from .schema import (
    INCIDENT_SOURCES,
    INCIDENT_TYPES,
    ROAD_TYPES,
    SECTORS,
    STATION_KINDS,
    AirParams,
    BikeParams,
    CalendarParams,
    DemoParams,
    DemoParamsError,
    EmergencyParams,
    EnergyParams,
    EvParams,
    Holiday,
    IncidentParams,
    IncidentType,
    MobilityParams,
    Monthly,
    PilotParams,
    PreHoliday,
    ProfileParams,
    RenewableShare,
    RidershipParams,
    Road,
    RoadType,
    ShareStep,
    Station,
    Step,
    TrafficNoise,
    TrafficParams,
    WasteParams,
)


class _Node:
    """A JSON value with its path, so errors say where the problem is."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def fail(self, msg: str) -> DemoParamsError:
        return DemoParamsError(f"demo.json {self.path or '<root>'}: {msg}")

    def __getitem__(self, key: str | int) -> _Node:
        path = f"{self.path}[{key}]" if isinstance(key, int) else f"{self.path}.{key}".lstrip(".")
        if isinstance(key, int):
            if not isinstance(self.value, list) or not -len(self.value) <= key < len(self.value):
                raise self.fail(f"no item {key}")
            return _Node(self.value[key], path)
        if not isinstance(self.value, dict) or key not in self.value:
            raise self.fail(f"missing key {key!r}")
        return _Node(self.value[key], path)

    def get(self, key: str, default: Any = None) -> _Node:
        if isinstance(self.value, dict) and key in self.value:
            return self[key]
        return _Node(default, f"{self.path}.{key}".lstrip("."))

    def items(self) -> list[tuple[str, _Node]]:
        if not isinstance(self.value, dict):
            raise self.fail("expected an object")
        return [(k, self[k]) for k in self.value]

    def list(self) -> list[_Node]:
        if not isinstance(self.value, list):
            raise self.fail("expected a list")
        return [self[i] for i in range(len(self.value))]

    def num(self, lo: float | None = None, hi: float | None = None) -> float:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(f"expected a number, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.fail(f"{v} outside [{lo}, {hi}]")
        return float(v)

    def int(self, lo: int | None = None, hi: int | None = None) -> int:
        v = self.num(lo, hi)
        if v != int(v):
            raise self.fail(f"expected an integer, got {self.value!r}")
        return int(v)

    def str(self, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(self.value, str) or not self.value:
            raise self.fail(f"expected a non-empty string, got {self.value!r}")
        if choices is not None and self.value not in choices:
            raise self.fail(f"{self.value!r} not one of {choices}")
        return self.value

    def bool(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true/false, got {self.value!r}")
        return self.value

    def date(self) -> date:
        try:
            return date.fromisoformat(self.str())
        except ValueError as exc:
            raise self.fail(f"not an ISO date: {self.value!r}") from exc

    def nums(self, n: int | None = None, lo: float | None = None) -> tuple[float, ...]:
        out = tuple(x.num(lo) for x in self.list())
        if n is not None and len(out) != n:
            raise self.fail(f"expected {n} numbers, got {len(out)}")
        return out

    def monthly(self, lo: float | None = 0.0) -> Monthly:
        return self.nums(12, lo)

    def num_map(self, lo: float | None = 0.0) -> dict[str, float]:
        return {k: v.num(lo) for k, v in self.items()}

    def probs(self, n: int | None = None) -> tuple[float, ...]:
        out = self.nums(n, 0.0)
        if abs(sum(out) - 1.0) > 1e-6:
            raise self.fail(f"probabilities sum to {sum(out)}, not 1")
        return out


def _probability_months(n: _Node) -> Monthly:
    values = n.monthly(0.0)
    if max(values) > 1.0:
        raise n.fail("probabilities must be within [0, 1]")
    return values


def _calendar(n: _Node) -> CalendarParams:
    holidays = tuple(
        Holiday(kind=h["kind"].str(), start=h["start"].date(), end=h["end"].date())
        for h in n["holidays"].list()
    )
    for h, node in zip(holidays, n["holidays"].list(), strict=True):
        if h.end < h.start:
            raise node.fail("holiday ends before it starts")
    rain, temp = n["rain"], n["temperature"]
    return CalendarParams(
        holidays=holidays,
        working_weekend_days=tuple(d.date() for d in n["working_weekend_days"].list()),
        wet_day_probability=_probability_months(rain["wet_day_probability_monthly"]),
        mean_mm_on_wet_day=rain["mean_mm_on_wet_day_monthly"].monthly(0.1),
        rain_persistence=rain["persistence"].num(0.0, 0.95),
        rain_gamma_shape=rain["gamma_shape"].num(0.05),
        temp_monthly_c=temp["monthly_mean_c"].monthly(None),
        temp_anomaly_sd_c=temp["anomaly_sd_c"].num(0.0),
        temp_anomaly_ar=temp["anomaly_ar"].num(0.0, 0.99),
        rain_cooling_c=temp["rain_cooling_c"].num(0.0),
        rain_effect_scale_mm=n["rain_effect_scale_mm"].num(0.1),
    )


def _road(n: _Node, city: CityProfile) -> Road:
    district = n["district"].int()
    try:
        city.district(district)
    except KeyError as exc:
        raise n["district"].fail(f"{city.id} has no district {district}") from exc
    line = tuple((p[0].num(-90, 90), p[1].num(-180, 180)) for p in n["line"].list())
    if len(line) < 2:
        raise n["line"].fail("a road line needs at least two [lat, lon] points")
    return Road(
        name=n["name"].str(),
        name_zh=n["name_zh"].str(),
        road_type=n["type"].str(ROAD_TYPES),
        district=district,
        corridor=n["corridor"].str(),
        pilot=n["pilot"].bool(),
        lanes=n["lanes"].int(1, 8),
        weight=n["weight"].num(0.0),
        peak_vc=n["peak_vc"].num(0.1, 3.0),
        line=line,
        scenic=n.get("scenic", False).bool(),
    )


def _traffic(n: _Node, city: CityProfile) -> TrafficParams:
    p, prof, noise, rain = n["pilot"], n["profile"], n["noise"], n["rain"]
    road_types = {
        k: RoadType(v["free_flow_kmh"].num(5.0), v["capacity_veh_h_lane"].num(100.0))
        for k, v in n["road_types"].items()
    }
    for t in ROAD_TYPES:
        if t not in road_types:
            raise n["road_types"].fail(f"missing road type {t!r}")
    roads = tuple(_road(r, city) for r in n["roads"].list())
    if not any(r.pilot for r in roads) or all(r.pilot for r in roads):
        raise n["roads"].fail("need both pilot and control roads")
    for part in ("workday", "offday"):
        spec = prof[part]
        for key in ("night", "day"):
            spec[key].num(0.0)
        for key in ("day_start", "day_end"):
            spec[key].nums(2)
        for peak in ("am_peak", "pm_peak", "plateau"):
            if peak in (spec.value or {}):
                for k, v in spec[peak].items():
                    v.num(0.0)
                    if k not in ("hour", "width_h", "height", "start", "end", "edge_h"):
                        raise v.fail(f"unknown profile key {k!r}")
    if "am_peak" in prof["workday"].value:
        prof["workday"]["am_peak"]["hour"].num(0.0, 24.0)
    return TrafficParams(
        pilot=PilotParams(
            start=p["start"].date(),
            ramp_days=p["ramp_days"].int(0),
            delay_reduction=p["delay_reduction"].num(0.0, 0.9),
            capacity_gain=p["capacity_gain"].num(0.0, 0.5),
            detector_share=p["detector_share"].num(0.01, 0.99),
        ),
        road_types=road_types,
        bpr_alpha=n["bpr"]["alpha"].num(0.0),
        bpr_beta=n["bpr"]["beta"].num(0.0),
        profile=ProfileParams(
            workday=prof["workday"].value,
            offday=prof["offday"].value,
            pm_peak_hour_monthly=prof["pm_peak_hour_monthly"].monthly(12.0),
        ),
        weekend_factor=n["weekend_factor"].num(0.05, 2.0),
        holiday_factors=n["holiday_factors"].num_map(),
        scenic_factors=n["scenic_factors"].num_map(),
        pre_holiday=tuple(
            PreHoliday(x["kind"].str(), x["days"].int(0), x["factor"].num(0.0))
            for x in n["pre_holiday"].list()
        ),
        month_factors=n["month_factors"].monthly(0.0),
        rain_speed_drop=rain["speed_drop"].num(0.0, 0.9),
        rain_capacity_drop=rain["capacity_drop"].num(0.0, 0.9),
        rain_demand_change=rain["demand_change"].num(-0.9, 0.9),
        noise=TrafficNoise(**{k: v.num(0.0) for k, v in noise.items()}),
        occupancy_effective_length_m=n["occupancy_effective_length_m"].num(1.0),
        roads=roads,
    )


def _incidents(n: _Node) -> IncidentParams:
    types = {}
    for k, v in n["types"].items():
        if k not in INCIDENT_TYPES:
            raise v.fail(f"unknown incident type {k!r}")
        sev = v["severity"].probs(3)
        types[k] = IncidentType(
            weight=v["weight"].num(0.0),
            clear_median_min=v["clear_median_min"].num(1.0),
            severity=(sev[0], sev[1], sev[2]),
            night_weight=v["night_weight"].num(0.0),
        )
    sources = tuple(s.str(INCIDENT_SOURCES) for s in n["sources"].list())
    scf = n["severity_clear_factor"].nums(3, 0.0)
    return IncidentParams(
        per_day=n["per_day"].num(0.0),
        offday_factor=n["offday_factor"].num(0.0),
        holiday_factor=n["holiday_factor"].num(0.0),
        rain_increase=n["rain_increase"].num(-0.9),
        night_floor=n["night_floor"].num(0.0),
        types=types,
        clear_sd_log=n["clear_sd_log"].num(0.0),
        severity_clear_factor=(scf[0], scf[1], scf[2]),
        sources=sources,
        source_mix=n["source_mix"].probs(len(sources)),
        pilot_source_mix=n["pilot_source_mix"].probs(len(sources)),
        pilot_clear_factor=n["pilot_clear_factor"].num(0.05, 2.0),
        location_jitter_deg=n["location_jitter_deg"].num(0.0, 0.05),
    )


def _emergency(n: _Node, city: CityProfile) -> EmergencyParams:
    overrides: dict[int, dict[str, float]] = {}
    for k, v in n["district_overrides"].items():
        try:
            code = int(k)
            city.district(code)
        except (ValueError, KeyError) as exc:
            raise v.fail(f"unknown district {k!r}") from exc
        overrides[code] = v.num_map()
    mix = n["vehicle_mix"].num_map()
    if abs(sum(mix.values()) - 1.0) > 1e-6:
        raise n["vehicle_mix"].fail("vehicle mix must sum to 1")
    return EmergencyParams(
        per_day=n["per_day"].num(0.0),
        vehicle_mix=mix,
        distance_median_km=n["distance_median_km"].num_map(0.1),
        distance_sd_log=n["distance_sd_log"].num(0.0),
        signals_per_km=n["signals_per_km"].num_map(),
        district_overrides=overrides,
        speed_kmh=n["speed_kmh"].num(1.0),
        priority_speed_factor=n["priority_speed_factor"].num(0.5),
        wait_per_signal_min=n["wait_per_signal_min"].num(0.0),
        priority_wait_per_signal_min=n["priority_wait_per_signal_min"].num(0.0),
        congestion_gain=n["congestion_gain"].num(0.0),
        time_sd_log=n["time_sd_log"].num(0.0),
        priority_route_share=n["priority_route_share"].num(0.0, 1.0),
        hour_weights=n["hour_weights"].nums(24, 0.0),
    )


def _air(n: _Node) -> AirParams:
    stations = tuple(
        Station(
            id=s["id"].str(),
            name=s["name"].str(),
            name_zh=s["name_zh"].str(),
            lat=s["lat"].num(-90, 90),
            lon=s["lon"].num(-180, 180),
            scale=s["scale"].num(0.05, 5.0),
            kind=s["kind"].str(STATION_KINDS),
            near_road=s["near_road"].bool(),
        )
        for s in n["stations"].list()
    )
    if len({s.id for s in stations}) != len(stations):
        raise n["stations"].fail("station ids must be unique")
    kind_factors = {k: v.num_map() for k, v in n["kind_factors"].items()}
    for k, node in n["kind_factors"].items():
        if k not in STATION_KINDS:
            raise node.fail(f"unknown station kind {k!r}")
    di = n["diurnal"]
    return AirParams(
        stations=stations,
        pm25_monthly=n["pm25_monthly"].monthly(0.1),
        pm25_daily_sd_log=n["pm25_daily_sd_log"].num(0.0, 2.0),
        pm25_daily_ar=n["pm25_daily_ar"].num(0.0, 0.99),
        pm10_ratio=n["pm10_ratio"].num(1.0),
        pm10_ratio_sd_log=n["pm10_ratio_sd_log"].num(0.0),
        o3_mda8_monthly=n["o3_mda8_monthly"].monthly(0.1),
        o3_daily_sd_log=n["o3_daily_sd_log"].num(0.0, 2.0),
        o3_daily_ar=n["o3_daily_ar"].num(0.0, 0.99),
        o3_rain_drop=n["o3_rain_drop"].num(0.0, 0.9),
        no2_monthly=n["no2_monthly"].monthly(0.1),
        no2_background_share=n["no2_background_share"].num(0.0, 1.0),
        so2_monthly=n["so2_monthly"].monthly(0.01),
        co_monthly=n["co_monthly"].monthly(0.01),
        meteo_daily_sd_log=n["meteo_daily_sd_log"].num(0.0, 2.0),
        rain_washout=n["rain_washout"].num(0.0, 0.9),
        station_daily_sd_log=n["station_daily_sd_log"].num(0.0, 2.0),
        hourly_sd_log=n["hourly_sd_log"].num(0.0, 2.0),
        missing_rate=n["missing_rate"].num(0.0, 0.5),
        near_road_factors=n["near_road_factors"].num_map(),
        kind_factors=kind_factors,
        diurnal_pm=di["pm"].nums(24, 0.0),
        diurnal_boundary_layer=di["boundary_layer"].nums(24, 0.0),
        diurnal_o3=di["o3"].nums(24, 0.0),
    )


def _per_sector(n: _Node) -> dict[str, _Node]:
    out = dict(n.items())
    for s in SECTORS:
        if s not in out:
            raise n.fail(f"missing sector {s!r}")
    return out


def _energy(n: _Node) -> EnergyParams:
    r = n["renewable_share"]
    return EnergyParams(
        annual_gwh={k: v.num(0.0) for k, v in _per_sector(n["annual_gwh"]).items()},
        month_factors={k: v.monthly(0.0) for k, v in _per_sector(n["month_factors"]).items()},
        offday_factors={k: v.num(0.0) for k, v in _per_sector(n["offday_factors"]).items()},
        holiday_factors={k: v.num_map() for k, v in _per_sector(n["holiday_factors"]).items()},
        temperature_sensitivity_per_c={
            k: v.num(0.0) for k, v in _per_sector(n["temperature_sensitivity_per_c"]).items()
        },
        daily_sd_log=n["daily_sd_log"].num(0.0),
        renewable=RenewableShare(
            start=r["start"].num(0.0, 1.0),
            end=r["end"].num(0.0, 1.0),
            monthly_add=r["monthly_add"].monthly(None),
            sd=r["sd"].num(0.0),
        ),
    )


def _steps(n: _Node) -> tuple[Step, ...]:
    steps = tuple(Step(s["from"].date(), s["factor"].num(0.0)) for s in n.list())
    if not steps or list(steps) != sorted(steps, key=lambda s: s.start):
        raise n.fail("steps must be a non-empty list in date order")
    return steps


def _ridership(n: _Node) -> RidershipParams:
    return RidershipParams(
        workday=n["workday"].num(0.0),
        offday_factor=n["offday_factor"].num(0.0),
        holiday_factors=n["holiday_factors"].num_map(),
        steps=_steps(n["steps"]),
        month_factors=n["month_factors"].monthly(0.0),
        rain_increase=n["rain_increase"].num(-0.9),
        daily_sd_log=n["daily_sd_log"].num(0.0),
    )


def _mobility(n: _Node) -> MobilityParams:
    b, ev = n["public_bike"], n["ev_charging"]
    return MobilityParams(
        metro=_ridership(n["metro"]),
        bus=_ridership(n["bus"]),
        public_bike=BikeParams(
            mean=b["mean"].num(0.0),
            offday_factor=b["offday_factor"].num(0.0),
            holiday_factors=b["holiday_factors"].num_map(),
            month_factors=b["month_factors"].monthly(0.0),
            rain_drop=b["rain_drop"].num(0.0, 0.95),
            daily_sd_log=b["daily_sd_log"].num(0.0),
            record=b["record"].num(0.0),
        ),
        ev_charging=EvParams(
            sessions_start=ev["sessions_start"].num(0.0),
            growth_per_year=ev["growth_per_year"].num(-0.9),
            kwh_per_session=ev["kwh_per_session"].num(0.1),
            winter_kwh_increase=ev["winter_kwh_increase"].num(-0.5),
            offday_factor=ev["offday_factor"].num(0.0),
            daily_sd_log=ev["daily_sd_log"].num(0.0),
        ),
    )


def _waste(n: _Node) -> WasteParams:
    inc = tuple(
        ShareStep(s["from"].date(), s["share"].num(0.0, 1.0)) for s in n["incinerated_share"].list()
    )
    if not inc or list(inc) != sorted(inc, key=lambda s: s.start):
        raise n["incinerated_share"].fail("steps must be a non-empty list in date order")
    kitchen = n["kitchen_share"].num(0.0, 1.0)
    rec = n["recycled_share"]
    r0, r1 = rec["start"].num(0.0, 1.0), rec["end"].num(0.0, 1.0)
    if max(s.share for s in inc) + kitchen + max(r0, r1) > 1.0:
        raise n.fail("incinerated + kitchen + recycled shares exceed 1")
    return WasteParams(
        tonnes_per_day=n["tonnes_per_day"].num(0.0),
        growth_per_year=n["growth_per_year"].num(-0.9),
        month_factors=n["month_factors"].monthly(0.0),
        incinerated_share=inc,
        kitchen_share=kitchen,
        recycled_share_start=r0,
        recycled_share_end=r1,
        monthly_sd_log=n["monthly_sd_log"].num(0.0),
    )


def parse_params(raw: dict[str, Any], city: CityProfile) -> DemoParams:
    """Validate a decoded demo.json against its city and build `DemoParams`."""
    root = _Node(raw, "")
    start, end = root["period"]["start"].date(), root["period"]["end"].date()
    if end < start:
        raise root["period"].fail("period ends before it starts")
    about = root.get("about", {})
    return DemoParams(
        city=city,
        period_start=start,
        period_end=end,
        calendar=_calendar(root["calendar"]),
        traffic=_traffic(root["traffic"], city),
        incidents=_incidents(root["incidents"]),
        emergency=_emergency(root["emergency"], city),
        air=_air(root["air"]),
        energy=_energy(root["energy"]),
        mobility=_mobility(root["mobility"]),
        waste=_waste(root["waste"]),
        about={k: str(v) for k, v in (about.value or {}).items()},
    )
