"""An intervention judged on its data: every statistic of the evaluation in one call.

`evaluate(workspace, iv)` reads the outcome panel (`panel.outcome_panel`, inside DuckDB) and
hands it to `evaluate_panel`, which runs the DiD, the event study and its pre-trend test, both
placebos and the synthetic control. Results are kept in a small LRU keyed by the data's stamp
(every dataset's id, version and creation time of the city) and the intervention itself, so a
page, the pilot card and a deck asking for the same one share it, and a new version of the data
(or an edited intervention) is a new key.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pandas as pd

from datasets.cache import LRU
from datasets.schemas import KINDS

from .did import EvaluationError, did_estimate
from .event_study import event_study
from .model import Evaluation, Intervention
from .placebo import placebo_times, placebo_units
from .synthetic import synthetic_control

if TYPE_CHECKING:
    from datasets.query import QueryEngine
    from datasets.workspace import Workspace

CACHE_SIZE = 64
_cache = LRU(CACHE_SIZE)

__all__ = ["EvaluationError", "evaluate", "evaluate_panel", "unit_label"]


def evaluate_panel(
    panel: pd.DataFrame,
    iv: Intervention,
    unit_label: str = "",
    data_stamp: str = "",
    synthetic_data: bool = False,
    draws: int = 500,
) -> Evaluation:
    """The evaluation of `iv` on `panel` (`unit`, `day`, `value`, `n`, `treated`; one row per
    unit and day). Raises EvaluationError when the panel cannot support an estimate."""
    if panel.empty:
        raise EvaluationError("no data in the intervention's window")
    did = did_estimate(panel, iv.start, iv.end)
    events, pre_trend = event_study(panel, iv.start, iv.end)
    return Evaluation(
        intervention_id=iv.id,
        outcome=iv.outcome,
        unit_label=unit_label,
        estimate=did["estimate"],
        estimate_pct=did["estimate_pct"],
        ci95=tuple(float(v) for v in did["ci95"]),
        ci95_pct=tuple(float(v) for v in did["ci95_pct"]),
        p_value=did["p_value"],
        pre_trend_p=pre_trend,
        placebo_p=placebo_units(panel, iv.start, iv.end, draws=draws),
        n_treated=did["n_treated"],
        n_control=did["n_control"],
        n_observations=did["n_observations"],
        baseline=did["baseline"],
        event_study=events,
        placebo_times=placebo_times(panel, iv.start),
        synthetic_control=synthetic_control(panel, iv.start, iv.end, baseline=did["baseline"]),
        data_stamp=data_stamp,
        synthetic_data=synthetic_data,
    )


def unit_label(engine: QueryEngine, iv: Intervention) -> str:
    """The outcome column's unit as the catalog lists it (else as its kind defines it)."""
    found = engine.find(iv.city, iv.kind)
    if found is not None:
        for column in found.current.columns:
            if column.get("name") == iv.column and column.get("unit"):
                return str(column["unit"])
    kind = KINDS.get(iv.kind)
    if kind is not None and any(c.name == iv.column for c in kind.columns):
        return kind.column(iv.column).unit
    return ""


def evaluate(workspace: Workspace, iv: Intervention) -> Evaluation:
    """`evaluate_panel` on `iv`'s outcome panel, kept while the city's data is unchanged.

    Raises LookupError for an unknown city, EvaluationError when the window holds no data or
    too little on a side of the start."""
    engine = workspace.engine
    token = engine.data_token(iv.city)
    key = (str(workspace.data_dir), token, iv)
    kept = _cache.get(key)
    if kept is not None:
        return kept
    from .panel import outcome_panel

    city = workspace.city(iv.city)
    panel = outcome_panel(engine, city, iv)
    found = engine.find(iv.city, iv.kind)
    result = evaluate_panel(
        panel,
        iv,
        unit_label=unit_label(engine, iv),
        data_stamp=hashlib.sha256(token.encode()).hexdigest()[:16],
        synthetic_data=bool(found is not None and found.meta.synthetic),
    )
    _cache.put(key, result)
    return result


def clear_cache() -> None:
    _cache.clear()
