"""The evaluation slide: one intervention's effect as a large number with its 95 % interval,
the plain-language summary, and the event study (the effect week by week, before and after the
start, drawn by the evaluation room's `figures.evidence.event_study_figure`) that shows whether
treated and control units moved together before.

A deck names the intervention in the slide's query (`?intervention=<id>`); without one, the
slide shows the city's adaptive-signal pilot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i18n import t

from ..charts import ChartContext, FigureContext, finish
from ..evidence import (
    INTERVENTION_OPTION,
    Evidence,
    attach,
    attached,
    ci_text,
    effect_text,
    evidence_for,
    p_relation,
    plotly_text,
    pre_trend_text,
    summary_of,
    workspace_of,
    wrapped,
)
from ..figures.evidence import event_study_figure
from ..figures.plot import Figure, add_annotation, figure, update_layout
from ..theme import PALETTE
from .render import KEY_FIGURE_FONT

EFFECT_FONT = 2 * KEY_FIGURE_FONT  # px: the effect, the first thing read on the slide
TEXT_WIDTH = 44  # Latin characters a line of the text block beside the chart
TEXT_SHARE = 0.42  # of the slide's width: the text block; the event study takes the rest
EVENT_COLUMNS = ("week", "coef", "lo", "hi")


def evaluation_data(ctx: ChartContext) -> pd.DataFrame:
    """The event study of the intervention the slide names, carrying its evidence; one empty
    row (and the reason) when there is nothing to show, so the slide says why."""
    wanted = (ctx.page_options or {}).get(INTERVENTION_OPTION) or None
    evidence = evidence_for(workspace_of(ctx.engine), ctx.city, wanted)
    study = evidence.evaluation.event_study if evidence.ok else None
    if study is None or study.empty:
        study = pd.DataFrame({column: [np.nan] for column in EVENT_COLUMNS})
    return attach(study.loc[:, list(EVENT_COLUMNS)], evidence)


def _text_block(evidence: Evidence, lang: str) -> str:
    """Under the effect: the intervention's name, the interval, the p-values, the summary."""
    ev, iv = evidence.evaluation, evidence.intervention
    p_line = t("present.evaluation.p", lang, p=p_relation(ev.p_value, lang))
    lines = [
        f"<b>{plotly_text(iv.name)}</b>",
        ci_text(ev, lang),
        f"{p_line} · {pre_trend_text(ev, lang)}",
        "",
        *(plotly_text(line) for line in wrapped(summary_of(evidence, lang), TEXT_WIDTH)),
    ]
    return "<br>".join(lines)


def evaluation_figure(frame: pd.DataFrame, ctx: FigureContext) -> Figure:
    """The text block on the left, the event study on the right; the reason in the middle of
    the slide when the frame carries no evaluation."""
    lang, palette = ctx.lang, PALETTE[ctx.theme]
    evidence = attached(frame)
    if evidence is None or not evidence.ok:
        problem = evidence.problem if evidence is not None and evidence.problem else "none"
        fig = figure([], xaxis={"visible": False}, yaxis={"visible": False})
        add_annotation(
            fig,
            "<br>".join(wrapped(t(f"present.evaluation.{problem}", lang), 60)),
            x=0.5,
            y=0.5,
            font={"size": 18, "color": palette["text"]},
        )
        return finish(fig, ctx)
    ev = evidence.evaluation
    fig = event_study_figure(ev, ctx, height=None)  # the evaluation room's own drawing
    update_layout(
        fig,
        showlegend=False,
        xaxis={"domain": [TEXT_SHARE + 0.08, 1], "dtick": 4},
        margin={"l": 8, "t": 16},
    )
    add_annotation(
        fig,
        f"<b>{effect_text(ev, lang)}</b>",
        x=0,
        y=1,
        xanchor="left",
        yanchor="top",
        font={"size": EFFECT_FONT, "color": palette["text"]},
        name="evaluation-effect",
    )
    add_annotation(
        fig,
        _text_block(evidence, lang),
        x=0,
        y=1,
        yshift=-round(EFFECT_FONT * 1.4),  # under the effect's line, whatever the slide's size
        xanchor="left",
        yanchor="top",
        align="left",
        font={"size": 16, "color": palette["text"]},
        name="evaluation-text",
    )
    return finish(fig, ctx)
