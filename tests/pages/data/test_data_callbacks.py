"""The /data callbacks called as plain functions: a preview's rows, and the analysts' versions
table, restore and delete, each refused to a visitor with nothing changed."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from datasets.workspace import Workspace
from pages.data import act, preview_rows, versions_rows
from tests.pages.upload.test_upload_route import publish_two_versions

UI = {"lang": "en"}


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    workspace = Workspace.open(tmp_path)
    publish_two_versions(workspace)  # "counts": v1 of 3 rows, v2 of 5
    return workspace


def text(component) -> str:
    """The component tree as text (a preview comes as wire-ready JSON already)."""
    return str(component if isinstance(component, dict) else component.to_plotly_json())


def test_a_preview_is_drawn_when_opened_and_not_when_closed(workspace):
    trigger = {"type": "ds-preview", "id": "counts"}
    rows = preview_rows(workspace, trigger=trigger, clicks=1, shown=None)
    assert (
        text(rows).count("'type': 'Tr'") == 1 + 5
    )  # the header row and the current version's rows
    with pytest.raises(PreventUpdate):
        preview_rows(workspace, trigger=trigger, clicks=2, shown=rows)
    with pytest.raises(PreventUpdate):
        preview_rows(workspace, trigger={"type": "ds-preview", "id": "nope"}, clicks=1, shown=None)


def test_the_versions_table_is_an_analysts_only(workspace):
    trigger = {"type": "ds-versions", "id": "counts"}
    refused = versions_rows(workspace, None, trigger=trigger, clicks=1, shown=None, ui=UI)
    assert "visitor-notice" in text(refused)
    table = versions_rows(workspace, "ana", trigger=trigger, clicks=1, shown=None, ui=UI)
    assert "v1" in text(table) and "v2" in text(table) and "ds-restore" in text(table)


def test_a_visitor_neither_restores_nor_deletes(workspace):
    for trigger in (
        {"type": "ds-restore", "id": "counts", "v": 1},
        {"type": "ds-delete", "id": "counts"},
    ):
        answer = act(workspace, None, trigger=trigger, clicked=True, ui=UI)
        assert "visitor-notice" in text(answer)
    assert workspace.catalog.get("counts").current_version == 2


def test_an_analyst_restores_then_deletes(workspace):
    restore = {"type": "ds-restore", "id": "counts", "v": 1}
    with pytest.raises(PreventUpdate):  # a button drawn, not clicked
        act(workspace, "ana", trigger=restore, clicked=False, ui=UI)
    card = act(workspace, "ana", trigger=restore, clicked=True, ui=UI)
    assert "Version 1 is current again" in text(card)
    assert workspace.catalog.get("counts").current.rows == 3
    gone = act(workspace, "ana", trigger={"type": "ds-delete", "id": "counts"}, clicked=True, ui=UI)
    assert "was deleted" in text(gone) and workspace.catalog.datasets() == []
