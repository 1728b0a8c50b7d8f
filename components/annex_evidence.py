"""The VLR annex's section on evaluated interventions: for each intervention recorded for the
city, its effect in percent with the 95 % confidence interval and p-values in a table, then its
plain-language summary and caveats, the way the pilot card and the evaluation slide state them
(`components.evidence`). An intervention whose evaluation failed is listed as such, so the
annex never drops one silently."""

from __future__ import annotations

import html
from collections.abc import Sequence

from i18n import fmt_date, t

from .evidence import (
    Evidence,
    caveats_of,
    ci_range,
    effect_text,
    p_text,
    summary_of,
)

COLUMNS = (
    "annex.evidence.col.intervention",
    "annex.evidence.col.start",
    "annex.evidence.col.outcome",
    "annex.evidence.col.effect",
    "annex.evidence.col.ci",
    "annex.evidence.col.p",
    "annex.evidence.col.pre_trend",
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _row(item: Evidence, lang: str) -> str:
    iv, ev = item.intervention, item.evaluation
    cells = [_e(iv.name), _e(fmt_date(iv.start, lang)), f"<code>{_e(iv.outcome)}</code>"]
    if ev is None:
        failed = _e(t("annex.evidence.failed", lang))
        return "<tr><td>" + "</td><td>".join(cells) + f'</td><td colspan="4">{failed}</td></tr>'
    numbers = [
        effect_text(ev, lang),
        ci_range(ev, lang),
        p_text(ev.p_value, lang),
        p_text(ev.pre_trend_p, lang),
    ]
    tail = "".join(f'<td class="num">{_e(n)}</td>' for n in numbers)
    return "<tr><td>" + "</td><td>".join(cells) + "</td>" + tail + "</tr>"


def _account(item: Evidence, lang: str) -> str:
    """One intervention's summary and caveats."""
    iv = item.intervention
    out = [f'<figure id="iv-{_e(iv.id)}"><figcaption>{_e(iv.name)}</figcaption>']
    if item.evaluation is None:
        out.append(f"<p>{_e(t('annex.evidence.failed', lang))}</p></figure>")
        return "".join(out)
    out.append(f"<p>{_e(summary_of(item, lang))}</p>")
    caveats = caveats_of(item, lang)
    if caveats:
        out.append(f"<p class='muted'>{_e(t('annex.evidence.caveats', lang))}</p><ul>")
        out.extend(f"<li>{_e(c)}</li>" for c in caveats)
        out.append("</ul>")
    out.append("</figure>")
    return "".join(out)


def interventions_section(
    items: Sequence[Evidence], number: int, table: int, lang: str
) -> list[str]:
    """The section (numbered `number`, its table `table`) as lines of HTML."""
    items = [item for item in items if item.intervention is not None]
    out = [
        f"<h2>{number}. {_e(t('annex.section.interventions', lang))}</h2>",
        f"<p>{_e(t('annex.evidence.method', lang))}</p>",
    ]
    if not items:
        return [*out, f"<p>{_e(t('annex.evidence.none', lang))}</p>"]
    out.append(
        f"<table><caption>{_e(t('annex.table', lang, n=table))}</caption><thead><tr>"
        + "".join(f"<th>{_e(t(k, lang))}</th>" for k in COLUMNS)
        + "</tr></thead><tbody>"
    )
    out.extend(_row(item, lang) for item in items)
    out.append("</tbody></table>")
    out.extend(_account(item, lang) for item in items)
    return out
