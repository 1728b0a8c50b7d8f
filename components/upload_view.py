"""What the upload page shows of a job: pure functions of the job's state (plain JSON from
`components.upload_jobs`) and the viewer's language, returning Dash components.

Everything that comes from the file (names, cells, messages quoting cells) is passed as a
string child of a component, which React renders as text: a cell `<img src=x onerror=…>` shows
as those characters. No markdown, no `dangerously_allow_html`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from dash import dcc, html

from datasets.catalog import Dataset
from datasets.cities import CityProfile
from datasets.ingest.detect import DELIMITER_NAMES, ENCODINGS, TYPES
from datasets.ingest.place_check import PlaceWarning
from datasets.schemas import KINDS
from i18n import fmt_date, fmt_number, messages, t

PROBLEMS_SHOWN = 20
PREVIEW_SHOWN = 12
NOT_MAPPED = ""
THOUSANDS = ("", ",", ".", " ", "'")
ROUND_TABLES = ("traffic", "ecology", "other")
TEXT_FORMATS = {"csv", "json", "ndjson", "geojson"}
TEMPORAL = {"date", "timestamp", "time"}


def sdg_targets() -> list[str]:
    """The SDG targets the app names (`sdg.<n>.<m>` messages), in numeric order."""
    found = [k[4:] for k in messages() if re.fullmatch(r"sdg\.\d+(\.\d+)+", k)]
    return sorted(found, key=lambda s: tuple(int(p) for p in s.split(".")))


def kind_label(kind: str, lang: str) -> str:
    key = f"upload.kind.{kind}"
    return t(key, lang) if key in messages() else kind


def data_table(headers: list, rows: list, name: str) -> html.Div:
    """A table of the upload pages in its scrolling frame: header cells' contents, body rows,
    and the table's own class beside `data-table`."""
    table = html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(rows)],
        className=f"data-table {name}",
    )
    return html.Div(table, className="table-wrap")


def cell(value) -> str:
    return "" if value is None else str(value)


# -- progress -----------------------------------------------------------------------------------


def progress_bar(fraction: float, label: str, element_id: str | None = None):
    pct = max(0, min(100, round(fraction * 100)))
    attrs = {"aria-valuenow": str(pct), "aria-valuemin": "0", "aria-valuemax": "100"}
    return html.Div(
        [
            html.Span(label, className="progress-label"),
            html.Div(
                html.Div(className="progress-fill", style={"width": f"{pct}%"}),
                className="progress",
                role="progressbar",
                **attrs,
                **({"id": element_id} if element_id else {}),
            ),
            html.Span(f"{pct} %", className="progress-value"),
        ],
        className="progress-row",
    )


def status_view(state: dict, lang: str):
    """The processing line: a progress bar while a stage runs, then the error if any."""
    if not state:
        return []
    out = []
    status = state.get("status")
    if status in {"running", "received"}:
        stage = state.get("stage") or "inspect"
        out.append(
            progress_bar(
                state.get("fraction") or 0.0,
                t(f"upload.stage.{stage}", lang, file=state.get("file", "")),
                "upload-processing",
            )
        )
    error = state.get("error")
    if error:
        key = error.get("key")
        out.append(
            html.P(
                [
                    html.Strong(t("upload.refused", lang) + " "),
                    t(key, lang) if key else error.get("message", ""),
                ],
                className="upload-error",
                role="alert",
            )
        )
    return out


# -- detection -----------------------------------------------------------------------------------


def shown_settings(state: dict) -> dict:
    """The settings the controls show: the analyst's overrides over what was detected."""
    settings = dict((state.get("inspection") or {}).get("settings") or {})
    overrides = state.get("overrides") or {}
    for key in ("encoding", "delimiter", "decimal", "thousands", "sheet"):
        if key in overrides:
            settings[key] = overrides[key]
    if "missing" in overrides:
        settings["missing"] = list(overrides["missing"])
    if "skip_lines" in overrides or "has_header" in overrides:
        has_header = overrides.get("has_header", settings.get("has_header", True))
        skip = int(overrides.get("skip_lines", settings.get("skip_lines", 0)))
        settings["header_line"] = skip + 1 if has_header else 0
    return settings


def setting_control_values(settings: dict) -> dict[str, object]:
    """Each detection control's value for `settings` (the form controls hold)."""
    missing = [m for m in settings.get("missing") or [] if m != ""]
    return {
        "encoding": settings.get("encoding") or "",
        "delimiter": settings.get("delimiter") or "",
        "decimal": settings.get("decimal") or ".",
        "thousands": settings.get("thousands") or "",
        "header_line": int(settings.get("header_line") or 0),
        "missing": ", ".join(missing),
        "sheet": settings.get("sheet") or "",
    }


def _setting(name: str, label: str, control, hint: str = ""):
    return html.Div(
        [html.Label(label, className="filter-label"), control]
        + ([html.Span(hint, className="muted small")] if hint else []),
        className="upload-setting",
        **{"data-setting": name},
    )


def _dropdown(name: str, options: list[dict], value, **extra):
    return dcc.Dropdown(
        id={"type": "up-set", "name": name},
        options=options,
        value=value,
        clearable=False,
        searchable=False,
        className="upload-dropdown",
        **extra,
    )


def detection_view(state: dict, lang: str):
    inspection = state.get("inspection") or {}
    detected = inspection.get("settings") or {}
    shown = setting_control_values(shown_settings(state))
    fmt = detected.get("format", "")
    controls = [
        _setting("format", t("upload.format", lang), html.Span(fmt.upper(), className="pill")),
    ]
    if fmt in TEXT_FORMATS:
        encodings = dict(ENCODINGS)
        if shown["encoding"] and shown["encoding"] not in encodings:
            encodings[shown["encoding"]] = shown["encoding"]
        controls.append(
            _setting(
                "encoding",
                t("upload.encoding", lang),
                _dropdown(
                    "encoding",
                    [{"label": label, "value": code} for code, label in encodings.items()],
                    shown["encoding"],
                ),
            )
        )
    if fmt == "csv":
        delimiters = dict(DELIMITER_NAMES)
        if shown["delimiter"] and shown["delimiter"] not in delimiters:
            delimiters[shown["delimiter"]] = repr(shown["delimiter"])
        controls.append(
            _setting(
                "delimiter",
                t("upload.delimiter", lang),
                _dropdown(
                    "delimiter",
                    [
                        {"label": t(f"upload.delimiter.{name}", lang), "value": d}
                        if f"upload.delimiter.{name}" in messages()
                        else {"label": name, "value": d}
                        for d, name in delimiters.items()
                    ],
                    shown["delimiter"],
                ),
            )
        )
    if fmt != "parquet":
        controls += [
            _setting(
                "decimal",
                t("upload.decimal", lang),
                _dropdown(
                    "decimal",
                    [
                        {"label": t("upload.decimal.point", lang), "value": "."},
                        {"label": t("upload.decimal.comma", lang), "value": ","},
                    ],
                    shown["decimal"],
                ),
            ),
            _setting(
                "thousands",
                t("upload.thousands", lang),
                _dropdown(
                    "thousands",
                    [
                        {
                            "label": t("upload.thousands.none", lang) if sep == "" else repr(sep),
                            "value": sep,
                        }
                        for sep in THOUSANDS
                    ],
                    shown["thousands"],
                ),
            ),
            _setting(
                "missing",
                t("upload.missing", lang),
                dcc.Input(
                    id={"type": "up-set", "name": "missing"},
                    value=shown["missing"],
                    type="text",
                    className="upload-input",
                ),
                t("upload.missing_hint", lang),
            ),
        ]
    if fmt in {"csv", "xlsx"}:
        controls.append(
            _setting(
                "header_line",
                t("upload.header_line", lang),
                dcc.Input(
                    id={"type": "up-set", "name": "header_line"},
                    value=shown["header_line"],
                    type="number",
                    min=0,
                    step=1,
                    className="upload-input upload-number",
                ),
                t("upload.header_hint", lang),
            )
        )
    sheets = detected.get("sheets") or []
    if fmt == "xlsx" and len(sheets) > 1:
        controls.append(
            _setting(
                "sheet",
                t("upload.sheet", lang),
                _dropdown("sheet", [{"label": s, "value": s} for s in sheets], shown["sheet"]),
            )
        )
    return html.Section(
        [
            html.H2(t("upload.detection", lang), className="section-title"),
            html.P(t("upload.detection_intro", lang), className="muted"),
            html.Div(controls, className="upload-settings"),
            columns_view(state, lang),
            notes_view(inspection.get("notes") or [], lang),
            html.Button(t("upload.reread", lang), id="upload-reread", className="btn", n_clicks=0),
        ],
        className="card upload-section upload-detection",
    )


def column_overrides(state: dict) -> dict[str, dict]:
    overrides = state.get("overrides") or {}
    return {
        "types": dict(overrides.get("types") or {}),
        "formats": dict(overrides.get("formats") or {}),
        "units": dict(overrides.get("units") or {}),
    }


def columns_view(state: dict, lang: str):
    """One row per source column: its detected type, date formats and unit (each editable)
    and a few example values."""
    columns = (state.get("inspection") or {}).get("columns") or []
    head = ["upload.col.column", "upload.col.type", "upload.col.formats", "upload.col.unit"]
    rows = []
    for c in columns:
        i = c["index"]
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [html.Span(cell(c["name"]), className="col-name")]
                        + (
                            [html.Span(cell(c["note"]), className="muted small col-note")]
                            if c.get("note")
                            else []
                        )
                    ),
                    html.Td(
                        dcc.Dropdown(
                            id={"type": "up-type", "i": i},
                            options=[
                                {"label": t(f"upload.type.{k}", lang), "value": k} for k in TYPES
                            ],
                            value=c["type"],
                            clearable=False,
                            searchable=False,
                            className="upload-dropdown small",
                        )
                    ),
                    html.Td(
                        dcc.Input(
                            id={"type": "up-fmt", "i": i},
                            value=", ".join(c.get("formats") or []),
                            type="text",
                            placeholder="%Y-%m-%d %H:%M" if c["type"] in TEMPORAL else "",
                            className="upload-input",
                        )
                    ),
                    html.Td(
                        dcc.Input(
                            id={"type": "up-unit", "i": i},
                            value=c.get("unit") or "",
                            type="text",
                            className="upload-input upload-unit",
                        )
                    ),
                    html.Td(", ".join(cell(e) for e in c.get("examples") or []), className="muted"),
                ]
            )
        )
    return html.Details(
        [
            html.Summary(t("upload.columns", lang, n=len(columns))),
            data_table(
                [t(k, lang) for k in (*head, "upload.col.examples")], rows, "upload-columns"
            ),
        ],
        className="upload-columns-details",
        open=len(columns) <= 12,
    )


def notes_view(notes: list[str], lang: str):
    if not notes:
        return None
    return html.Ul([html.Li(cell(n)) for n in notes], className="upload-notes muted small")


# -- preview ---------------------------------------------------------------------------------------


def preview_cell(
    raw, parsed, column_type: str, lang: str, missing: frozenset[str] = frozenset()
) -> html.Td:
    """A cell as found in the file and, beneath it, as it will be published (dates in ISO 8601,
    numbers as numbers), so a misreading shows before anything is published. A missing-value
    marker (`missing`) is said to be missing, not unreadable."""
    if raw in (None, ""):
        return html.Td("")
    if parsed is None and str(raw).strip() in missing:
        shown = html.Span(t("upload.preview_missing", lang), className="parsed muted")
    elif parsed is None:
        shown = html.Span(t("upload.preview_unread", lang), className="parsed unreadable")
    elif column_type == "string" and str(parsed) == str(raw):
        return html.Td(cell(raw))
    else:
        shown = html.Span(cell(parsed), className="parsed")
    return html.Td([html.Span(cell(raw), className="raw"), html.Br(), shown])


def preview_view(state: dict, lang: str):
    inspection = state.get("inspection") or {}
    columns = inspection.get("columns") or []
    rows = inspection.get("preview") or []
    missing = frozenset(str(m).strip() for m in shown_settings(state).get("missing") or [])
    return html.Section(
        [
            html.H2(t("upload.preview", lang), className="section-title"),
            html.P(t("upload.preview_intro", lang), className="muted"),
            data_table(
                [t("upload.line", lang), *(cell(c["name"]) for c in columns)],
                [
                    html.Tr(
                        [html.Td(cell(r.get("line")), className="muted")]
                        + [
                            preview_cell(raw, parsed, c["type"], lang, missing)
                            for raw, parsed, c in zip(
                                r.get("cells") or [],
                                r.get("parsed") or [None] * len(columns),
                                columns,
                                strict=False,
                            )
                        ]
                    )
                    for r in rows[:PREVIEW_SHOWN]
                ],
                "upload-preview",
            ),
        ],
        className="card upload-section",
    )


# -- mapping ---------------------------------------------------------------------------------------


def source_value(source: dict | None) -> str:
    """A mapping source as a dropdown value: `c:<column>`, `p:<parts JSON>`, or not mapped."""
    if not source:
        return NOT_MAPPED
    if source.get("column") is not None:
        return "c:" + source["column"]
    if source.get("parts"):
        return "p:" + json.dumps(source["parts"], ensure_ascii=False, sort_keys=True)
    return NOT_MAPPED


def parse_source(value: str | None, unit: str | None = None, constant: str | None = None):
    """The mapping entry for a dropdown value (and the unit and constant typed beside it)."""
    out: dict = {}
    if value and value.startswith("c:"):
        out["column"] = value[2:]
    elif value and value.startswith("p:"):
        try:
            parts = json.loads(value[2:])
        except ValueError:
            parts = None
        if isinstance(parts, dict):
            out["parts"] = {str(k): str(v) for k, v in parts.items()}
    elif constant not in (None, ""):
        out["constant"] = constant
    if not out:
        return None
    if unit:
        out["unit"] = unit
    return out


def mapping_view(state: dict, lang: str):
    inspection = state.get("inspection") or {}
    mapping = state.get("mapping") or inspection.get("suggestion") or {}
    kind_id = mapping.get("kind") or "generic"
    columns = inspection.get("columns") or []
    candidates = {c["kind"]: c for c in inspection.get("candidates") or []}
    kinds = [k for k in KINDS if k != "generic"]

    def kind_option(k: str) -> dict:
        ok = candidates.get(k, {}).get("complete")
        return {"label": kind_label(k, lang) + (" ✓" if ok else ""), "value": k}

    kind_dropdown = dcc.Dropdown(
        id="upload-kind",
        options=[kind_option(k) for k in kinds]
        + [{"label": kind_label("generic", lang), "value": "generic"}],
        value=kind_id,
        clearable=False,
        className="upload-dropdown upload-kind",
    )
    body: list = [
        html.Div(
            [html.Label(t("upload.kind", lang), className="filter-label"), kind_dropdown],
            className="upload-setting wide",
        )
    ]
    if kind_id == "generic":
        chosen = list((mapping.get("columns") or {}).keys())
        body.append(
            html.Div(
                [
                    html.P(t("upload.generic_intro", lang), className="muted"),
                    dcc.Checklist(
                        id={"type": "up-generic", "k": 0},
                        options=[{"label": cell(c["name"]), "value": c["name"]} for c in columns],
                        value=[c["name"] for c in columns if c["name"] in chosen],
                        inline=True,
                        className="upload-generic",
                    ),
                ]
            )
        )
    else:
        kind = KINDS[kind_id]
        sources = mapping.get("columns") or {}
        missing = [c.name for c in kind.columns if c.required and not sources.get(c.name)]
        if missing:
            body.append(
                html.P(
                    t("upload.kind_missing", lang, columns=", ".join(missing)),
                    className="upload-warning",
                )
            )
        base_options = [{"label": t("upload.not_mapped", lang), "value": NOT_MAPPED}] + [
            {"label": cell(c["name"]), "value": "c:" + c["name"]} for c in columns
        ]
        split = inspection.get("split")
        rows = []
        for col in kind.columns:
            source = sources.get(col.name)
            value = source_value(source)
            options = list(base_options)
            extra_parts = [source.get("parts")] if source and source.get("parts") else []
            if split and col.name == kind.time_column and split not in extra_parts:
                extra_parts.append(split)
            for parts in extra_parts:
                label = " + ".join(cell(v) for v in parts.values())
                options.append({"label": label, "value": source_value({"parts": parts})})
            rows.append(
                html.Tr(
                    [
                        html.Td(
                            [
                                html.Span(col.name, className="col-name"),
                                html.Span(
                                    t("upload.required", lang)
                                    if col.required
                                    else t("upload.optional", lang),
                                    className="muted small" + (" required" if col.required else ""),
                                ),
                            ]
                        ),
                        html.Td(col.unit or "", className="muted"),
                        html.Td(
                            dcc.Dropdown(
                                id={"type": "up-map", "t": col.name},
                                options=options,
                                value=value,
                                clearable=False,
                                className="upload-dropdown",
                            )
                        ),
                        html.Td(
                            dcc.Input(
                                id={"type": "up-map-unit", "t": col.name},
                                value=(source or {}).get("unit") or "",
                                type="text",
                                placeholder=col.unit or "",
                                className="upload-input upload-unit",
                            )
                        ),
                        html.Td(
                            dcc.Input(
                                id={"type": "up-map-const", "t": col.name},
                                value=cell((source or {}).get("constant")),
                                type="text",
                                className="upload-input",
                            )
                        ),
                    ],
                    className="mapped" if value else "unmapped",
                )
            )
        head = ["target", "unit", "source", "source_unit", "constant"]
        body.append(data_table([t(f"upload.map.{k}", lang) for k in head], rows, "upload-mapping"))
    body.append(
        html.Button(t("upload.check", lang), id="upload-check", className="btn", n_clicks=0)
    )
    return html.Section(
        [
            html.H2(t("upload.mapping", lang), className="section-title"),
            html.P(t("upload.mapping_intro", lang), className="muted"),
            *body,
        ],
        className="card upload-section upload-mapping-section",
    )


# -- the validation report -------------------------------------------------------------------------


def _count(key: str, value: int, lang: str, bad: bool = False):
    return html.Div(
        [html.Dt(t(key, lang)), html.Dd(fmt_number(value, lang))],
        className="fact" + (" bad" if bad and value else ""),
    )


def report_view(state: dict, lang: str):
    report = state.get("report")
    if not report:
        return html.Section(
            [
                html.H2(t("upload.report", lang), className="section-title"),
                html.P(t("upload.no_report", lang), className="muted"),
            ],
            className="card upload-section upload-report",
        )
    verdict = (
        t("upload.report_ok", lang, rows=fmt_number(report["rows_ok"], lang))
        if report.get("ok")
        else t("upload.report_question", lang, rows=fmt_number(report["rows_read"], lang))
        if report.get("questions") and not report["rows_bad"]
        else t(
            "upload.report_bad",
            lang,
            bad=fmt_number(report["rows_bad"], lang),
            rows=fmt_number(report["rows_read"], lang),
        )
    )
    parts: list = [
        html.H2(t("upload.report", lang), className="section-title"),
        html.P(
            [
                html.Strong(verdict),
                " ",
                t("upload.as_kind", lang, kind=kind_label(report["kind"], lang)),
            ],
            className="upload-verdict " + ("ok" if report.get("ok") else "bad"),
            id="upload-verdict",
        ),
        *[date_question_view(i, q, lang) for i, q in enumerate(report.get("questions") or [])],
        html.Dl(
            [
                _count("upload.rows_read", report["rows_read"], lang),
                _count("upload.rows_ok", report["rows_ok"], lang),
                _count("upload.rows_bad", report["rows_bad"], lang, bad=True),
                _count("upload.errors", report["error_count"], lang, bad=True),
                _count("upload.out_of_range", report["out_of_range_count"], lang, bad=True),
                _count("upload.missing_values", report["missing_count"], lang, bad=True),
                _count("upload.duplicates", report["duplicates"], lang, bad=True),
                _count("upload.empty_rows", report["empty_rows"], lang),
            ],
            className="facts upload-counts",
        ),
    ]
    if report.get("time_min"):
        parts.append(
            html.P(
                t(
                    "upload.coverage",
                    lang,
                    column=cell(report.get("time_column")),
                    start=report["time_min"],
                    end=report["time_max"],
                    days=fmt_number(report["days_covered"], lang),
                    span=fmt_number(report["span_days"], lang),
                ),
                className="upload-coverage",
            )
        )
    problems = report.get("problems") or []
    if problems:
        shown = problems[:PROBLEMS_SHOWN]
        parts.append(html.H3(t("upload.problems", lang)))
        parts.append(
            html.Ol(
                [
                    html.Li(
                        [
                            html.Code(cell(p.get("message"))),
                            html.Span(f" ({p.get('kind')})", className="muted"),
                        ]
                    )
                    for p in shown
                ],
                className="upload-problems",
            )
        )
        if report.get("problem_count", 0) > len(shown):
            parts.append(
                html.P(
                    t("upload.more_problems", lang, n=fmt_number(report["problem_count"], lang)),
                    className="muted",
                )
            )
    if report.get("duplicates"):
        examples = "; ".join(
            " = ".join(str(n) for n in group) for group in report.get("duplicate_examples") or []
        )
        parts.append(html.P(t("upload.duplicate_lines", lang, lines=examples), className="muted"))
    head = [
        "column",
        "source",
        "type",
        "unit",
        "values",
        "nulls",
        "errors",
        "out_of_range",
        "min",
        "max",
    ]
    parts.append(
        data_table(
            [t(f"upload.rc.{k}", lang) for k in head],
            [
                html.Tr(
                    [
                        html.Td(cell(c["name"])),
                        html.Td(cell(c["source"]), className="muted"),
                        html.Td(cell(c["type"])),
                        html.Td(cell(c["unit"])),
                        html.Td(fmt_number(c["values"], lang)),
                        html.Td(fmt_number(c["nulls"], lang)),
                        html.Td(fmt_number(c["errors"], lang)),
                        html.Td(fmt_number(c["out_of_range"], lang)),
                        html.Td(cell(c["min"])),
                        html.Td(cell(c["max"])),
                    ],
                    title=cell(c.get("note")),
                )
                for c in report.get("columns") or []
            ],
            "upload-report-columns",
        )
    )
    if report.get("unmapped") and report.get("kind") != "generic":
        parts.append(
            html.P(
                t("upload.unmapped", lang, columns=", ".join(cell(c) for c in report["unmapped"])),
                className="muted",
            )
        )
    parts.append(notes_view(report.get("notes") or [], lang))
    return html.Section(parts, className="card upload-section upload-report")


# -- publishing ------------------------------------------------------------------------------------


def date_question_view(index: int, question: dict, lang: str) -> html.Div:
    """A date order the whole file leaves open, asked with its example (`10/02/2012 — 2 October
    2012 or 10 February 2012?`); each answer is a button that checks the file again so read."""
    readings = {
        order: fmt_date(dt.date.fromisoformat(day), lang, "long")
        for order, day in (question.get("readings") or {}).items()
    }
    buttons = [
        html.Button(
            readings.get(order, order),
            id={"type": "up-date-order", "q": index, "order": order},
            className="btn",
            n_clicks=0,
        )
        for order in ("mdy", "dmy")
    ]
    return html.Div(
        [
            html.P(
                html.Strong(
                    t(
                        "upload.date_question",
                        lang,
                        column=cell(question.get("source")),
                        example=cell(question.get("example")),
                        month_first=readings.get("mdy", "?"),
                        day_first=readings.get("dmy", "?"),
                    )
                )
            ),
            html.P(t("upload.date_question_why", lang), className="muted"),
            html.Div(buttons, className="upload-question-choices"),
        ],
        className="upload-question",
        role="group",
    )


def publish_view(state: dict, lang: str, same_kind: list[Dataset]):
    report = state.get("report") or {}
    kind_id = report.get("kind") or (state.get("mapping") or {}).get("kind") or "generic"
    kind = KINDS.get(kind_id, KINDS["generic"])
    title = Path(state.get("file") or "upload").stem
    has_targets = bool(same_kind)
    mode_options = [
        {"label": t("upload.mode.new", lang), "value": "new"},
        {"label": t("upload.mode.append", lang), "value": "append", "disabled": not has_targets},
        {"label": t("upload.mode.replace", lang), "value": "replace", "disabled": not has_targets},
    ]

    def field(label_key: str, control, hint: str = ""):
        return html.Div(
            [html.Label(t(label_key, lang), className="filter-label"), control]
            + ([html.Span(hint, className="muted small")] if hint else []),
            className="upload-setting",
        )

    bad = report.get("rows_bad") or 0
    # The panel is drawn again whenever a check ends: what the analyst typed meanwhile is kept
    # (Dash persistence, for this job only: another upload starts from its own defaults).
    kept = {"persistence": state.get("token") or True, "persistence_type": "session"}
    return html.Section(
        [
            html.H2(t("upload.publish", lang), className="section-title"),
            html.Div(
                [
                    field(
                        "upload.mode",
                        dcc.RadioItems(
                            id="upload-mode", options=mode_options, value="new", inline=True
                        ),
                    ),
                    field(
                        "upload.target",
                        dcc.Dropdown(
                            id="upload-target",
                            options=[
                                {
                                    "label": f"{d.title(lang)} ({d.id}, v{d.current_version})",
                                    "value": d.id,
                                }
                                for d in same_kind
                            ],
                            value=None,
                            disabled=True,
                            placeholder=t("upload.target_hint", lang),
                            className="upload-dropdown",
                        ),
                    ),
                    field(
                        "upload.title_field",
                        dcc.Input(
                            id="upload-title",
                            value=title,
                            type="text",
                            maxLength=200,
                            className="upload-input",
                            **kept,
                        ),
                    ),
                    field(
                        "upload.source",
                        dcc.Input(
                            id="upload-source",
                            type="text",
                            maxLength=300,
                            className="upload-input",
                            **kept,
                        ),
                    ),
                    field(
                        "upload.source_url",
                        dcc.Input(
                            id="upload-source-url",
                            type="url",
                            maxLength=500,
                            className="upload-input",
                            **kept,
                        ),
                    ),
                    field(
                        "upload.licence",
                        dcc.Input(
                            id="upload-licence",
                            type="text",
                            maxLength=100,
                            placeholder="CC-BY-4.0",
                            className="upload-input",
                            **kept,
                        ),
                    ),
                    field(
                        "upload.round_table",
                        dcc.Dropdown(
                            id="upload-round-table",
                            options=[
                                {"label": t(f"data.round_table.{r}", lang), "value": r}
                                for r in ROUND_TABLES
                            ],
                            value=kind.round_table,
                            clearable=False,
                            className="upload-dropdown",
                        ),
                    ),
                    field(
                        "upload.sdg",
                        dcc.Dropdown(
                            id="upload-sdg",
                            options=[
                                {"label": f"SDG {s} · {t(f'sdg.{s}', lang)}", "value": s}
                                for s in sdg_targets()
                            ],
                            value=[s for s in kind.sdg if s in sdg_targets()],
                            multi=True,
                            className="upload-dropdown",
                        ),
                    ),
                ],
                className="upload-settings upload-publish-fields",
            ),
            html.Div(
                [
                    html.Label(t("upload.description", lang), className="filter-label"),
                    dcc.Textarea(
                        id="upload-description",
                        maxLength=2000,
                        className="upload-input upload-textarea",
                        **kept,
                    ),
                ],
                className="upload-setting wide",
            ),
            dcc.Checklist(
                id="upload-drop-bad",
                options=[
                    {
                        "label": t("upload.drop_bad", lang, n=fmt_number(bad, lang)),
                        "value": "drop",
                        "disabled": not bad,
                    }
                ],
                value=[],
                className="upload-drop-bad",
                style=None if bad else {"display": "none"},
            ),
            html.Div(
                [
                    html.Button(
                        t("upload.commit", lang),
                        id="upload-commit",
                        className="btn btn-primary",
                        n_clicks=0,
                        disabled=not state.get("report"),
                    ),
                    html.Button(
                        t("upload.cancel", lang), id="upload-cancel", className="btn", n_clicks=0
                    ),
                ],
                className="upload-buttons",
            ),
        ],
        className="card upload-section upload-publish",
    )


def result_view(state: dict, lang: str, round_table_href: str | None):
    result = state.get("result") or {}
    dataset_id = result.get("dataset_id", "")
    title = (result.get("title") or {}).get(lang) or (result.get("title") or {}).get("en") or ""
    links = [
        html.A(
            t("upload.open_explorer", lang),
            href=f"/data/{dataset_id}",
            className="btn btn-primary",
            id="upload-explorer-link",
        ),
        html.A(t("upload.open_catalog", lang), href=f"/data#{dataset_id}", className="btn"),
    ]
    if round_table_href:
        links.insert(
            1,
            html.A(
                t("upload.open_round_table", lang),
                href=round_table_href,
                className="btn",
                id="upload-round-table-link",
            ),
        )
    return html.Section(
        [
            html.H2(t("upload.published", lang), className="section-title"),
            html.P(
                t(
                    f"upload.published_{result.get('mode', 'new')}",
                    lang,
                    title=title,
                    id=dataset_id,
                    version=result.get("version", ""),
                    rows=fmt_number(result.get("rows") or 0, lang),
                ),
                id="upload-result",
            ),
            html.Div(links, className="upload-buttons"),
            html.Button(t("upload.again", lang), id="upload-again", className="btn", n_clicks=0),
        ],
        className="card upload-section upload-done",
        role="status",
    )


def panel_view(state: dict, lang: str, same_kind: list[Dataset], round_table_href: str | None):
    if not state or state.get("status") == "discarded":
        return []
    if state.get("status") == "committed":
        return [result_view(state, lang, round_table_href)]
    if not state.get("inspection"):
        return []
    return [
        html.H2(cell(state.get("file")), className="upload-file-name"),
        detection_view(state, lang),
        preview_view(state, lang),
        mapping_view(state, lang),
        report_view(state, lang),
        publish_view(state, lang, same_kind),
    ]


# -- the city the upload is filed under ------------------------------------------------------------


def city_chooser(cities: dict[str, CityProfile], chosen: str, lang: str):
    """The city the dataset is published under (its pages, maps and catalog), the city being
    viewed at first; a link starts a new city and comes back here with it chosen."""
    options = [{"label": c.label(lang), "value": c.id} for c in cities.values()]
    return html.Section(
        [
            html.Div(
                [
                    html.Label(
                        t("upload.city", lang), htmlFor="upload-city", className="filter-label"
                    ),
                    dcc.Dropdown(
                        id="upload-city",
                        options=options,
                        value=chosen,
                        clearable=False,
                        className="upload-city-select",
                    ),
                    html.Span(t("upload.city_hint", lang), className="muted small"),
                ],
                className="upload-setting",
            ),
            html.A(
                t("upload.city_new", lang),
                href="/cities",
                className="btn btn-small",
                id="upload-city-new",
            ),
            html.Div(id="upload-place", className="upload-place", **{"aria-live": "polite"}),
        ],
        className="card upload-city-card",
    )


def place_view(warnings: list[PlaceWarning], city: CityProfile, lang: str):
    """The rows of the file that lie outside the chosen city, as warnings."""
    items = []
    for w in warnings:
        values = {
            "outside": fmt_number(w.outside, lang),
            "total": fmt_number(w.total, lang),
            "city": city.label(lang),
            "columns": ", ".join(w.columns),
            "examples": ", ".join(w.examples),
        }
        items.append(html.Li(t(f"upload.place.{w.what}", lang, **values)))
    if not items:
        return []
    return html.Ul(items, className="upload-warnings", role="alert")
