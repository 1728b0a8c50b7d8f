"""Ecology and digital-life demo data: electricity, transit and bike ridership, EV charging, waste.

Why: round table 2 ("smart applications and sustainable ecological development") asks how
digital life helps ecology: public transport and bikes instead of cars, renewable electricity,
sorted and incinerated waste instead of landfill. Annual levels come from the city's demo.json
(for Hangzhou: the 2018 Statistical Yearbook for electricity and ridership, the waste figures
around the Jiufeng incinerator); daily and monthly shapes are modelled.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from datasets.demo.calendar import Days, calendar_arrays, day_arrays, monthly_curve, rain_weight
from datasets.demo.calendar import year_fraction as _year_fraction
from datasets.demo.params import resolve
from datasets.demo.schema import SECTORS, DemoParams, RidershipParams

ENERGY_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("sector", pa.string()),
        ("electricity_gwh", pa.float32()),
        ("renewable_gwh", pa.float32()),
    ]
)
MOBILITY_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("metro_riders", pa.int32()),
        ("bus_riders", pa.int32()),
        ("public_bike_trips", pa.int32()),
        ("ev_charging_sessions", pa.int32()),
        ("ev_charging_mwh", pa.float32()),
    ]
)
WASTE_STREAMS = ("incinerated", "landfilled", "recycled", "kitchen")
WASTE_SCHEMA = pa.schema(
    [("month", pa.date32()), ("stream", pa.string()), ("tonnes", pa.float64())]
)


def _years_since_start(params: DemoParams, dates: np.ndarray) -> np.ndarray:
    """Years since 1 Jan of the demo period's first year (0 .. ~1 for a one-year demo)."""
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    return _year_fraction(dates) + (years - params.period_start.year)


def _lognormal(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    return np.exp(sd * rng.standard_normal(n) - 0.5 * sd * sd)


def _kind_factor(
    params: DemoParams, d: Days, offday: float, holidays: dict[str, float]
) -> np.ndarray:
    """Workday 1, weekend `offday`, holidays from their table (default entry as fallback)."""
    f = np.where(d.workday, 1.0, offday)
    for kind in np.unique(d.holiday[d.holiday != ""]):
        f[d.holiday == kind] = params.holiday_factor(holidays, str(kind))
    return f


def _full_years(params: DemoParams, d: Days) -> dict[int, Days]:
    years = np.unique(d.date.astype("datetime64[Y]").astype(np.int64) + 1970)
    return {
        int(y): calendar_arrays(params, date(int(y), 1, 1), date(int(y), 12, 31)) for y in years
    }


def _per_year_mean(params: DemoParams, d: Days, factor) -> np.ndarray:
    """Mean of a calendar-only factor over each row's full calendar year.

    Why: dividing by it makes annual totals match demo.json whatever sub-range is generated.
    """
    out = np.empty(len(d))
    years = d.date.astype("datetime64[Y]").astype(np.int64) + 1970
    for y, full in _full_years(params, d).items():
        out[years == y] = factor(full).mean()
    return out


def energy_daily(days: pa.Table, rng_seed: int, *, params: DemoParams | None = None) -> pa.Table:
    """`energy_daily`: electricity use by sector and its renewable part, per day.

    Why: annual totals by sector from demo.json (Hangzhou 2017: 67.37 TWh, industry 58%,
    residential 16%, other 27%); summer air-conditioning and winter heating peaks (monthly
    factors plus a temperature-anomaly term), lower industry on weekends and holidays (the
    Spring Festival shutdown). The renewable share rises slowly through the year (modelled, e.g.
    ~12% -> ~16%) with a wet-season hydro bump.
    """
    p = resolve(params, days)
    ep = p.energy
    d = day_arrays(days)
    rng = np.random.default_rng([rng_seed, 0xE7E])
    normal_t = monthly_curve(p.calendar.temp_monthly_c, d.date)
    season = np.clip((normal_t - 16.0) / 8.0, -1.0, 1.0)  # + cooling season, - heating season
    share = (
        ep.renewable.start
        + (ep.renewable.end - ep.renewable.start) * _year_fraction(d.date)
        + monthly_curve(ep.renewable.monthly_add, d.date)
    )
    share = share + ep.renewable.sd * rng.standard_normal(len(d))
    share = np.clip(share, 0.0, 1.0)

    out = {}
    for sector in SECTORS:
        mf = np.asarray(ep.month_factors[sector])

        def calendar_factor(x: Days, sector: str = sector, mf: np.ndarray = mf) -> np.ndarray:
            return mf[x.month] * _kind_factor(
                p, x, ep.offday_factors[sector], ep.holiday_factors[sector]
            )

        per_day = ep.annual_gwh[sector] / 365.0
        f = calendar_factor(d) / _per_year_mean(p, d, calendar_factor)
        f *= 1 + ep.temperature_sensitivity_per_c[sector] * season * (d.temp_c - normal_t)
        elec = per_day * f * _lognormal(rng, len(d), ep.daily_sd_log)
        out[sector] = elec
    n = len(d)
    elec = np.stack([out[s] for s in SECTORS], axis=1)  # (n, sectors)
    ren = elec * share[:, None] * _lognormal(rng, n * len(SECTORS), 0.01).reshape(n, -1)
    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(d.date, len(SECTORS)), pa.date32()),
            pa.array(np.tile(np.asarray(SECTORS, dtype=object), n), pa.string()),
            pa.array(np.round(elec, 3).ravel().astype(np.float32)),
            pa.array(np.round(ren, 3).ravel().astype(np.float32)),
        ],
        schema=ENERGY_SCHEMA,
    )


def _expected_rain_weight(params: DemoParams, d: Days) -> np.ndarray:
    """Climatological mean of `rain_weight` for each date's month (gamma amounts, closed form)."""
    c = params.calendar
    p = np.asarray(c.wet_day_probability)[d.month]
    theta = np.asarray(c.mean_mm_on_wet_day)[d.month] / c.rain_gamma_shape
    return p * (1 - (1 + theta / c.rain_effect_scale_mm) ** (-c.rain_gamma_shape))


def _steps(rp: RidershipParams, d: Days) -> np.ndarray:
    f = np.full(len(d), rp.steps[0].factor)
    for s in rp.steps:
        f[d.date >= np.datetime64(s.start, "D")] = s.factor
    return f


def _ridership(params: DemoParams, rp: RidershipParams, d: Days, rng: np.random.Generator):
    w = rain_weight(d.rain_mm, params)
    return (
        rp.workday
        * _steps(rp, d)
        * np.asarray(rp.month_factors)[d.month]
        * _kind_factor(params, d, rp.offday_factor, rp.holiday_factors)
        * (1 + rp.rain_increase * w)
        * _lognormal(rng, len(d), rp.daily_sd_log)
    )


def mobility_daily(days: pa.Table, rng_seed: int, *, params: DemoParams | None = None) -> pa.Table:
    """`mobility_daily`: metro and bus riders, public-bike trips, EV charging per day.

    Why: sustainable-transport use (SDG 11.2). Metro: workday level stepped up on the line
    openings in demo.json (Hangzhou: 3 Jul and 27 Dec 2017), lower on weekends and holidays,
    a little higher in rain (2017 average ~0.93 M/day). Bus ~4.1 M/day. Public bikes ~0.30 M/day,
    strongly cut by rain, seasonal, capped by the record day (0.473 M). EV charging grows
    through the year (modelled; national public chargers +51% in 2017).
    """
    p = resolve(params, days)
    mp = p.mobility
    d = day_arrays(days)
    rng = np.random.default_rng([rng_seed, 0x30B])
    metro = _ridership(p, mp.metro, d, rng)
    bus = _ridership(p, mp.bus, d, rng)

    bp = mp.public_bike
    mf = np.asarray(bp.month_factors)

    def bike_calendar(x: Days) -> np.ndarray:
        return (
            mf[x.month]
            * _kind_factor(p, x, bp.offday_factor, bp.holiday_factors)
            * (1 - bp.rain_drop * _expected_rain_weight(p, x))
        )

    bike = bp.mean * mf[d.month] * _kind_factor(p, d, bp.offday_factor, bp.holiday_factors)
    bike = bike / _per_year_mean(p, d, bike_calendar)
    bike *= (1 - bp.rain_drop * rain_weight(d.rain_mm, p)) * _lognormal(
        rng, len(d), bp.daily_sd_log
    )
    bike = np.minimum(bike, bp.record)

    ev = mp.ev_charging
    frac = _years_since_start(p, d.date)
    sessions = ev.sessions_start * (1 + ev.growth_per_year) ** frac
    sessions *= np.where(d.workday, 1.0, ev.offday_factor) * _lognormal(
        rng, len(d), ev.daily_sd_log
    )
    normal_t = monthly_curve(p.calendar.temp_monthly_c, d.date)
    winter = np.clip((12.0 - normal_t) / 8.0, 0.0, 1.0)
    mwh = sessions * ev.kwh_per_session * (1 + ev.winter_kwh_increase * winter) / 1000.0

    return pa.Table.from_arrays(
        [
            pa.array(d.date, pa.date32()),
            pa.array(np.rint(metro).astype(np.int32)),
            pa.array(np.rint(bus).astype(np.int32)),
            pa.array(np.rint(bike).astype(np.int32)),
            pa.array(np.rint(sessions).astype(np.int32)),
            pa.array(np.round(mwh, 2).astype(np.float32)),
        ],
        schema=MOBILITY_SCHEMA,
    )


def waste_monthly(days: pa.Table, rng_seed: int, *, params: DemoParams | None = None) -> pa.Table:
    """`waste_monthly`: household waste by treatment stream for every month touched by `days`.

    Why: SDG 11.6.1 and 12.5. Demo.json sets the daily tonnage (Hangzhou 2017: ~11,000 t/day,
    growing ~5%/yr), the incinerated share stepping up when a plant opens (Jiufeng: ~45% before
    Sept 2017, ~58% after, landfill falling to ~4,200 t/day), a rising recycled share and a
    kitchen-waste share; landfill takes the rest. Whole calendar months are reported.
    """
    p = resolve(params, days)
    wp = p.waste
    d = day_arrays(days)
    rng = np.random.default_rng([rng_seed, 0x3A5])
    months = np.unique(d.date.astype("datetime64[M]"))
    first = months.astype("datetime64[D]")
    n_days = ((months + 1).astype("datetime64[D]") - first).astype(np.float64)
    mid = first + (n_days // 2).astype("timedelta64[D]")
    t = _years_since_start(p, mid)
    month_idx = (months.astype(np.int64) % 12).astype(np.intp)
    mf = np.asarray(wp.month_factors)
    per_day = (
        wp.tonnes_per_day
        * (1 + wp.growth_per_year * (t - 0.5))
        * mf[month_idx]
        / mf.mean()
        * _lognormal(rng, len(months), wp.monthly_sd_log)
    )
    inc = np.full(len(months), wp.incinerated_share[0].share)
    for s in wp.incinerated_share:
        inc[first >= np.datetime64(s.start, "D")] = s.share
    inc = inc * _lognormal(rng, len(months), wp.monthly_sd_log)
    rec = wp.recycled_share_start + (wp.recycled_share_end - wp.recycled_share_start) * np.clip(
        t, 0.0, 1.0
    )
    kit = np.full(len(months), wp.kitchen_share)
    land = 1.0 - inc - rec - kit
    shares = np.stack([inc, land, rec, kit], axis=1)
    tonnes = (per_day * n_days)[:, None] * shares
    k = len(WASTE_STREAMS)
    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(first, k), pa.date32()),
            pa.array(np.tile(np.asarray(WASTE_STREAMS, dtype=object), len(months)), pa.string()),
            pa.array(np.round(tonnes, 1).ravel()),
        ],
        schema=WASTE_SCHEMA,
    )
