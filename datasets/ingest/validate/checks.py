"""The bad values of one converted column counted on its report and, while there is room, each
of the first described as a `RowProblem` at its line and column: a value that did not convert, a
value out of the target's range, a key left empty."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import RowProblem, quoted
from .convert import Converted, bool_mask, bounds
from .plan import Plan
from .report import ColumnReport, Report

MAX_PROBLEMS = 100


def check_column(
    conv: Converted,
    plan: Plan,
    cr: ColumnReport,
    report: Report,
    problems: list[RowProblem] | None,
    lines: np.ndarray,
) -> np.ndarray:
    """Count one column's bad values; describe the first ones (when `problems` has room).
    Returns the mask of the rows this column makes bad."""
    bad = conv.bad
    row_bad = bad.copy()
    if bad.any():
        count = int(bad.sum())
        cr.errors += count
        report.error_count += count
        if problems is not None:
            label = plan.source.label
            for line, found in _first(lines, bad, conv.found):
                problems.append(
                    RowProblem(
                        line,
                        plan.position,
                        label,
                        f"expected {conv.what_for(found) if conv.what_for else conv.what} in "
                        f"{label}, found {quoted(found)}",
                        "error",
                    )
                )
    if conv.range_bad is not None:
        count = int(conv.range_bad.sum())
        cr.out_of_range += count
        report.out_of_range_count += count
        row_bad |= conv.range_bad
        if problems is not None:
            _collect_values(problems, lines, conv.range_bad, conv.converted, plan)
    if plan.not_null:
        missing = bool_mask(pc.is_null(conv.array)) & ~row_bad
        if missing.any():
            count = int(missing.sum())
            report.missing_count += count
            cr.errors += count
            row_bad |= missing
            if problems is not None:
                for line, _ in _first(lines, missing, lambda idx: [""] * len(idx)):
                    problems.append(
                        RowProblem(
                            line,
                            plan.position,
                            plan.source.label,
                            f"expected a value in {plan.source.label} "
                            f"({plan.name} identifies each row), found none",
                            "missing",
                        )
                    )
    return row_bad


def _first(lines: np.ndarray, mask: np.ndarray, found) -> list[tuple[int, str]]:
    idx = np.flatnonzero(mask)[:MAX_PROBLEMS]
    if not len(idx):
        return []
    return [(int(lines[i]), v) for i, v in zip(idx, found(idx), strict=True)]


def _collect_values(problems, lines, mask, values, plan) -> None:
    lo, hi = bounds(plan)
    idx = np.flatnonzero(mask)[:MAX_PROBLEMS]
    if not len(idx) or values is None:
        return
    found = values.take(pa.array(idx, pa.int64())).to_pylist()
    unit = f" {plan.unit}" if plan.unit else ""
    for i, value in zip(idx, found, strict=True):
        if lo is not None and hi is not None:
            want = f"between {lo:g} and {hi:g}{unit}"
        elif lo is not None:
            want = f"at least {lo:g}{unit}"
        else:
            want = f"at most {hi:g}{unit}"
        origin = "" if plan.source.label == plan.name else f" (from {plan.source.label})"
        problems.append(
            RowProblem(
                int(lines[i]),
                plan.position,
                plan.source.label,
                f"expected {plan.name} {want}, found {value:g}{origin}",
                "range",
            )
        )
