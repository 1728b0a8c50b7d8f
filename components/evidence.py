"""An intervention's evaluation as the views show it: the traffic page's pilot card, the
evaluation slide and the VLR annex.

Figures stay pure: a chart's data function looks the evidence up (`pilot_evidence`,
`evidence_for`) and hangs it on the frame it returns (`attach`); the figure reads it back
(`attached`) and never queries. Every view writes an effect, its interval and the pre-trend test
with the same helpers, so a number reads the same on a card, a slide and in the annex.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from datasets.cities import CityProfile
from datasets.evidence.interventions import InterventionStore, pilot_intervention
from datasets.evidence.model import Evaluation, Intervention
from datasets.evidence.summary import caveats, summary_text
from datasets.workspace import Workspace
from i18n import fmt_number, fmt_percent, t

from .state import ViewState

log = logging.getLogger(__name__)

EVIDENCE = "citylens_evidence"  # the key of a frame's `attrs` that carries its Evidence
EVALUATE_PATH = "/evaluate"
INTERVENTION_OPTION = "intervention"  # names one: /evaluate?intervention=<id>, a slide's query


@dataclass(frozen=True)
class Evidence:
    """An intervention and its evaluation, or why a view has none to show.

    `problem` is "" when both are there, "none" when the city has no such intervention,
    "failed" when the evaluation could not be computed, "district" when the view is narrowed
    to districts the evaluation does not judge alone; the view then says so and falls back.
    """

    intervention: Intervention | None = None
    evaluation: Evaluation | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.intervention is not None and self.evaluation is not None


# -- looking it up (for a chart's data function) -------------------------------------------------


@functools.lru_cache(maxsize=8)
def _workspace(engine) -> Workspace:
    workspace = Workspace(engine.catalog.data_dir, engine.catalog, engine)
    workspace.reload_cities()
    return workspace


def workspace_of(engine) -> Workspace:
    """The workspace behind a chart's query engine (a chart is given only its engine); one per
    engine, so what the evidence modules cache on it lasts across requests. A page's view of
    the engine (`datasets_choice.chosen_engine`) stands for the engine it wraps."""
    return _workspace(getattr(engine, "engine", engine))


def _evaluated(workspace: Workspace, iv: Intervention) -> Evidence:
    # statsmodels and linearmodels take seconds to import: loaded when first needed
    from datasets.evidence.evaluate import EvaluationError, evaluate

    try:
        return Evidence(iv, evaluate(workspace, iv))
    except (EvaluationError, LookupError) as exc:  # too little data, or the city is gone
        log.info("intervention %s cannot be evaluated: %s", iv.id, exc)
        return Evidence(iv, None, "failed")
    except Exception:  # a card or slide says "failed" rather than breaking the page
        log.exception("evaluating intervention %s failed", iv.id)
        return Evidence(iv, None, "failed")


def pilot_evidence(workspace: Workspace, city: CityProfile) -> Evidence:
    """The city's adaptive-signal pilot and its evaluation."""
    try:
        iv = pilot_intervention(workspace, city)
    except Exception:  # the store or the detectors unreadable: the card falls back
        log.exception("the signal pilot of %s could not be read", city.id)
        return Evidence(problem="failed")
    if iv is None:
        return Evidence(problem="none")
    return _evaluated(workspace, iv)


def evidence_for(workspace: Workspace, city: CityProfile, intervention_id: str | None) -> Evidence:
    """The intervention `intervention_id` names (the city's signal pilot when it names none)
    and its evaluation."""
    if not intervention_id:
        return pilot_evidence(workspace, city)
    try:
        iv = InterventionStore(workspace.data_dir).get(intervention_id)
    except KeyError:
        return Evidence(problem="none")
    return _evaluated(workspace, iv)


def city_evidence(workspace: Workspace, city: CityProfile) -> list[Evidence]:
    """Every intervention recorded for the city (its signal pilot among them), evaluated, in
    the store's order (newest first)."""
    pilot_evidence(workspace, city)  # the demo's pilot is recorded on first use
    return [_evaluated(workspace, iv) for iv in InterventionStore(workspace.data_dir).list(city.id)]


def attach(frame: pd.DataFrame, evidence: Evidence) -> pd.DataFrame:
    """A copy of `frame` carrying `evidence` (a query's frame may be a cached one: never
    changed in place)."""
    out = frame.copy(deep=False)
    out.attrs = {**frame.attrs, EVIDENCE: evidence}
    return out


def attached(frame: pd.DataFrame) -> Evidence | None:
    found = frame.attrs.get(EVIDENCE)
    return found if isinstance(found, Evidence) else None


# -- in words -----------------------------------------------------------------------------------


def signed_percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A percentage (10.4 for 10.4 %) with its sign: "+10.4 %", "−3.0 %"."""
    if value is None or value != value:
        return "–"
    text = fmt_percent(value / 100, lang, digits)
    return "+" + text if value > 0 else text


def effect_text(ev: Evaluation, lang: str) -> str:
    return signed_percent(ev.estimate_pct, lang)


def ci_range(ev: Evaluation, lang: str) -> str:
    """ "+7.1 % to +13.8 %": the 95 % confidence interval of the effect in percent."""
    lo, hi = ev.ci95_pct
    return t(
        "present.evidence.range", lang, lo=signed_percent(lo, lang), hi=signed_percent(hi, lang)
    )


def ci_text(ev: Evaluation, lang: str) -> str:
    """ "95 % CI +7.1 % to +13.8 %"."""
    return t("present.evidence.ci", lang, range=ci_range(ev, lang))


def p_text(p: float | None, lang: str) -> str:
    """A p-value: two decimals, a third between 0.001 and 0.01 (two would write 0.00), and
    "< 0.001" below."""
    if p is None or p != p:
        return "–"
    if p < 0.001:
        return "< " + fmt_number(0.001, lang, 3)
    return fmt_number(p, lang, 3 if p < 0.01 else 2)


def p_relation(p: float | None, lang: str) -> str:
    """ "= 0.62", or "< 0.001" for a p-value too small to write with three decimals."""
    text = p_text(p, lang)
    return text if text.startswith("<") else "= " + text


def pre_trend_text(ev: Evaluation, lang: str) -> str:
    """ "Pre-trend test: p = 0.62", or that there was too little before the start for one."""
    if ev.pre_trend_p is None or ev.pre_trend_p != ev.pre_trend_p:
        return t("present.evidence.no_pre_trend", lang)
    return t("present.evidence.pre_trend", lang, p=p_relation(ev.pre_trend_p, lang))


def summary_of(evidence: Evidence, lang: str) -> str:
    """The plain-language summary of an evaluated intervention."""
    return summary_text(evidence.evaluation, evidence.intervention, lang)


def caveats_of(evidence: Evidence, lang: str) -> list[str]:
    return list(caveats(evidence.evaluation, evidence.intervention, lang))


def details_href(iv: Intervention, lang: str | None = None) -> str:
    """The address of the intervention's full evaluation (`/evaluate`), in its city."""
    view = ViewState(city=iv.city, lang=lang, options={INTERVENTION_OPTION: iv.id})
    return EVALUATE_PATH + view.to_query()


def plotly_text(text: str) -> str:
    """`text` as an annotation of a figure shows it: its `<`, `>` and `&` written as entities
    (plotly.js reads tags in annotation text, and an intervention's name is anybody's)."""
    return html.escape(text, quote=False)


def _width(token: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in token)


def wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns (a Chinese character takes two), broken
    between words, or between any two Chinese characters; a word longer than a line stays
    whole."""
    tokens = re.findall(
        r"\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+",
        text,
    )
    lines: list[str] = []
    line = ""
    for token in tokens:
        if token.isspace():
            line += " " if line else ""
            continue
        if line and _width(line + token) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
