"""What the present room's tests share: the context slides are drawn in, on the demo city, and a
deck store of their own."""

from __future__ import annotations

import pytest

import components.slides  # noqa: F401  (registers the deck's own charts)
import pages.ecology
import pages.traffic  # noqa: F401  (registers the dashboard's charts)
from components.charts import ChartContext
from components.routing import filters_from_data
from datasets.decks import DeckStore


@pytest.fixture(scope="module")
def make_context(demo_workspace, demo_city):
    def make(filters: dict, ui: dict, option):
        return ChartContext(
            lang=ui.get("lang", "en"),
            theme=ui.get("theme", "light"),
            city=demo_city,
            option=option,
            page_options=filters.get("options") or {},
            engine=demo_workspace.engine,
            filters=filters_from_data(filters),
        )

    return make


@pytest.fixture
def store(tmp_path) -> DeckStore:
    return DeckStore(tmp_path / "decks")
