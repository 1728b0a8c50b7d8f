"""The app shell as served: preloaded graph scripts, the city menu's first state."""

from __future__ import annotations

import re

import app as app_module
import config
from datasets.workspace import Workspace


def make_app(tmp_path):
    cfg = config.Config(data_dir=tmp_path)
    return app_module.create_app(cfg, Workspace.open(tmp_path))


def test_graph_scripts_are_preloaded_from_paths_the_app_serves(tmp_path):
    client = make_app(tmp_path).server.test_client()
    html = client.get("/traffic").get_data(as_text=True)
    links = re.findall(r'<link rel="preload" as="script" href="([^"]+)">', html)
    assert [link.rsplit("/", 1)[1] for link in links] == ["async-graph.js", "plotly.min.js"]
    for link in links:
        response = client.get(link)
        assert response.status_code == 200
        assert len(response.get_data()) > 1000


def test_city_menu_starts_on_the_default_city_among_its_options(tmp_path):
    app = make_app(tmp_path)
    menu = next(c for c in app.layout()._traverse() if getattr(c, "id", None) == "city-select")
    assert menu.value == config.Config().city
    assert menu.value in [option["value"] for option in menu.options]
