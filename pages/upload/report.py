"""The validation step of `/data/upload`: the report of reading the whole file as the chosen
kind (its verdict, counts, problems and columns), with the date orders the file leaves open asked
as questions whose answers check the file again."""

from __future__ import annotations

import datetime as dt
from functools import partial

from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from components.state import ui_settings
from components.upload_view import cell, data_table, kind_label, notes_view, status_view
from i18n import fmt_date, fmt_number, t
from server.auth import current_analyst
from server.upload_jobs import JobError

from .room import Room, chosen_city, error_line, job_or_refusal, refusal_text

PROBLEMS_SHOWN = 20
ANSWERS = ("mdy", "dmy")  # the answers to a date question: month first, day first


def _count(key: str, value: int, lang: str, bad: bool = False):
    return html.Div(
        [html.Dt(t(key, lang)), html.Dd(fmt_number(value, lang))],
        className="fact" + (" bad" if bad and value else ""),
    )


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


def _summary(report: dict, lang: str) -> list:
    """The verdict, the date questions the file leaves open, and the counts."""
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
    return [
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


def _coverage(report: dict, lang: str):
    return html.P(
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


def _problems(report: dict, lang: str) -> list:
    """The first problems found, and how many more there are."""
    problems = report.get("problems") or []
    if not problems:
        return []
    shown = problems[:PROBLEMS_SHOWN]
    parts = [
        html.H3(t("upload.problems", lang)),
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
        ),
    ]
    if report.get("problem_count", 0) > len(shown):
        parts.append(
            html.P(
                t("upload.more_problems", lang, n=fmt_number(report["problem_count"], lang)),
                className="muted",
            )
        )
    return parts


def _columns_table(report: dict, lang: str):
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
    return data_table(
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
    parts = _summary(report, lang)
    if report.get("time_min"):
        parts.append(_coverage(report, lang))
    parts += _problems(report, lang)
    if report.get("duplicates"):
        examples = "; ".join(
            " = ".join(str(n) for n in group) for group in report.get("duplicate_examples") or []
        )
        parts.append(html.P(t("upload.duplicate_lines", lang, lines=examples), className="muted"))
    parts.append(_columns_table(report, lang))
    if report.get("unmapped") and report.get("kind") != "generic":
        parts.append(
            html.P(
                t("upload.unmapped", lang, columns=", ".join(cell(c) for c in report["unmapped"])),
                className="muted",
            )
        )
    parts.append(notes_view(report.get("notes") or [], lang))
    return html.Section(parts, className="card upload-section upload-report")


# -- answering a date question -------------------------------------------------------------------


def date_order_overrides(state: dict, index: object, order: object) -> dict | None:
    """The overrides that answer the report's date question `index` with `order` (`mdy` or
    `dmy`): that column's formats read so; None when no such question is open."""
    questions = (state.get("report") or {}).get("questions") or []
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(questions):
        return None
    formats = (questions[index].get("formats") or {}).get(order) if order in ANSWERS else None
    if not formats:
        return None
    out = {k: v for k, v in (state.get("overrides") or {}).items() if k != "kind"}
    out["formats"] = {**(out.get("formats") or {}), questions[index]["source"]: list(formats)}
    return out


def answer_date_order(
    room: Room,
    analyst: str | None,
    *,
    button: object,
    clicked: bool,
    city: object,
    data: dict | None,
    ui: dict | None,
) -> tuple[object, object]:
    """(status, poll disabled) once the file is checked again with the date order of the
    answer `button` (its id, `{"q": question, "order": "mdy" | "dmy"}`) that was `clicked`."""
    # drawn buttons call this too, with no click: only a click on one is an answer
    if not isinstance(button, dict) or not clicked:
        raise PreventUpdate
    lang = ui_settings(ui)["lang"]
    job, refusal = job_or_refusal(room, analyst, data, lang)
    if refusal is not None:
        return refusal, True
    state = job.read()
    overrides = date_order_overrides(state, button.get("q"), button.get("order"))
    if overrides is None:
        raise PreventUpdate
    mapping = state.get("mapping") or None
    kind = (mapping or {}).get("kind")
    try:
        room.jobs.check(job, overrides, mapping, kind, chosen_city(room, city, ui))
    except JobError as exc:
        return error_line(refusal_text(exc, lang)), no_update
    return status_view(job.read(), lang), False


def _date_order_request(room: Room, clicks, city, data, ui):
    return answer_date_order(
        room,
        current_analyst(),
        button=ctx.triggered_id,
        clicked=bool(ctx.triggered and ctx.triggered[0].get("value")),
        city=city,
        data=data,
        ui=ui,
    )


def register(app, room: Room) -> None:
    app.callback(
        Output("upload-status", "children", allow_duplicate=True),
        Output("upload-poll", "disabled", allow_duplicate=True),
        inputs=dict(clicks=Input({"type": "up-date-order", "q": ALL, "order": ALL}, "n_clicks")),
        state=dict(
            city=State("upload-city", "value"),
            data=State("upload-job", "data"),
            ui=State("ui", "data"),
        ),
        prevent_initial_call=True,
    )(partial(_date_order_request, room))
