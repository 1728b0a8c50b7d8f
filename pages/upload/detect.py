"""The detection step of `/data/upload`: how the file was read (encoding, delimiter, decimal,
header row, missing markers; per column its type, date formats and unit), each overridable, and a
preview of the parsed rows; and, back from the page, the overrides those controls describe."""

from __future__ import annotations

from dash import dcc, html

from components.upload_view import cell, data_table, notes_view
from datasets.ingest.detect import DELIMITER_NAMES, ENCODINGS, TYPES
from i18n import messages, t

PREVIEW_SHOWN = 12
THOUSANDS = ("", ",", ".", " ", "'")
TEXT_FORMATS = {"csv", "json", "ndjson", "geojson"}
TEMPORAL = {"date", "timestamp", "time"}
STRUCTURE = ("encoding", "delimiter", "header_line", "sheet")  # change the columns themselves


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


def _text_controls(fmt: str, shown: dict, lang: str) -> list:
    """Encoding (text formats) and delimiter (CSV): a value the lists lack is added to them."""
    controls = []
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
    return controls


def _value_controls(shown: dict, lang: str) -> list:
    """How numbers and missing values are written (every format but Parquet)."""
    return [
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


def _layout_controls(fmt: str, shown: dict, sheets: list, lang: str) -> list:
    """The header row (CSV, Excel) and the sheet (Excel with several)."""
    controls = []
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
    if fmt == "xlsx" and len(sheets) > 1:
        controls.append(
            _setting(
                "sheet",
                t("upload.sheet", lang),
                _dropdown("sheet", [{"label": s, "value": s} for s in sheets], shown["sheet"]),
            )
        )
    return controls


def detection_view(state: dict, lang: str):
    inspection = state.get("inspection") or {}
    detected = inspection.get("settings") or {}
    shown = setting_control_values(shown_settings(state))
    fmt = detected.get("format", "")
    controls = [
        _setting("format", t("upload.format", lang), html.Span(fmt.upper(), className="pill")),
        *_text_controls(fmt, shown, lang),
        *(_value_controls(shown, lang) if fmt != "parquet" else []),
        *_layout_controls(fmt, shown, detected.get("sheets") or [], lang),
    ]
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


# -- from the controls to the pipeline's arguments (pure) ------------------------------------------


def allowed(name: str, value, inspection: dict) -> bool:
    """Whether a setting sent by the page is one the controls offer (the request is the
    browser's: anything may arrive)."""
    if not isinstance(value, str):
        return False
    if name == "encoding":
        return value in ENCODINGS
    if name == "delimiter":
        return len(value) == 1 and value not in '\r\n"'
    if name == "decimal":
        return value in {".", ","}
    if name == "thousands":
        return value in THOUSANDS
    if name == "sheet":
        return value in ((inspection.get("settings") or {}).get("sheets") or [])
    return False


def overrides_from(
    state: dict,
    settings: dict[str, object],
    types: dict[int, str],
    formats: dict[int, str],
    units: dict[int, str],
) -> dict:
    """The overrides to read the file with: the analyst's earlier ones, plus every control
    whose value differs from what was detected. A change of encoding, delimiter, header row or
    sheet changes the columns, so per-column overrides are then dropped."""
    inspection = state.get("inspection") or {}
    detected = setting_control_values(inspection.get("settings") or {})
    out = {k: v for k, v in (state.get("overrides") or {}).items() if k != "kind"}
    structure_changed = False
    for name, value in settings.items():
        if value is None or name not in detected:
            continue
        if name == "header_line":
            try:
                line = min(max(0, int(value)), 100_000)
            except (TypeError, ValueError):
                continue
            if line != detected["header_line"]:
                out["has_header"] = line > 0
                out["skip_lines"] = max(0, line - 1)
                structure_changed = True
        elif name == "missing":
            markers = [m.strip() for m in str(value).split(",") if m.strip()]
            if ", ".join(markers) != detected["missing"]:
                out["missing"] = markers
        elif value != detected[name] and allowed(name, value, inspection):
            out[name] = value
            structure_changed = structure_changed or name in STRUCTURE
    if structure_changed:
        for key in ("types", "formats", "units"):
            out.pop(key, None)
        return out
    by_index = {c["index"]: c for c in inspection.get("columns") or []}
    for key, given, current in (
        ("types", types, lambda c: c["type"]),
        ("formats", formats, lambda c: ", ".join(c.get("formats") or [])),
        ("units", units, lambda c: c.get("unit") or ""),
    ):
        merged = dict(out.get(key) or {})
        for index, value in given.items():
            column = by_index.get(index)
            if column is None or value is None or value == current(column):
                continue
            if key == "types" and value not in TYPES:
                continue
            if key == "formats":
                merged[column["name"]] = [f.strip() for f in str(value).split(",") if f.strip()]
            else:
                merged[column["name"]] = str(value).strip()
        if merged:
            out[key] = merged
    return out
