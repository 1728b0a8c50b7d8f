"""Analysts' actions on `/data`: each dataset's versions, with restore, and delete (confirmed).

The section is drawn for analysts only; its callbacks (`pages/data.py`) check the session again
on the server, so a visitor who forges the callback request gets the login notice and nothing
changes.
"""

from __future__ import annotations

from dash import dcc, html

from datasets.catalog import Dataset
from datasets.workspace import Workspace
from i18n import fmt_number, t
from server.auth import analyst_bar, current_analyst


def card_id(dataset_id: str) -> dict:
    return {"type": "ds-card", "id": dataset_id}


def versions_summary_id(dataset_id: str) -> dict:
    return {"type": "ds-versions", "id": dataset_id}


def versions_rows_id(dataset_id: str) -> dict:
    return {"type": "ds-versions-rows", "id": dataset_id}


def versions_table(workspace: Workspace, dataset: Dataset, lang: str):
    rows = []
    for v in reversed(workspace.catalog.versions(dataset.id)):
        current = v.version == dataset.current_version
        action = (
            html.Span(t("versions.current", lang), className="pill current-pill")
            if current
            else html.Button(
                t("versions.restore", lang),
                id={"type": "ds-restore", "id": dataset.id, "v": v.version},
                className="btn btn-small",
                n_clicks=0,
            )
        )
        rows.append(
            html.Tr(
                [
                    html.Td(f"v{v.version}"),
                    html.Td(v.created_at[:16].replace("T", " ")),
                    html.Td(t(f"versions.mode.{v.mode}", lang)),
                    html.Td(fmt_number(v.rows, lang)),
                    html.Td(v.note, className="muted"),
                    html.Td(action),
                ],
                className="current" if current else None,
            )
        )
    head = ("versions.version", "versions.date", "versions.mode", "data.rows", "versions.note", "")
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(t(k, lang) if k else "") for k in head])),
            html.Tbody(rows),
        ],
        className="data-table versions-table",
    )


def analyst_actions(
    workspace: Workspace, dataset: Dataset, lang: str, analyst: str | None, message: str = ""
):
    """Versions (restore) and delete, for an `analyst`; nothing for a visitor (None). The versions'
    table is drawn when opened (`pages/data.py`), as /data's previews are; open
    with a message after an action, it comes drawn."""
    if analyst is None:
        return None
    return html.Details(
        [
            html.Summary(
                t("versions.title", lang, n=len(workspace.catalog.versions(dataset.id))),
                id=versions_summary_id(dataset.id),
                n_clicks=0,
            ),
            html.Div(
                versions_table(workspace, dataset, lang) if message else None,
                id=versions_rows_id(dataset.id),
                className="table-wrap",
            ),
            html.Div(
                [
                    dcc.ConfirmDialogProvider(
                        html.Button(
                            t("versions.delete", lang),
                            className="btn btn-small btn-danger",
                            id=f"delete-{dataset.id}",
                        ),
                        id={"type": "ds-delete", "id": dataset.id},
                        message=t("versions.delete_confirm", lang, title=dataset.title(lang)),
                    ),
                ],
                className="dataset-actions",
            ),
            html.P(message, className="versions-message", role="status") if message else None,
        ],
        className="analyst-actions",
        open=bool(message),
    )


def catalog_tools(lang: str):
    """The top of /data: who is signed in, and the way to upload."""
    tools = [analyst_bar(lang, "/data")]
    if current_analyst() is not None:
        tools.append(
            html.A(
                t("versions.upload", lang),
                href="/data/upload",
                className="btn btn-primary",
                id="data-upload-link",
            )
        )
    return html.Div(tools, className="catalog-tools")
