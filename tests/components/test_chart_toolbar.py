"""Every graph of every page is configured alike, offline: no control that sends a chart out of
the app, downloads at projector size; every chart card shows its toolbar."""

from __future__ import annotations

import pytest
from dash import dcc, html

import app as app_module
import config
from components.charts import graph_config
from components.state import ViewState

LANGS = ("en", "zh")
SLIDE_OVERRIDES = {"displayModeBar", "staticPlot"}  # what a slide may set on top of the config


@pytest.fixture(scope="module")
def site(demo_workspace):
    cfg = config.Config(data_dir=demo_workspace.data_dir)
    return app_module.create_app(cfg, demo_workspace).site


def page_paths(site, workspace) -> list[tuple[object, str]]:
    """Each page with a path it answers: the explorer's with the first dataset's."""
    first = workspace.catalog.datasets()[0].id
    return [
        (page, f"{page.path.rstrip('/')}/{first}" if page.prefix else page.path)
        for page in site.pages
    ]


def rendered(site, workspace, lang: str) -> dict[str, list]:
    """Every component of every page's layout, by path."""
    ui = {"lang": lang, "theme": "light", "city": config.Config().city}
    out = {}
    for page, path in page_paths(site, workspace):
        content, options = site.render_page(page, ViewState(lang=lang), ui, path)
        out[path] = list(html.Div([content, options])._traverse())
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_every_graph_of_every_page_has_the_shared_offline_config(site, demo_workspace, lang):
    shared = graph_config(lang, "chart")
    graphs = {
        path: [c for c in components if isinstance(c, dcc.Graph)]
        for path, components in rendered(site, demo_workspace, lang).items()
    }
    ids = {str(g.id) for found in graphs.values() for g in found}
    # the walk reaches the cards, the explorer and the slides of the presenter's two windows
    assert {"explorer-graph", "present-graph", "presenter-graph", "presenter-next-graph"} <= ids
    assert len(graphs["/traffic"]) >= 8 and len(graphs["/ecology"]) >= 8
    for path, found in graphs.items():
        for graph in found:
            where = f"{path} {graph.id}"
            conf = graph.config
            assert set(conf) - set(shared) <= SLIDE_OVERRIDES, where
            for key, value in shared.items():
                if key != "toImageButtonOptions":
                    assert conf[key] == value, where
            # plotly.js 4 shows "Share chart..." unless told not to, and uploads to its cloud
            assert conf.get("showSendToCloud") is False, where
            assert conf.get("plotlyServerURL") == "", where
            assert "sendChartToCloud" in conf["modeBarButtonsToRemove"], where
            assert not conf.get("showEditInChartStudio") and not conf.get("showLink"), where
            image = conf["toImageButtonOptions"]
            assert (image.get("width"), image.get("height"), image.get("scale")) == (1920, 1080, 1)


def test_every_chart_card_shows_downloads_link_and_add_to_deck(site, demo_workspace):
    words = {
        "en": ("PNG", "SVG", "Copy link to this view", "Add to deck"),
        "zh": ("PNG", "SVG", "复制此视图的链接", "加入演示"),
    }
    for lang in LANGS:
        pages = rendered(site, demo_workspace, lang)
        with_cards = set()
        for path, components in pages.items():
            cards = [c for c in components if "chart-card" in (getattr(c, "className", "") or "")]
            for card in cards:
                toolbars = [
                    c for c in card._traverse() if getattr(c, "className", None) == "chart-toolbar"
                ]
                assert len(toolbars) == 1, (path, card.id)
                buttons = [c for c in toolbars[0].children if isinstance(c, html.Button)]
                labels = [b.children for b in buttons]
                for word in words[lang]:
                    assert word in labels, (path, card.id, labels)
                actions = {getattr(b, "data-chart-action", None) for b in buttons}
                assert {"png", "svg", "link"} <= actions
                ids = [getattr(b, "id", None) for b in buttons]
                deck = {"type": "chart-add-to-deck", "id": card.id[len("card-") :]}
                assert (deck if card.id != "card-explorer" else "explorer-add-to-deck") in ids
                with_cards.add(card.id)
        assert {"card-traffic-volume-speed", "card-explorer"} <= with_cards
