"""SDG indicators: which ones a city's datasets can compute, their values, trends and status.

Two layers, kept apart so the arithmetic can be checked by hand:

* **Inputs** (`fetch_*`): one small frame per kind of data, read through the query engine
  (station-day PM2.5, city-day AQI, detector-day inverse speeds, crashes per day, electricity per
  day, waste per month …). Each has a `date` column (a day, or the first day of a month).
* **Computations** (everything else): pure functions of those frames. An `Indicator` names its
  SDG target, the input it reads, the function that turns the input's rows for one period into
  one number, its unit and its reference. `evaluate()` picks the reporting period (the latest
  calendar year the data covers completely, else the whole span, flagged as partial), the trend
  (one value per complete year when there are two or more, else one per month of the reporting
  period, which is a seasonal profile and is said to be one) and the status (against the
  reference where one exists, else the direction of the yearly trend, else "baseline").

Indicators whose datasets the city lacks, or which no kind of dataset in the catalog can feed
(road deaths, deaths from air pollution, water quality, greenhouse-gas inventories …), come back
as `Gap`s naming the kind of dataset that would fill them.

The package holds a module per layer (`model`, `formulas`, `registry`, `periods`, `inputs`,
`evaluation`); every public name is importable from here.
"""

from __future__ import annotations

from .evaluation import evaluate, evaluate_now, fingerprint, unit_label
from .formulas import (
    median_of,
    population_weighted_mean,
    rate_per_resident,
    ratio_of_sums,
    share_above,
    share_at_most,
    transit_total,
    transit_variant,
    travel_time_index,
    waste_share,
    weighting_variant,
)
from .inputs import (
    FETCH,
    city_inputs,
    fetch_air_city_daily,
    fetch_air_stations_daily,
    fetch_crashes_daily,
    fetch_energy_daily,
    fetch_mobility_daily,
    fetch_runs,
    fetch_traffic_daily,
    fetch_waste_monthly,
)
from .model import (
    CHINA_GOOD_DAYS,
    CRASH_TYPES,
    GOOD_AQI,
    LANDFILL_STREAMS,
    MIN_MONTH_SHARE,
    RECYCLED_STREAMS,
    SOURCES,
    STABLE,
    TARGET_ORDER,
    WHO_NO2,
    WHO_PM10,
    WHO_PM25,
    WHO_PM25_24H,
    WHO_PM25_DAYS,
    Compute,
    Evaluation,
    Gap,
    GapSpec,
    Indicator,
    Inputs,
    Reference,
    Result,
    Source,
    target_key,
)
from .periods import (
    Period,
    complete_years,
    compute,
    covered_days,
    monthly_values,
    reporting_period,
    status_of,
    value_for,
    yearly_values,
)
from .registry import GAP_SPECS, INDICATORS, REGISTRY

__all__ = [
    "CHINA_GOOD_DAYS",
    "CRASH_TYPES",
    "FETCH",
    "GAP_SPECS",
    "GOOD_AQI",
    "INDICATORS",
    "LANDFILL_STREAMS",
    "MIN_MONTH_SHARE",
    "RECYCLED_STREAMS",
    "REGISTRY",
    "SOURCES",
    "STABLE",
    "TARGET_ORDER",
    "WHO_NO2",
    "WHO_PM10",
    "WHO_PM25",
    "WHO_PM25_24H",
    "WHO_PM25_DAYS",
    "Compute",
    "Evaluation",
    "Gap",
    "GapSpec",
    "Indicator",
    "Inputs",
    "Period",
    "Reference",
    "Result",
    "Source",
    "city_inputs",
    "complete_years",
    "compute",
    "covered_days",
    "evaluate",
    "evaluate_now",
    "fetch_air_city_daily",
    "fetch_air_stations_daily",
    "fetch_crashes_daily",
    "fetch_energy_daily",
    "fetch_mobility_daily",
    "fetch_runs",
    "fetch_traffic_daily",
    "fetch_waste_monthly",
    "fingerprint",
    "median_of",
    "monthly_values",
    "population_weighted_mean",
    "rate_per_resident",
    "ratio_of_sums",
    "reporting_period",
    "share_above",
    "share_at_most",
    "status_of",
    "target_key",
    "transit_total",
    "transit_variant",
    "travel_time_index",
    "unit_label",
    "value_for",
    "waste_share",
    "weighting_variant",
    "yearly_values",
]
