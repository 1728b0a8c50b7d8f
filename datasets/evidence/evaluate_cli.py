"""Evaluating an intervention on the command line (wired into `python -m datasets`):

    python -m datasets evaluate --intervention ID [--json FILE] [--lang en|fr|es|zh] [--data-dir D]

Prints the plain-language summary, the figures behind it and the caveats; `--json` writes
`Evaluation.as_json()` (`-` for standard output). An unknown id, or an intervention its data
cannot support (no data in its window, too little before or after the start), exits with 2
and one line saying why.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from i18n import LANGUAGES, fmt_number, fmt_percent, t

from .model import Evaluation, Intervention


def _data_dir(args: argparse.Namespace) -> Path:
    import config

    return Path(args.data_dir or config.from_env().data_dir)


def _clean(value: object) -> object:
    """JSON has no NaN: a missing figure is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def evaluation_json(ev: Evaluation) -> str:
    return json.dumps(_clean(ev.as_json()), ensure_ascii=False, indent=2, default=str)


def _p(value: float | None, lang: str) -> str:
    if value is None:
        return t("evidence.cli.not_tested", lang)
    from .summary import p_text

    return p_text(value, lang)


def figures(ev: Evaluation, lang: str) -> list[str]:
    """The lines under the summary: DiD, units, pre-trend, placebos, synthetic control."""

    def num(v: float) -> str:
        return fmt_number(v, lang, 2)

    def pct(v: float) -> str:
        return fmt_percent(v / 100.0, lang, 1)

    unit = ev.unit_label
    lines = [
        t(
            "evidence.cli.did",
            lang,
            estimate=num(ev.estimate),
            unit=unit,
            pct=pct(ev.estimate_pct),
            lo=num(ev.ci95[0]),
            hi=num(ev.ci95[1]),
            lo_pct=pct(ev.ci95_pct[0]),
            hi_pct=pct(ev.ci95_pct[1]),
            p=_p(ev.p_value, lang),
        ),
        t(
            "evidence.cli.units",
            lang,
            treated=ev.n_treated,
            control=ev.n_control,
            n=fmt_number(ev.n_observations, lang),
            baseline=num(ev.baseline),
            unit=unit,
        ),
        t("evidence.cli.pre_trend", lang, p=_p(ev.pre_trend_p, lang)),
        t("evidence.cli.placebo", lang, p=_p(ev.placebo_p, lang)),
    ]
    if not ev.placebo_times.empty:
        items = "; ".join(
            f"{row.start.date().isoformat()} {num(row.estimate)} ({_p(row.p_value, lang)})"
            for row in ev.placebo_times.itertuples()
        )
        lines.append(t("evidence.cli.placebo_times", lang, items=items))
    sc = ev.synthetic_control
    if sc:
        lines.append(
            t(
                "evidence.cli.synthetic",
                lang,
                estimate=num(sc["estimate"]),
                unit=unit,
                pct=pct(sc["estimate_pct"]),
                rmspe=num(sc["pre_rmspe"]),
            )
        )
    else:
        lines.append(t("evidence.cli.no_synthetic", lang))
    return lines


def _load(data_dir: Path, intervention_id: str, lang: str) -> tuple[object, Intervention] | str:
    """(workspace, intervention), or the message to exit with."""
    from .interventions import CATALOG_FILE, InterventionStore

    if not (data_dir / CATALOG_FILE).exists():
        return t("evidence.cli.unknown", lang, id=intervention_id)
    try:
        iv = InterventionStore(data_dir).get(intervention_id)
    except KeyError:
        return t("evidence.cli.unknown", lang, id=intervention_id)
    from datasets.workspace import Workspace

    return Workspace.open(data_dir), iv


def cmd_evaluate(args: argparse.Namespace) -> int:
    from datasets.query import MissingDataset

    from .evaluate import EvaluationError, evaluate
    from .panel import check_intervention
    from .summary import caveats, summary_text

    lang = args.lang
    loaded = _load(_data_dir(args), args.intervention, lang)
    if isinstance(loaded, str):
        print(loaded, file=sys.stderr)
        return 2
    workspace, iv = loaded
    try:
        problems = check_intervention(workspace.engine, workspace.city(iv.city), iv)
        if problems:
            reason = "; ".join(p.text(lang) for p in problems)
            raise EvaluationError(reason)
        ev = evaluate(workspace, iv)
    except (EvaluationError, MissingDataset, LookupError) as exc:
        reason = str(exc.args[0]) if exc.args else str(exc)
        print(t("evidence.cli.no_data", lang, id=iv.id, reason=reason), file=sys.stderr)
        return 2
    print(summary_text(ev, iv, lang))
    for line in figures(ev, lang):
        print("  " + line)
    notes = caveats(ev, iv, lang)
    if notes:
        print(t("evidence.cli.caveats", lang))
        for note in notes:
            print("  - " + note)
    if args.json:
        text = evaluation_json(ev)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
            print(t("evidence.cli.written", lang, path=args.json), file=sys.stderr)
    return 0


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register `evaluate`; `add(name, help)` makes a subparser with --data-dir."""
    p = add("evaluate", "judge a recorded intervention: effect with 95 %% interval, checks")
    p.add_argument("--intervention", required=True, help="its id (see list-interventions)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON ('-': stdout)")
    p.add_argument("--lang", choices=LANGUAGES, default="en", help="language (default en)")
    p.set_defaults(run=cmd_evaluate)
