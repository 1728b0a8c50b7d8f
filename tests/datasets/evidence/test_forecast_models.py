"""The forecasting models on synthetic series: intervals, skill, the backtest's choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from datasets.evidence import forecast as fc
from datasets.evidence.forecast import MODELS, forecast_values, predict

HOURS = 8 * 7 * 24


def daily_cycle(n: int, seed: int = 7, amplitude: float = 30.0) -> np.ndarray:
    """A strong daily cycle plus autocorrelated noise (AR(1), phi 0.8)."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.8 * noise[t - 1] + rng.normal(0, 4)
    hours = np.arange(n)
    return 100 + amplitude * np.sin(2 * np.pi * hours / 24) + noise


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("log_scale", [False, True])
def test_intervals_nest_and_widen_with_horizon(name, log_scale):
    paths = predict(name, daily_cycle(HOURS), 72, log_scale=log_scale)
    assert np.all(paths.lo95 <= paths.lo80)
    assert np.all(paths.lo80 <= paths.mean)
    assert np.all(paths.mean <= paths.hi80)
    assert np.all(paths.hi80 <= paths.hi95)
    assert np.all(paths.lo80 < paths.hi80)
    width = paths.hi95 - paths.lo95
    assert width[-1] > width[0]
    if not log_scale:  # on a log scale the width also follows the level of the day
        assert np.all(np.diff(width) >= -1e-9)


def test_a_strong_daily_cycle_is_forecast_better_than_seasonal_naive():
    y = daily_cycle(HOURS + 72, seed=11)
    index = pd.date_range("2017-03-01", periods=HOURS, freq="h")
    result = forecast_values(pd.Series(y[:HOURS], index=index), 72)
    assert result is not None
    assert result.model != "snaive"
    assert result.mase.mean() < 0.85 * result.mase_naive.mean()
    truth = y[HOURS:]
    naive = predict("snaive", y[:HOURS], 72).mean
    assert np.abs(result.paths.mean - truth).mean() < np.abs(naive - truth).mean()


def test_the_80_percent_interval_covers_about_80_percent():
    rng_seeds = range(30)
    inside = []
    for seed in rng_seeds:
        y = daily_cycle(HOURS + 24, seed=seed)
        paths = predict("arx", y[:HOURS], 24)
        inside.append((y[HOURS:] >= paths.lo80) & (y[HOURS:] <= paths.hi80))
    share = np.mean(inside)
    assert 0.65 <= share <= 0.92


def test_a_series_too_short_or_too_sparse_is_not_forecast():
    index = pd.date_range("2017-03-01", periods=HOURS, freq="h")
    values = pd.Series(daily_cycle(HOURS), index=index)
    assert forecast_values(values.iloc[-10 * 24 :], 24) is None
    sparse = values.where(np.arange(HOURS) % 5 == 0)
    assert forecast_values(sparse, 24) is None
    gappy = values.where(np.arange(HOURS) % 10 != 0)  # 10 % missing: filled, then forecast
    assert forecast_values(gappy, 24) is not None


def test_log_scale_forecasts_stay_positive():
    y = np.clip(daily_cycle(HOURS, amplitude=95), 0, None)
    paths = predict("arx", y, 72, log_scale=True)
    assert (paths.lo95 >= 0).all()
    assert (paths.mean > 0).all()


@pytest.mark.parametrize("lags", [(1, 2, 3, 24, 25), (1, 2, 3, 24, 167, 168, 169)])
@pytest.mark.parametrize("hours", [24 * 56, 24 * 56 - 7])
def test_the_backtests_point_forecast_is_statsmodels_autoreg(lags, hours):
    from statsmodels.tsa.ar_model import AutoReg

    rng = np.random.default_rng(hours + len(lags))
    x = np.log1p(daily_cycle(hours, amplitude=30) + rng.normal(0, 3, hours).cumsum() * 0.05)
    reference = AutoReg(x, lags=list(lags), seasonal=True, period=24, trend="c").fit()
    expected = reference.predict(start=hours, end=hours + 71)
    np.testing.assert_allclose(fc.arx_mean(x, lags, 24, 72), expected, rtol=0, atol=1e-9)
