"""The shapes the evidence modules exchange: an intervention, its evaluation, a forecast.

They are plain frozen dataclasses so the CLI writes them as JSON, the pages cache them and the
tests compare them field by field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

UnitKind = Literal["detector", "corridor", "district", "station"]


@dataclass(frozen=True)
class Intervention:
    """A change made on some units from a date, judged on one outcome against control units.

    `outcome` is `<kind>.<column>` (`traffic_readings.speed_kmh`, `air_quality_hourly.no2`);
    `hours` are the hours of day kept (empty: all), `weekdays` keeps Monday-Friday only.
    Units are detector ids, corridor (road) names, district codes as text, or station ids.
    """

    id: str
    city: str
    name: str
    start: dt.date
    treated: tuple[str, ...]
    control: tuple[str, ...]
    outcome: str
    unit: UnitKind = "detector"
    end: dt.date | None = None
    hours: tuple[int, ...] = ()
    weekdays: bool = False
    created_by: str = ""
    created_at: str = ""

    @property
    def kind(self) -> str:
        return self.outcome.split(".", 1)[0]

    @property
    def column(self) -> str:
        return self.outcome.split(".", 1)[1]


@dataclass(frozen=True)
class Evaluation:
    """How much an intervention changed its outcome and how sure we are.

    `estimate` is in the outcome's unit, `estimate_pct` in percent of the treated units'
    pre-period mean; `ci95`/`ci95_pct` are 95 % confidence intervals (standard errors clustered by
    unit). `event_study` has one row per week relative to the start (`week`, `coef`, `lo`, `hi`;
    week -1 is the reference, 0). `placebo_times` has one row per fake start (`start`,
    `estimate`, `p_value`). `synthetic_control` is empty when too few control units allow one.
    """

    intervention_id: str
    outcome: str
    unit_label: str  # the outcome's unit ("km/h", "µg/m³")
    estimate: float
    estimate_pct: float
    ci95: tuple[float, float]
    ci95_pct: tuple[float, float]
    p_value: float
    pre_trend_p: float | None
    placebo_p: float | None
    n_treated: int
    n_control: int
    n_observations: int
    baseline: float  # the treated units' pre-period mean
    event_study: pd.DataFrame = field(repr=False, compare=False)
    placebo_times: pd.DataFrame = field(repr=False, compare=False)
    synthetic_control: dict = field(default_factory=dict)
    data_stamp: str = ""
    synthetic_data: bool = False  # the outcome's dataset is generated (the demo city)

    def as_json(self) -> dict:
        """The `--json` document of `python -m datasets evaluate`."""
        return {
            "intervention": self.intervention_id,
            "outcome": self.outcome,
            "unit": self.unit_label,
            "estimate": self.estimate,
            "estimate_pct": self.estimate_pct,
            "ci95": list(self.ci95),
            "ci95_pct": list(self.ci95_pct),
            "p_value": self.p_value,
            "pre_trend_p": self.pre_trend_p,
            "placebo_p": self.placebo_p,
            "synthetic_control": self.synthetic_control,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "n_observations": self.n_observations,
            "baseline": self.baseline,
            "event_study": self.event_study.to_dict(orient="records"),
        }


@dataclass(frozen=True)
class Forecast:
    """Forecasts of one column for each series (station, district or detector).

    `frame`: `series`, `ts`, `mean`, `lo80`, `hi80`, `lo95`, `hi95` for the forecast hours;
    `history`: `series`, `ts`, `value` for the recent past drawn beside it; `skill`: per series
    the chosen `model`, its `mase` and the seasonal-naive `mase_naive` of the rolling-origin
    backtest, by horizon (`horizon_h`).
    """

    dataset_id: str
    column: str
    by: str
    horizon_h: int
    until: pd.Timestamp | None
    frame: pd.DataFrame = field(repr=False, compare=False)
    history: pd.DataFrame = field(repr=False, compare=False)
    skill: pd.DataFrame = field(repr=False, compare=False)
