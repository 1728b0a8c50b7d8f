"""The pieces every step of the upload page draws with: pure functions of a job's state (plain
JSON from `server.upload_jobs`) and the viewer's language, returning Dash components. The steps
themselves are drawn in `pages/upload/`.

Everything that comes from the file (names, cells, messages quoting cells) is passed as a
string child of a component, which React renders as text: a cell `<img src=x onerror=…>` shows
as those characters. No markdown, no `dangerously_allow_html`.
"""

from __future__ import annotations

import re

from dash import html

from i18n import messages, t


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


def transfer_row(
    row_id: str, bar_id: str, fill_id: str, text_id: str, label: str | None = None
) -> html.Div:
    """A file's transfer bar, hidden until a drop zone's script (`assets/upload.js`) sends a
    file and fills it."""
    return html.Div(
        ([html.Span(label, className="progress-label")] if label else [])
        + [
            html.Div(
                html.Div(id=fill_id, className="progress-fill"),
                className="progress",
                role="progressbar",
                id=bar_id,
                **{"aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0"},
            ),
            html.Span(id=text_id, className="progress-value"),
        ],
        className="progress-row",
        id=row_id,
        hidden=True,
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


def notes_view(notes: list[str], lang: str):
    if not notes:
        return None
    return html.Ul([html.Li(cell(n)) for n in notes], className="upload-notes muted small")
