"""The Voluntary Local Review annex: the statistical annex of a city's SDG review, from the data.

`build_html(evaluation, lang)` writes one self-contained HTML document (styles inline, trend
lines as inline SVG, no script, nothing fetched) in one of the four languages: a summary table,
every indicator as a numbered figure with its source (dataset, publisher, version, date,
synthetic or real), method and date, the gaps with the kind of dataset that would fill them, the
evaluated interventions (effect, 95 % interval, summary, caveats: `annex_evidence`), the
datasets, and notes on method. `build_pdf(html)` prints that document with headless Chromium,
which has no network here (every host name resolves to nothing) and finds the system's Noto CJK
font for Chinese. Chromium runs in a process group of its own, killed whole when the print is
done, times out, or its `progress` callback raises (a cancelled job).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from datasets.indicators import Evaluation, Gap, Result, unit_label
from i18n import LANGUAGES, fmt_date, fmt_figure, fmt_number, t

from .annex_evidence import interventions_section
from .evidence import Evidence
from .figures.sdg import sparkline_svg

CHROMIUM = os.environ.get("CITYLENS_CHROMIUM", "/usr/bin/chromium")
PDF_TIMEOUT_S = 120
POLL_S = 0.25  # how often a print in progress reports (and may be stopped)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-pdf-header-footer",
    "--no-first-run",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)

STYLE = """
@page { size: A4; margin: 18mm 16mm 18mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "DejaVu Sans", sans-serif; color: #1f2933;
  font-size: 10pt; line-height: 1.4; margin: 0; }
h1 { font-size: 20pt; margin: 0 0 4pt; color: #0b4f7c; }
h2 { font-size: 14pt; margin: 18pt 0 6pt; border-bottom: 1.5pt solid #0b4f7c; padding-bottom: 2pt;
  break-after: avoid; }
h3 { font-size: 11.5pt; margin: 12pt 0 4pt; color: #0b4f7c; break-after: avoid; }
p { margin: 3pt 0; }
.subtitle { font-size: 12pt; margin: 0 0 6pt; }
.muted { color: #5f6b7a; }
.warning { border: 1pt solid #a15c00; background: #fff7e6; padding: 6pt 8pt; margin: 8pt 0; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }
th, td { border-bottom: 0.6pt solid #c9d1da; padding: 3pt 4pt; text-align: left;
  vertical-align: top; }
th { font-weight: 600; color: #3e4c59; background: #f1f4f7; }
td.num { text-align: right; white-space: nowrap; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 2pt 0; }
figure { margin: 6pt 0 10pt; padding: 6pt 8pt; border: 0.6pt solid #c9d1da; border-radius: 4pt;
  break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 3pt; }
.value { font-size: 15pt; font-weight: 700; margin-right: 4pt; }
.row { display: flex; gap: 12pt; align-items: center; flex-wrap: wrap; }
.status { font-weight: 600; padding: 1pt 6pt; border-radius: 8pt; border: 0.8pt solid; }
.status-good { color: #1a7f37; } .status-fair { color: #a15c00; } .status-poor { color: #c2410c; }
.status-bad { color: #b42318; } .status-neutral { color: #0b4f7c; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2pt 8pt; margin: 4pt 0 0; }
dt { font-weight: 600; color: #3e4c59; }
dd { margin: 0; }
.flag-synthetic { color: #a15c00; font-weight: 600; }
.flag-real { color: #1a7f37; font-weight: 600; }
footer { margin-top: 16pt; font-size: 8.5pt; }
@media screen { body { max-width: 210mm; margin: 24px auto; padding: 0 16px; } }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def value_text(result: Result, lang: str) -> str:
    ind = result.indicator
    return fmt_figure(result.value, lang, ind.digits, ind.percent)


def period_text(result: Result, lang: str) -> str:
    start, end = result.period
    if not result.partial:
        return str(start.year)
    return t("sdg.period.partial", lang, start=fmt_date(start, lang), end=fmt_date(end, lang))


def trend_text(result: Result, lang: str) -> str:
    trend = result.trend
    if result.trend_unit == "year":
        years = [p.year for p in trend["period"]]
        return t("sdg.trend.years", lang, first=years[0], last=years[-1])
    return t("sdg.trend.months", lang, period=period_text(result, lang))


def status_text(result: Result, lang: str) -> str:
    status = result.status
    ref = result.indicator.reference
    if status.startswith("it") and status[2:].isdigit() and ref is not None:
        n = int(status[2:])
        return t("sdg.status.it", lang, n=n, limit=fmt_number(ref.interim[n - 1], lang))
    return t(f"sdg.status.{status}", lang)


def reference_text(result: Result, lang: str) -> str:
    ref = result.indicator.reference
    return t(ref.key, lang) if ref else t("sdg.no_reference", lang)


def method_text(result: Result, lang: str) -> str:
    text = t(f"sdg.ind.{result.id}.method", lang)
    if result.variant:
        text += " " + t(f"sdg.variant.{result.variant}", lang)
    if result.stations:
        text += " (" + t("sdg.stations", lang, n=result.stations) + ")"
    return text


def dataset_text(dataset, lang: str) -> str:
    nature = t("annex.synthetic" if dataset.meta.synthetic else "annex.real", lang)
    return t(
        "annex.dataset_ref",
        lang,
        title=dataset.title(lang),
        publisher=dataset.meta.source or "–",
        version=dataset.current_version,
        updated=fmt_date(dt.date.fromisoformat(dataset.updated_at[:10]), lang),
        nature=nature,
    )


def gap_reason(gap: Gap, lang: str) -> str:
    kinds = ", ".join(t(f"sdg.kind.{k}", lang) for k in gap.kinds)
    if gap.reason == "no_kind":
        return t("sdg.gap.no_kind", lang)
    if gap.reason == "no_population":
        return t("sdg.gap.no_population", lang)
    if gap.reason == "no_column":
        return t("sdg.gap.no_column", lang, kinds=kinds, column=gap.detail)
    return t(f"sdg.gap.{gap.reason}", lang, kinds=kinds)


def gap_name(gap: Gap, lang: str) -> str:
    key = f"sdg.gap.{gap.id}.name" if gap.reason == "no_kind" else f"sdg.ind.{gap.id}.name"
    return t(key, lang)


def gap_need(gap: Gap, lang: str) -> str:
    if gap.reason == "no_kind":
        return t(f"sdg.gap.{gap.id}.need", lang)
    if gap.reason == "no_population":
        return t("sdg.gap.no_population", lang)
    return ", ".join(t(f"sdg.kind.{k}", lang) for k in gap.kinds)


def _coverage(dataset) -> str:
    v = dataset.current
    return f"{v.time_min[:10]} → {v.time_max[:10]}" if v.time_min and v.time_max else "–"


def _head(city, lang: str, generated: dt.datetime, synthetic: bool) -> list[str]:
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-Hans" if lang == "zh" else lang}"><head><meta charset="utf-8">',
        f"<title>{_e(t('annex.title', lang))} · {_e(city.label(lang))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(t('annex.title', lang))}</h1>",
        f'<p class="subtitle">{_e(t("annex.subtitle", lang, city=city.label(lang)))}</p>',
        f'<p class="muted">{_e(t("annex.generated", lang, date=fmt_date(generated.date(), lang)))}'
        "</p>",
    ]
    if synthetic:
        out.append(f'<p class="warning">{_e(t("annex.notes.synthetic", lang))}</p>')
    return out


def _table_head(n: int, keys: tuple[str, ...], lang: str) -> str:
    return (
        f"<table><caption>{_e(t('annex.table', lang, n=n))}</caption><thead><tr>"
        + "".join(f"<th>{_e(t(k, lang))}</th>" for k in keys)
        + "</tr></thead><tbody>"
    )


def _summary(evaluation: Evaluation, numbers: dict[str, int], lang: str) -> list[str]:
    counts = {"computed": len(evaluation.results), "datasets": len(evaluation.datasets)}
    summary = t("sdg.summary", lang, gaps=len(evaluation.gaps), **counts)
    out = [
        f"<h2>1. {_e(t('annex.section.summary', lang))}</h2>",
        f"<p>{_e(summary)}</p>",
        _table_head(
            1,
            (
                "annex.col.target",
                "sdg.col.indicator",
                "sdg.col.value",
                "sdg.col.period",
                "sdg.col.status",
            ),
            lang,
        ),
    ]
    for target, results, _gaps in evaluation.by_target():
        for r in results:
            out.append(
                f"<tr><td>{_e(target)}</td>"
                f"<td>{_e(t(f'sdg.ind.{r.id}.name', lang))} "
                f'<span class="muted">({_e(t("annex.figure", lang, n=numbers[r.id]))})</span></td>'
                f'<td class="num">{_e(value_text(r, lang))} '
                f"{_e(unit_label(r.indicator, lang))}</td>"
                f"<td>{_e(period_text(r, lang))}</td>"
                f'<td class="status-{r.status_class}">{_e(status_text(r, lang))}</td></tr>'
            )
    out.append("</tbody></table>")
    return out


def _figure(r: Result, number: int, computed: str, lang: str) -> str:
    ind = r.indicator
    name = t(f"sdg.ind.{r.id}.name", lang)
    svg = sparkline_svg(
        r.trend,
        r.trend_unit,
        lang,
        status_class=r.status_class,
        reference=ind.reference.value if ind.reference and not ind.percent else None,
        percent=ind.percent,
        digits=ind.digits,
        width=220,
        height=54,
        label=name,
    )
    sources = "<br>".join(_e(dataset_text(d, lang)) for d in r.datasets)
    date = t(
        "annex.date_text",
        lang,
        start=fmt_date(r.period[0], lang),
        end=fmt_date(r.period[1], lang),
        computed=computed,
    )
    return (
        f'<figure id="fig-{_e(r.id)}"><figcaption>'
        f"{_e(t('annex.figure', lang, n=number))}. {_e(name)}</figcaption>"
        f'<div class="row"><span><span class="value">{_e(value_text(r, lang))}</span>'
        f"{_e(unit_label(ind, lang))}</span>"
        f'<span class="status status-{r.status_class}">{_e(status_text(r, lang))}</span>'
        f"{svg}</div>"
        f'<p class="muted">{_e(trend_text(r, lang))}</p>'
        "<dl>"
        f"<dt>{_e(t('sdg.col.period', lang))}</dt><dd>{_e(period_text(r, lang))}</dd>"
        f"<dt>{_e(t('sdg.col.reference', lang))}</dt><dd>{_e(reference_text(r, lang))}</dd>"
        f"<dt>{_e(t('annex.source', lang))}</dt><dd>{sources}</dd>"
        f"<dt>{_e(t('annex.method', lang))}</dt><dd>{_e(method_text(r, lang))}</dd>"
        f"<dt>{_e(t('annex.date', lang))}</dt><dd>{_e(date)}</dd>"
        "</dl></figure>"
    )


def _indicators(evaluation: Evaluation, numbers: dict[str, int], lang: str) -> list[str]:
    computed = fmt_date(evaluation.computed_at.date(), lang)
    out = [f"<h2>2. {_e(t('annex.section.indicators', lang))}</h2>"]
    for target, results, _gaps in evaluation.by_target():
        if not results:
            continue
        out.append(f"<h3>SDG {_e(t(f'sdg.{target}', lang))}</h3>")
        out.extend(_figure(r, numbers[r.id], computed, lang) for r in results)
    return out


def _gaps(evaluation: Evaluation, lang: str) -> list[str]:
    out = [f"<h2>3. {_e(t('annex.section.gaps', lang))}</h2>"]
    if not evaluation.gaps:
        return [*out, f"<p>{_e(t('annex.none', lang))}</p>"]
    out.append(
        _table_head(
            2, ("annex.col.target", "sdg.col.indicator", "annex.col.why", "annex.col.need"), lang
        )
    )
    for target, _results, gaps in evaluation.by_target():
        for g in gaps:
            out.append(
                f"<tr><td>{_e(target)}</td><td>{_e(gap_name(g, lang))}</td>"
                f"<td>{_e(gap_reason(g, lang))}</td><td>{_e(gap_need(g, lang))}</td></tr>"
            )
    out.append("</tbody></table>")
    return out


def _sources(datasets, lang: str) -> list[str]:
    out = [
        f"<h2>5. {_e(t('annex.section.sources', lang))}</h2>",
        _table_head(
            4,
            (
                "annex.col.dataset",
                "annex.col.publisher",
                "annex.col.licence",
                "annex.col.coverage",
                "annex.col.version",
                "annex.col.rows",
                "annex.col.nature",
            ),
            lang,
        ),
    ]
    for d in datasets:
        flag = "synthetic" if d.meta.synthetic else "real"
        publisher = _e(d.meta.source or "–")
        if d.meta.source_url:
            publisher += f"<br><span class='muted'>{_e(d.meta.source_url)}</span>"
        out.append(
            f"<tr><td>{_e(d.title(lang))}<br><span class='muted'>{_e(d.id)}</span></td>"
            f"<td>{publisher}</td><td>{_e(d.meta.licence or '–')}</td>"
            f"<td>{_e(_coverage(d))}</td><td>v{d.current_version} · {_e(d.updated_at[:10])}</td>"
            f'<td class="num">{_e(fmt_number(d.current.rows, lang))}</td>'
            f'<td class="flag-{flag}">{_e(t(f"annex.{flag}", lang))}</td></tr>'
        )
    out.append("</tbody></table>")
    return out


def _notes(city, lang: str, generated: dt.datetime) -> list[str]:
    out = [f"<h2>6. {_e(t('annex.section.notes', lang))}</h2>"]
    for key in ("annex.notes.period", "annex.notes.trend", "annex.notes.status"):
        out.append(f"<p>{_e(t(key, lang))}</p>")
    if city.boundaries_attribution:
        out.append(f'<p class="muted">{_e(city.boundaries_attribution)}</p>')
    out.append(
        f'<footer class="muted">CityLens · {_e(city.label(lang))} ({_e(city.id)}) · '
        f"{_e(generated.isoformat(timespec='seconds'))}</footer>"
    )
    out.append("</body></html>")
    return out


def build_html(
    evaluation: Evaluation,
    lang: str,
    generated: dt.datetime | None = None,
    interventions: Sequence[Evidence] = (),
) -> str:
    """The annex as one self-contained HTML document in `lang`; `interventions` are the city's
    evaluated interventions (`components.evidence.city_evidence`)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    city = evaluation.city
    generated = generated or dt.datetime.now(dt.UTC)
    datasets = evaluation.datasets
    numbers = {r.id: n for n, r in enumerate(evaluation.results, 1)}
    synthetic = any(d.meta.synthetic for d in datasets)
    return "\n".join(
        [
            *_head(city, lang, generated, synthetic),
            *_summary(evaluation, numbers, lang),
            *_indicators(evaluation, numbers, lang),
            *_gaps(evaluation, lang),
            *interventions_section(interventions, 4, 3, lang),
            *_sources(datasets, lang),
            *_notes(city, lang, generated),
        ]
    )


class PdfError(RuntimeError):
    """Chromium could not print the annex."""


def build_pdf(
    document: str,
    chromium: str = CHROMIUM,
    timeout: float = PDF_TIMEOUT_S,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Print an HTML document to PDF with headless Chromium (no network, a throwaway profile).
    `progress(0, 1)` is called while Chromium prints; an exception it raises stops the print."""
    if not Path(chromium).exists():
        raise PdfError(f"{chromium} is missing: install Debian's chromium to print the annex")
    scratch = Path(tempfile.mkdtemp(prefix="citylens-annex-"))
    try:
        source = scratch / "annex.html"
        target = scratch / "annex.pdf"
        source.write_text(document, encoding="utf-8")
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={scratch / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        # stderr to a file: a pipe nobody reads while we wait could fill and stall Chromium
        with open(scratch / "chromium.log", "wb") as log:
            status = _print(command, log, timeout, progress)
        if not target.exists() or target.stat().st_size == 0:
            tail = (scratch / "chromium.log").read_text(errors="replace").strip().splitlines()
            raise PdfError(f"Chromium exited with {status}: {' | '.join(tail[-3:])}")
        return target.read_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _print(command: list[str], log, timeout: float, progress) -> int:
    """Run Chromium until it exits (returns its exit status); whatever happens, none of its
    processes outlive this."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    # WNOWAIT: Chromium is left unreaped until its group is killed, so the group's id cannot
    # have been reused by then
    exited = os.WEXITED | os.WNOHANG | os.WNOWAIT
    try:
        while os.waitid(os.P_PID, process.pid, exited) is None:
            if time.monotonic() > deadline:
                raise PdfError(f"Chromium did not print the annex within {timeout:.0f} s")
            if progress:
                progress(0, 1)
            time.sleep(POLL_S)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its helpers too, which may linger
        status = process.wait()
    return status


def filename(evaluation: Evaluation, lang: str, fmt: str) -> str:
    stamp = evaluation.computed_at.date().isoformat()
    return f"vlr-annex-{evaluation.city.id}-{lang}-{stamp}.{fmt}"
