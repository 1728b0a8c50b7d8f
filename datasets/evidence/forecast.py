"""Hourly forecasts with 80 % and 95 % intervals, the model chosen per series by backtest.

The models (statsmodels; each fits in tens of milliseconds, so every station of a city is
forecast, backtest included, within seconds):

* `snaive`: seasonal naive, tomorrow's hour as today's (season 24 h). Its intervals are those
  of a seasonal random walk: the spread of the series' 24-h differences, widening with the
  square root of the number of days ahead. It is the baseline every skill is measured against.
* `arx`: an autoregression (`statsmodels.tsa.ar_model.AutoReg`) on the last hours and the same
  hours a day before (lags 1-3, 24, 25) with one level per hour of day.
* `arx_week`: the same with the same hours a week before (lags 1-3, 24, 167-169), for series
  whose weekdays differ from weekends (traffic). One level per hour of the week would fit 168
  parameters, ten times slower for no better backtest on the demo's traffic.

ETS / Holt-Winters with a 24-h season was tried and left out: its likelihood fit takes 0.5-2 s
per series (too slow to backtest every station on each new version), and on the real Beijing
PM2.5 it was no better than seasonal naive beyond 12 h.

Pollutants and the AQI are modelled as log(1 + x) (they are positive and rise in episodes):
the model's normal intervals are taken back through exp, so they stay positive and skewed, and
the forecast shown is the median. The autoregressions' intervals are the model's own forecast
variance (`get_prediction`), not backtest residuals.

The model is chosen per series by a rolling-origin backtest: from several origins over the last
weeks each model forecasts the hours that followed, from the data before the origin only. The
skill is the MASE at each horizon (1 h to the forecast's horizon): absolute errors scaled by
the in-sample mean absolute 24-h difference before that origin, averaged over origins, for the
chosen model and for the seasonal naive forecast (`mase_naive`); the model with the lowest mean
MASE over the horizons wins, seasonal naive included.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datasets.cache import LRU
from datasets.query import QueryEngine

from .forecast_series import (
    ForecastError,
    SeriesQuery,
    cut_end,
    data_span,
    hourly,
    resolve,
)
from .model import Forecast

__all__ = [
    "MODELS",
    "ForecastError",
    "Settings",
    "backtest",
    "forecast",
    "forecast_for_city",
    "forecast_values",
    "predict",
]

SEASON = 24
Z80, Z95 = 1.2815515655446004, 1.959963984540054
HISTORY_DAYS = 7  # the recent past drawn beside a forecast
MAX_HORIZON_H = 24 * 14


@dataclass(frozen=True)
class Settings:
    """How much work a forecast may do: `weeks` of history read before the cut, at most
    `max_series` series (the first by id), `origins` backtest origins `origin_step_h` hours
    apart (not a multiple of 24, so the origins fall at different hours of the day)."""

    weeks: int = 8
    max_series: int = 60
    origins: int = 6
    origin_step_h: int = 55
    models: tuple[str, ...] = ("snaive", "arx", "arx_week")
    min_days: int = 14  # a series with fewer days of data is not forecast


DEFAULT = Settings()
_CACHE = LRU(64)


# -- models ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paths:
    """One forecast: the mean (median on a log scale) and the bounds, one value per hour."""

    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray


PATH_NAMES = ("mean", "lo80", "hi80", "lo95", "hi95")


def _snaive(y: np.ndarray, horizon: int, log_scale: bool, intervals: bool) -> Paths:
    days = np.ceil(np.arange(1, horizon + 1) / SEASON)
    mean = np.tile(y[-SEASON:], math.ceil(horizon / SEASON))[:horizon]
    if not intervals:
        return Paths(mean, mean, mean, mean, mean)
    sigma = float(np.nanstd(y[SEASON:] - y[:-SEASON]))
    spread = sigma * np.sqrt(days)
    return Paths(
        mean, mean - Z80 * spread, mean + Z80 * spread, mean - Z95 * spread, mean + Z95 * spread
    )


def arx_mean(x: np.ndarray, lags: tuple[int, ...], period: int, horizon: int) -> np.ndarray:
    """The point forecast of statsmodels' `AutoReg(x, lags, seasonal=True, period, trend="c")`,
    computed directly: the same least-squares regression (a constant, an indicator of each hour
    of the period but one, the lagged values; any hour dropped spans the same columns, so the
    fit is the same) iterated forward. A backtest fits a model a dozen times a series, and
    statsmodels' setup of each fit costs ten times the regression; the tests check both agree.
    """
    first, n = max(lags), len(x)
    rows = np.arange(first, n)
    hours = (rows[:, None] % period) == np.arange(1, period)[None, :]
    lagged = np.stack([x[rows - lag] for lag in lags], axis=1)
    design = np.hstack([np.ones((len(rows), 1)), hours, lagged])
    beta = np.linalg.lstsq(design, x[first:], rcond=None)[0]
    level = beta[0] + np.concatenate([[0.0], beta[1:period]])  # per hour of the period
    weights, back = beta[period:], np.asarray(lags)
    ahead = np.concatenate([x, np.empty(horizon)])
    for t in range(n, n + horizon):
        ahead[t] = level[t % period] + weights @ ahead[t - back]
    return ahead[n:]


def _arx(lags: tuple[int, ...], period: int) -> Callable[..., Paths]:
    def model(y: np.ndarray, horizon: int, log_scale: bool, intervals: bool) -> Paths:
        from statsmodels.tsa.ar_model import AutoReg

        x = np.log1p(np.clip(y, 0, None)) if log_scale else y
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start, end = len(x), len(x) + horizon - 1
            if not intervals:
                paths = [arx_mean(x, lags, period, horizon)] * 5
            else:
                fitted = AutoReg(x, lags=list(lags), seasonal=True, period=period, trend="c")
                prediction = fitted.fit().get_prediction(start=start, end=end)
                mean = np.asarray(prediction.predicted_mean)
                ci80 = np.asarray(prediction.conf_int(alpha=0.2))
                ci95 = np.asarray(prediction.conf_int(alpha=0.05))
                paths = [mean, ci80[:, 0], ci80[:, 1], ci95[:, 0], ci95[:, 1]]
        if log_scale:
            paths = [np.expm1(p) for p in paths]
        return Paths(*paths)

    model.min_hours = max(lags) + period + 24 * 7  # type: ignore[attr-defined]
    return model


MODELS: dict[str, Callable[..., Paths]] = {
    "snaive": _snaive,
    "arx": _arx((1, 2, 3, 24, 25), 24),
    "arx_week": _arx((1, 2, 3, 24, 167, 168, 169), 24),
}


def _usable(name: str, hours: int) -> bool:
    return hours >= getattr(MODELS[name], "min_hours", 2 * SEASON)


def predict(
    name: str, y: np.ndarray, horizon: int, log_scale: bool = False, intervals: bool = True
) -> Paths:
    """`horizon` hours after the gap-free hourly values `y`, by the model `name`; bounds are
    clipped at zero for log-scale (positive) series."""
    paths = MODELS[name](np.asarray(y, dtype=float), horizon, log_scale, intervals)
    if log_scale:
        paths = Paths(*(np.clip(p, 0, None) for p in vars(paths).values()))
    return paths


# -- backtest --------------------------------------------------------------------------------


def _scale(train: np.ndarray) -> float:
    """MASE's denominator: the mean absolute 24-h difference of the training values."""
    diffs = np.abs(train[SEASON:] - train[:-SEASON])
    scale = float(np.nanmean(diffs)) if np.isfinite(diffs).any() else math.nan
    return scale if scale > 0 else math.nan


def backtest(
    y: np.ndarray,
    actual: np.ndarray,
    horizon: int,
    models: tuple[str, ...],
    log_scale: bool,
    settings: Settings = DEFAULT,
) -> dict[str, np.ndarray]:
    """Per model, the MASE at each horizon (1..`horizon` h) over rolling origins.

    `y` is the gap-filled series the models read; `actual` the same hours as observed (NaN where
    missing), which the errors are measured on. Origins are the last `settings.origins` hours
    leaving `horizon` hours after them, `origin_step_h` apart; a model needing more history than
    an origin leaves is skipped there. A model with no origin at all is left out."""
    n = len(y)
    origins = [n - horizon - k * settings.origin_step_h for k in range(settings.origins)]
    scaled: dict[str, list[np.ndarray]] = {m: [] for m in models}
    for origin in origins:
        if origin < 2 * SEASON:
            continue
        scale = _scale(actual[:origin])
        truth = actual[origin : origin + horizon]
        if not np.isfinite(scale) or not np.isfinite(truth).any():
            continue
        for name in models:
            if _usable(name, origin):
                mean = predict(name, y[:origin], horizon, log_scale, intervals=False).mean
                scaled[name].append(np.abs(truth - mean) / scale)
    out = {}
    for name, rows in scaled.items():
        if rows:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[name] = np.nanmean(np.vstack(rows), axis=0)
    return out


# -- one series -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesResult:
    model: str
    paths: Paths
    mase: np.ndarray  # per horizon, the chosen model's
    mase_naive: np.ndarray


def _filled(values: pd.Series) -> pd.Series:
    """Gaps filled for the models: linear across up to 6 hours, else the value a day before."""
    out = values.interpolate(limit=6, limit_area="inside")
    for _ in range(7):
        if not out.isna().any():
            break
        out = out.fillna(out.shift(SEASON))
    return out.ffill().bfill()


def forecast_values(
    values: pd.Series, horizon: int, log_scale: bool = False, settings: Settings = DEFAULT
) -> SeriesResult | None:
    """Forecast one hourly series (a Series on a gap-free hourly index, NaN where missing);
    None when it holds fewer than `settings.min_days` days of values."""
    if values.notna().sum() < settings.min_days * SEASON:
        return None
    actual = values.to_numpy(dtype=float)
    y = _filled(values).to_numpy(dtype=float)
    models = tuple(m for m in settings.models if _usable(m, len(y)))
    if "snaive" not in models:
        models = ("snaive", *models)
    skill = backtest(y, actual, horizon, models, log_scale, settings)
    if "snaive" not in skill:
        best = "snaive"
        naive = np.full(horizon, np.nan)
        skill = {"snaive": naive}
    else:
        naive = skill["snaive"]
        best = min(skill, key=lambda m: (float(np.nanmean(skill[m])), m != "snaive"))
    return SeriesResult(best, predict(best, y, horizon, log_scale), skill[best], naive)


# -- a dataset --------------------------------------------------------------------------------


def _check_horizon(horizon_h: int) -> int:
    horizon = int(horizon_h)
    if not 1 <= horizon <= MAX_HORIZON_H:
        raise ForecastError(f"the horizon must be 1 to {MAX_HORIZON_H} hours, not {horizon_h}")
    return horizon


def _window(query: SeriesQuery, until: pd.Timestamp | None, settings: Settings):
    """(start, end) of the hours read: `settings.weeks` weeks before the cut."""
    first, last = data_span(query)
    if until is not None:
        until = pd.Timestamp(until)
        if until.tzinfo is not None:
            until = until.tz_localize(None)
        if until > last or until < first + pd.Timedelta(days=settings.min_days):
            raise ForecastError(
                f"--until {until} is outside the data: {query.dataset.id} runs from {first} "
                f"to {last}, and a forecast needs {settings.min_days} days before the cut"
            )
    end = cut_end(query, until if until is not None else last)
    return end - pd.Timedelta(weeks=settings.weeks), end


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Small least-squares fits run many times over: BLAS threads only compete for the cores
    (twenty times slower on a busy 2-core machine than one thread)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without it the fits are slower, not wrong
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _compute(query: SeriesQuery, engine: QueryEngine, horizon: int, until, settings,
             series: tuple[str, ...] | None) -> Forecast:  # fmt: skip
    start, end = _window(query, until, settings)
    rows = hourly(engine, query, start, end, settings.max_series, series)
    with _one_blas_thread():
        return _forecast_rows(query, rows, start, end, horizon, until, settings)


def _forecast_rows(query, rows, start, end, horizon, until, settings) -> Forecast:
    grid = pd.date_range(start, end - pd.Timedelta(hours=1), freq="h", unit="us")
    future = pd.date_range(end, periods=horizon, freq="h", unit="us")
    frames, skills, recent = [], [], []
    for series, part in rows.groupby("series", sort=True):
        values = part.set_index("ts")["value"].reindex(grid)
        result = forecast_values(values, horizon, query.log_scale, settings)
        if result is None:
            continue
        # every column forecast (concentrations, indices, flows, speeds) is never negative
        bounds = {name: np.clip(getattr(result.paths, name), 0, None) for name in PATH_NAMES}
        frames.append(pd.DataFrame({"series": series, "ts": future, **bounds}))
        skills.append(
            pd.DataFrame(
                {
                    "series": series,
                    "model": result.model,
                    "horizon_h": np.arange(1, horizon + 1),
                    "mase": result.mase,
                    "mase_naive": result.mase_naive,
                }
            )
        )
        tail = values.iloc[-HISTORY_DAYS * SEASON :].dropna()
        recent.append(pd.DataFrame({"series": series, "ts": tail.index, "value": tail.to_numpy()}))
    return Forecast(
        dataset_id=query.dataset.id,
        column=query.column,
        by=query.by,
        horizon_h=horizon,
        until=None if until is None else pd.Timestamp(until),
        frame=_concat(frames, ["series", "ts", "mean", "lo80", "hi80", "lo95", "hi95"]),
        history=_concat(recent, ["series", "ts", "value"]),
        skill=_concat(skills, ["series", "model", "horizon_h", "mase", "mase_naive"]),
    )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: [] for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]


def forecast(
    engine: QueryEngine,
    dataset_id: str,
    column: str,
    by: str | None = None,
    horizon_h: int = 72,
    until: pd.Timestamp | None = None,
    *,
    series: tuple[str, ...] | None = None,
    settings: Settings = DEFAULT,
) -> Forecast:
    """Hourly forecasts of `column` for each station, district or detector (`by`; default the
    kind's first: station for air quality, district for traffic) for `horizon_h` hours after
    the data, or after `until` when given (then nothing later is read); only for the ids in
    `series` when given (a page asks for the series it draws: each costs a backtest).

    Results are kept per dataset version and arguments (`datasets.cache.LRU`): a page calling it
    on every view gets the same object back until a new version is published. Raises
    ForecastError for an unknown dataset or column, a bad horizon or an `until` outside the data.
    """
    horizon = _check_horizon(horizon_h)
    query = resolve(engine, dataset_id, column, by)
    version = query.dataset.current
    cut = None if until is None else pd.Timestamp(until).isoformat()
    key = (
        str(query.dataset.data_dir), dataset_id, version.version, version.created_at,
        column, query.by, horizon, cut, series, settings,
    )  # fmt: skip
    kept = _CACHE.get(key)
    if kept is None:
        kept = _compute(query, engine, horizon, until, settings, series)
        _CACHE.put(key, kept)
    return kept  # type: ignore[return-value]


def forecast_for_city(
    engine: QueryEngine,
    city_id: str,
    kind: str,
    column: str,
    by: str | None = None,
    horizon_h: int = 72,
    until: pd.Timestamp | None = None,
    *,
    series: tuple[str, ...] | None = None,
    settings: Settings = DEFAULT,
) -> Forecast:
    """`forecast` of the dataset a city's pages show for `kind` (its most recently updated one);
    `datasets.query.MissingDataset` when the city has none."""
    dataset = engine.dataset(city_id, kind)
    return forecast(
        engine, dataset.id, column, by, horizon_h, until, series=series, settings=settings
    )


def clear_cache() -> None:
    _CACHE.clear()
