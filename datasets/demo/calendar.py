"""The day table every other generator is driven by: date, weekday, working day, holiday, weather.

Why: traffic, air, energy and ridership all hinge on the same calendar (weekends, the Spring
Festival and National Day breaks, the weekend days that were working days) and on the same
weather (rain slows traffic, washes out particulate matter, keeps cyclists home), so the weather
is drawn once here and shared. Holidays and climate normals come from the city's demo.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from datasets.cities import CityProfile
from datasets.demo.params import as_params, city_metadata
from datasets.demo.schema import DemoParams

DAY_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("weekday", pa.int8()),
        ("workday", pa.bool_()),
        ("holiday", pa.string()),
        ("rain_mm", pa.float32()),
        ("temp_c", pa.float32()),
    ]
)
WEATHER_SCHEMA = pa.schema(
    [("date", pa.date32()), ("rain_mm", pa.float32()), ("temp_c", pa.float32())]
)
_MONTH_MID_DOY = np.array([15.5, 45, 74.5, 105, 135.5, 166, 196.5, 227.5, 258, 288.5, 319, 349.5])


@dataclass(frozen=True)
class Days:
    """A day table as numpy arrays (what the generators compute with)."""

    date: np.ndarray  # datetime64[D]
    weekday: np.ndarray  # int, 0 = Monday
    workday: np.ndarray  # bool
    holiday: np.ndarray  # str, "" when not a holiday
    rain_mm: np.ndarray  # float
    temp_c: np.ndarray  # float

    def __len__(self) -> int:
        return len(self.date)

    @property
    def month(self) -> np.ndarray:
        """Month index 0..11."""
        return (self.date.astype("datetime64[M]").astype(np.int64) % 12).astype(np.intp)

    @property
    def offday(self) -> np.ndarray:
        return ~self.workday

    @property
    def epoch_seconds(self) -> np.ndarray:
        """Midnight of each day as seconds since 1970 (naive local time)."""
        return self.date.astype("datetime64[s]").astype(np.int64)


def day_arrays(days: pa.Table) -> Days:
    """View a day table (as built by `day_table`) as numpy arrays."""
    hol = days.column("holiday").to_pylist()
    return Days(
        date=days.column("date").to_numpy().astype("datetime64[D]"),
        weekday=days.column("weekday").to_numpy().astype(np.int64),
        workday=days.column("workday").to_numpy(zero_copy_only=False).astype(bool),
        holiday=np.array([h or "" for h in hol], dtype=object).astype(str),
        rain_mm=days.column("rain_mm").to_numpy().astype(np.float64),
        temp_c=days.column("temp_c").to_numpy().astype(np.float64),
    )


def monthly_curve(values: tuple[float, ...] | np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Periodic linear interpolation of 12 monthly means (anchored mid-month) to each date.

    Why: monthly figures (PM2.5 means, climate normals) should not jump on the 1st of a month.
    """
    doy = (dates.astype("datetime64[D]") - dates.astype("datetime64[Y]")).astype(np.float64)
    xs = np.concatenate([[_MONTH_MID_DOY[-1] - 365], _MONTH_MID_DOY, [_MONTH_MID_DOY[0] + 365]])
    v = np.asarray(values, dtype=np.float64)
    ys = np.concatenate([[v[-1]], v, [v[0]]])
    return np.interp(doy, xs, ys)


def rain_weight(rain_mm: np.ndarray, params: DemoParams) -> np.ndarray:
    """0 on a dry day, ->1 on a very wet one (saturating), the common scale of rain effects."""
    return 1.0 - np.exp(
        -np.asarray(rain_mm, dtype=np.float64) / params.calendar.rain_effect_scale_mm
    )


def year_fraction(dates: np.ndarray) -> np.ndarray:
    """Position within the calendar year, 0 on 1 Jan to ~1 on 31 Dec."""
    d = dates.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    length = ((y + 1).astype("datetime64[D]") - y.astype("datetime64[D]")).astype(np.float64)
    return (d - y.astype("datetime64[D]")).astype(np.float64) / length


def calendar_arrays(params: DemoParams, start: date, end: date) -> Days:
    """The deterministic part of the day table (no weather: rain and temperature are zero)."""
    dates = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    weekday = ((dates.astype(np.int64) + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    holiday = np.full(len(dates), "", dtype=object)
    for h in params.calendar.holidays:
        mask = (dates >= np.datetime64(h.start, "D")) & (dates <= np.datetime64(h.end, "D"))
        holiday[mask] = h.kind
    holiday = holiday.astype(str)
    workday = (weekday < 5) & (holiday == "")
    swaps = np.array([np.datetime64(d, "D") for d in params.calendar.working_weekend_days])
    if len(swaps):
        workday |= np.isin(dates, swaps)
    zeros = np.zeros(len(dates))
    return Days(dates, weekday, workday, holiday, zeros, zeros.copy())


def _weather_year(params: DemoParams, year: int, rng_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rain (mm) and temperature (deg C) for every day of one calendar year."""
    cal = params.calendar
    rng = np.random.default_rng([rng_seed, 0xCA1, year])
    dates = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    n = len(dates)
    month = (dates.astype("datetime64[M]").astype(np.int64) % 12).astype(np.intp)
    p = np.asarray(cal.wet_day_probability)[month]
    r = cal.rain_persistence
    # Two-state Markov chain whose stationary wet probability is p: P(wet|wet) = p + r(1 - p),
    # P(wet|dry) = p(1 - r). Persistence gives realistic rainy spells (plum rain, fronts).
    u = rng.random(n)
    wet = np.zeros(n, dtype=bool)
    prev = u[0] < p[0]
    wet[0] = prev
    for i in range(1, n):
        thr = p[i] + r * (1 - p[i]) if prev else p[i] * (1 - r)
        prev = u[i] < thr
        wet[i] = prev
    k = cal.rain_gamma_shape
    amount = rng.gamma(k, np.asarray(cal.mean_mm_on_wet_day)[month] / k)
    rain = np.where(wet, np.maximum(amount, 0.1), 0.0)

    eps = rng.standard_normal(n)
    anom = np.empty(n)
    phi = cal.temp_anomaly_ar
    anom[0] = eps[0]
    for i in range(1, n):
        anom[i] = phi * anom[i - 1] + np.sqrt(1 - phi * phi) * eps[i]
    w = 1.0 - np.exp(-rain / cal.rain_effect_scale_mm)
    temp = monthly_curve(cal.temp_monthly_c, dates) + cal.temp_anomaly_sd_c * anom
    temp -= cal.rain_cooling_c * (w - w.mean())
    return np.round(rain, 1), np.round(temp, 1)


def day_table(
    city: CityProfile | DemoParams | None = None,
    start: date | None = None,
    n_days: int | None = None,
    rng_seed: int = 0,
    *,
    end: date | None = None,
) -> pa.Table:
    """One row per day: `n_days` from `start` (or up to `end`; default: the demo period).

    Why: a shared calendar + weather so every table agrees on holidays and rainy days. Rain is a
    persistent Markov chain tuned in demo.json (about 120 wet days a year, plum-rain June-July
    wettest); weather is drawn per calendar year, so a sub-range equals the same days of the
    full year for the same seed. The table's metadata names the city, so generators given this
    table without `params` read the same city's demo.json.
    """
    p = as_params(city)
    start = start or p.period_start
    if end is None:
        if n_days is not None:
            end = start + timedelta(days=n_days - 1)
        elif p.period_end >= start:
            end = p.period_end
        else:
            end = start + (p.period_end - p.period_start)
    if end < start:
        raise ValueError("the day table needs at least one day")
    cal = calendar_arrays(p, start, end)
    years = range(start.year, end.year + 1)
    rain = np.empty(len(cal))
    temp = np.empty(len(cal))
    cal_years = cal.date.astype("datetime64[Y]").astype(np.int64) + 1970
    for y in years:
        r, t = _weather_year(p, y, rng_seed)
        sel = cal_years == y
        doy = (cal.date[sel] - np.datetime64(f"{y}-01-01")).astype(np.int64)
        rain[sel], temp[sel] = r[doy], t[doy]
    hol = [h or None for h in cal.holiday.tolist()]
    return pa.Table.from_arrays(
        [
            pa.array(cal.date, pa.date32()),
            pa.array(cal.weekday.astype(np.int8)),
            pa.array(cal.workday),
            pa.array(hol, pa.string()),
            pa.array(rain.astype(np.float32)),
            pa.array(temp.astype(np.float32)),
        ],
        schema=DAY_SCHEMA.with_metadata(city_metadata(p)),
    )


def weather_daily(days: pa.Table) -> pa.Table:
    """The `weather_daily` table (date, rain_mm, temp_c): the day table's weather columns.

    Why: publishing the weather that drives the modelled traffic/air patterns lets a dashboard
    show *why* a day was slow or clean (rain), instead of hiding the driver.
    """
    return days.select(["date", "rain_mm", "temp_c"]).cast(WEATHER_SCHEMA)
