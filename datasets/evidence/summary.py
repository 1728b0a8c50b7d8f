"""An evaluation in plain words, in the reader's language, and what to be careful about.

`summary_text` gives the one sentence a decision maker reads ("Peak-hour speed on the treated
detectors rose 10.4 % (95 % CI 7.1 % to 13.8 %) relative to control detectors; pre-trends
parallel (p = 0.62)."); `caveats` the reasons to hold it more loosely. The /evaluate page, the
traffic page's pilot card, the decks and the VLR annex all call these two, so the words are the
same everywhere. Numbers go through `i18n` (decimal marks and percent signs per language).

The verb follows the 95 % interval: "rose" or "fell" only when it excludes 0, else "no clear
change" with the signed figures.
"""

from __future__ import annotations

from i18n import fmt_number, fmt_percent, t

from .model import Evaluation, Intervention

ALPHA = 0.05
FEW_UNITS = 5  # per group: clustered intervals from fewer are too narrow
SENTENCE_COLUMNS = {"speed_kmh", "volume", "occupancy", "pm25", "pm10", "no2", "so2", "co", "o3"}


def _pct(value: float, lang: str) -> str:
    return fmt_percent(value / 100.0, lang, 1)


def p_text(value: float, lang: str) -> str:
    """A p-value as written in the summary: `p = 0.62`, or `p < 0.01`."""
    if value < 0.01:
        return t("evidence.summary.p_below", lang, p=fmt_number(0.01, lang, 2))
    return t("evidence.summary.p", lang, p=fmt_number(value, lang, 2))


def hour_ranges(hours: tuple[int, ...]) -> list[tuple[int, int]]:
    """Runs of consecutive hours as (first, end) with the end excluded: (7, 8, 17) → [(7, 9),
    (17, 18)]."""
    runs: list[tuple[int, int]] = []
    for h in sorted(set(hours)):
        if runs and runs[-1][1] == h:
            runs[-1] = (runs[-1][0], h + 1)
        else:
            runs.append((h, h + 1))
    return runs


def outcome_phrase(iv: Intervention, lang: str) -> str:
    """The outcome as the sentence's subject: its name, then the hours and weekdays kept."""
    column = iv.column
    name = t(f"evidence.summary.column.{column}", lang) if column in SENTENCE_COLUMNS else column
    window = [
        t("evidence.summary.hours", lang, first=f"{a:02d}:00", end=f"{b:02d}:00")
        for a, b in hour_ranges(iv.hours)
    ]
    if iv.weekdays:
        window.append(t("evidence.summary.weekdays", lang))
    if not window:
        return name
    return t("evidence.summary.windowed", lang, outcome=name, window=", ".join(window))


def direction(ev: Evaluation) -> str:
    """`up`, `down`, or `flat` when the 95 % interval spans 0."""
    lo, hi = ev.ci95
    if lo > 0:
        return "up"
    if hi < 0:
        return "down"
    return "flat"


def summary_text(ev: Evaluation, iv: Intervention, lang: str) -> str:
    """The evaluation in one sentence, in `lang` (en, fr, es, zh)."""
    way = direction(ev)
    lo, hi = ev.ci95_pct
    if way == "down":  # "fell 8 % (7 % to 9 %)": magnitudes read better than negatives
        figures = {
            "pct": _pct(-ev.estimate_pct, lang),
            "lo": _pct(-hi, lang),
            "hi": _pct(-lo, lang),
        }
    elif way == "up":
        figures = {"pct": _pct(ev.estimate_pct, lang), "lo": _pct(lo, lang), "hi": _pct(hi, lang)}
    else:
        sign = "+" if ev.estimate_pct > 0 else ""
        figures = {
            "pct": sign + _pct(ev.estimate_pct, lang),
            "lo": _pct(lo, lang),
            "hi": _pct(hi, lang),
        }
    effect = t(
        f"evidence.summary.{way}",
        lang,
        outcome=outcome_phrase(iv, lang),
        treated=t(f"evidence.summary.treated.{iv.unit}", lang),
        control=t(f"evidence.summary.control.{iv.unit}", lang),
        **figures,
    )
    if ev.pre_trend_p is None:
        return t("evidence.summary.sentence_alone", lang, effect=effect)
    key = "parallel" if ev.pre_trend_p >= ALPHA else "not_parallel"
    pre = t(f"evidence.summary.{key}", lang, p=p_text(ev.pre_trend_p, lang))
    return t("evidence.summary.sentence", lang, effect=effect, pretrend=pre)


def _placebo_time_caveat(ev: Evaluation, lang: str) -> str | None:
    frame = ev.placebo_times
    if frame is None or frame.empty:
        return None
    # several fake starts: one of four below 5 % by chance alone is common, so Bonferroni
    hits = frame[frame["p_value"] < ALPHA / len(frame)]
    if hits.empty:
        return None
    first = hits.iloc[0]
    return t(
        "evidence.caveat.placebo_time",
        lang,
        date=first["start"].date().isoformat(),
        p=p_text(float(first["p_value"]), lang),
    )


def caveats(ev: Evaluation, iv: Intervention, lang: str) -> list[str]:
    """What weakens the summary, most serious first (empty when nothing does)."""
    out = []
    if ev.synthetic_data:
        out.append(t("evidence.caveat.demo", lang))
    if ev.pre_trend_p is not None and ev.pre_trend_p < ALPHA:
        out.append(t("evidence.caveat.pre_trend", lang, p=p_text(ev.pre_trend_p, lang)))
    elif ev.pre_trend_p is None:
        out.append(t("evidence.caveat.no_pre_trend", lang))
    if min(ev.n_treated, ev.n_control) < FEW_UNITS:
        out.append(t("evidence.caveat.few_units", lang, treated=ev.n_treated, control=ev.n_control))
    claims_effect = direction(ev) != "flat"
    if claims_effect and ev.placebo_p is not None and ev.placebo_p >= ALPHA:
        out.append(t("evidence.caveat.placebo_units", lang, p=p_text(ev.placebo_p, lang)))
    fake = _placebo_time_caveat(ev, lang)
    if fake:
        out.append(fake)
    sc = ev.synthetic_control or {}
    lo, hi = ev.ci95_pct
    if "estimate_pct" in sc and not lo <= sc["estimate_pct"] <= hi:
        out.append(
            t(
                "evidence.caveat.synthetic",
                lang,
                sc=_pct(sc["estimate_pct"], lang),
                did=_pct(ev.estimate_pct, lang),
            )
        )
    return out
