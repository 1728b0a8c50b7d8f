"""What a city's `demo.json` holds, as typed dataclasses (`DemoParams` and its sections), and
the fixed vocabularies its values are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from datasets.cities import CityProfile

DEMO_FILE = "demo.json"
# schema metadata on the day/detector/station tables naming the city folder, so a generator
# called without `params` uses the same city's demo.json as the table it was given
CITY_FOLDER_KEY = b"citylens.city_folder"
CITY_ID_KEY = b"citylens.city"
ROAD_TYPES = ("expressway", "arterial")
STATION_KINDS = ("urban", "background")
INCIDENT_TYPES = ("crash", "breakdown", "congestion", "illegal_parking", "roadworks", "obstruction")
INCIDENT_SOURCES = ("video_ai", "gps_probe", "police_report", "citizen_call")
SECTORS = ("industry", "residential", "other")
POLLUTANTS = ("pm25", "pm10", "no2", "so2", "o3", "co")

Monthly = tuple[float, ...]


class DemoParamsError(ValueError):
    """demo.json is missing a value or holds one of the wrong kind."""


@dataclass(frozen=True)
class Holiday:
    kind: str
    start: date
    end: date


@dataclass(frozen=True)
class CalendarParams:
    holidays: tuple[Holiday, ...]
    working_weekend_days: tuple[date, ...]
    wet_day_probability: Monthly
    mean_mm_on_wet_day: Monthly
    rain_persistence: float
    rain_gamma_shape: float
    temp_monthly_c: Monthly
    temp_anomaly_sd_c: float
    temp_anomaly_ar: float
    rain_cooling_c: float
    rain_effect_scale_mm: float


@dataclass(frozen=True)
class Road:
    name: str
    name_zh: str
    road_type: str
    district: int
    corridor: str
    pilot: bool
    lanes: int
    weight: float
    peak_vc: float
    line: tuple[tuple[float, float], ...]  # (lat, lon) vertices
    scenic: bool = False


@dataclass(frozen=True)
class RoadType:
    free_flow_kmh: float
    capacity_veh_h_lane: float


@dataclass(frozen=True)
class PilotParams:
    start: date
    ramp_days: int
    delay_reduction: float
    capacity_gain: float
    detector_share: float


@dataclass(frozen=True)
class ProfileParams:
    workday: dict[str, Any]
    offday: dict[str, Any]
    pm_peak_hour_monthly: Monthly


@dataclass(frozen=True)
class PreHoliday:
    kind: str
    days: int
    factor: float


@dataclass(frozen=True)
class TrafficNoise:
    detector_scale_sd: float
    detector_speed_sd: float
    day_sd: float
    day_speed_sd: float
    slot_sd: float
    speed_slot_sd: float
    count_dispersion: float


@dataclass(frozen=True)
class TrafficParams:
    pilot: PilotParams
    road_types: dict[str, RoadType]
    bpr_alpha: float
    bpr_beta: float
    profile: ProfileParams
    weekend_factor: float
    holiday_factors: dict[str, float]
    scenic_factors: dict[str, float]
    pre_holiday: tuple[PreHoliday, ...]
    month_factors: Monthly
    rain_speed_drop: float
    rain_capacity_drop: float
    rain_demand_change: float
    noise: TrafficNoise
    occupancy_effective_length_m: float
    roads: tuple[Road, ...]


@dataclass(frozen=True)
class IncidentType:
    weight: float
    clear_median_min: float
    severity: tuple[float, float, float]
    night_weight: float


@dataclass(frozen=True)
class IncidentParams:
    per_day: float
    offday_factor: float
    holiday_factor: float
    rain_increase: float
    night_floor: float
    types: dict[str, IncidentType]
    clear_sd_log: float
    severity_clear_factor: tuple[float, float, float]
    sources: tuple[str, ...]
    source_mix: tuple[float, ...]
    pilot_source_mix: tuple[float, ...]
    pilot_clear_factor: float
    location_jitter_deg: float


@dataclass(frozen=True)
class EmergencyParams:
    per_day: float
    vehicle_mix: dict[str, float]
    distance_median_km: dict[str, float]
    distance_sd_log: float
    signals_per_km: dict[str, float]
    district_overrides: dict[int, dict[str, float]]
    speed_kmh: float
    priority_speed_factor: float
    wait_per_signal_min: float
    priority_wait_per_signal_min: float
    congestion_gain: float
    time_sd_log: float
    priority_route_share: float
    hour_weights: tuple[float, ...]


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    name_zh: str
    lat: float
    lon: float
    scale: float
    kind: str
    near_road: bool


@dataclass(frozen=True)
class AirParams:
    stations: tuple[Station, ...]
    pm25_monthly: Monthly
    pm25_daily_sd_log: float
    pm25_daily_ar: float
    pm10_ratio: float
    pm10_ratio_sd_log: float
    o3_mda8_monthly: Monthly
    o3_daily_sd_log: float
    o3_daily_ar: float
    o3_rain_drop: float
    no2_monthly: Monthly
    no2_background_share: float
    so2_monthly: Monthly
    co_monthly: Monthly
    meteo_daily_sd_log: float
    rain_washout: float
    station_daily_sd_log: float
    hourly_sd_log: float
    missing_rate: float
    near_road_factors: dict[str, float]
    kind_factors: dict[str, dict[str, float]]
    diurnal_pm: tuple[float, ...]
    diurnal_boundary_layer: tuple[float, ...]
    diurnal_o3: tuple[float, ...]


@dataclass(frozen=True)
class RenewableShare:
    start: float
    end: float
    monthly_add: Monthly
    sd: float


@dataclass(frozen=True)
class EnergyParams:
    annual_gwh: dict[str, float]
    month_factors: dict[str, Monthly]
    offday_factors: dict[str, float]
    holiday_factors: dict[str, dict[str, float]]
    temperature_sensitivity_per_c: dict[str, float]
    daily_sd_log: float
    renewable: RenewableShare


@dataclass(frozen=True)
class Step:
    start: date
    factor: float


@dataclass(frozen=True)
class RidershipParams:
    workday: float
    offday_factor: float
    holiday_factors: dict[str, float]
    steps: tuple[Step, ...]
    month_factors: Monthly
    rain_increase: float
    daily_sd_log: float


@dataclass(frozen=True)
class BikeParams:
    mean: float
    offday_factor: float
    holiday_factors: dict[str, float]
    month_factors: Monthly
    rain_drop: float
    daily_sd_log: float
    record: float


@dataclass(frozen=True)
class EvParams:
    sessions_start: float
    growth_per_year: float
    kwh_per_session: float
    winter_kwh_increase: float
    offday_factor: float
    daily_sd_log: float


@dataclass(frozen=True)
class MobilityParams:
    metro: RidershipParams
    bus: RidershipParams
    public_bike: BikeParams
    ev_charging: EvParams


@dataclass(frozen=True)
class ShareStep:
    start: date
    share: float


@dataclass(frozen=True)
class WasteParams:
    tonnes_per_day: float
    growth_per_year: float
    month_factors: Monthly
    incinerated_share: tuple[ShareStep, ...]
    kitchen_share: float
    recycled_share_start: float
    recycled_share_end: float
    monthly_sd_log: float


@dataclass(frozen=True)
class DemoParams:
    city: CityProfile
    period_start: date
    period_end: date
    calendar: CalendarParams
    traffic: TrafficParams
    incidents: IncidentParams
    emergency: EmergencyParams
    air: AirParams
    energy: EnergyParams
    mobility: MobilityParams
    waste: WasteParams
    about: dict[str, str]

    def holiday_factor(self, table: dict[str, float], kind: str) -> float:
        """Look a holiday kind up in a factor table, falling back to its `default` entry."""
        return float(table.get(kind, table.get("default", 1.0)))
