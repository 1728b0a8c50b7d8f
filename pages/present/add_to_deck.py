""" "Add to deck" on every chart card (`components/charts.py` draws the button): the view
(filters, city, page options) and the chart's option go to a draft kept in the browser
(`assets/present.js`, localStorage) until the deck editor saves it as a deck. Nothing reaches the
server, so a visitor may collect slides before logging in."""

from __future__ import annotations

from dash import MATCH, Dash, Input, Output, State

DRAFT_KEY = "citylens.deck.draft"  # localStorage key of the slides "add to deck" collected

ADD_TO_DRAFT = """function(n, option, search, label, cid) {
    if (!n || !window.CityLensPresent) { return window.dash_clientside.no_update; }
    return window.CityLensPresent.addToDraft(cid.id, option, search, label);
}"""


def register(app: Dash) -> None:
    app.clientside_callback(
        ADD_TO_DRAFT,
        Output({"type": "chart-add-to-deck", "id": MATCH}, "children"),
        Input({"type": "chart-add-to-deck", "id": MATCH}, "n_clicks"),
        State({"type": "chart-option", "id": MATCH}, "value"),
        State("url", "search"),
        State({"type": "chart-add-to-deck", "id": MATCH}, "children"),
        State({"type": "chart-add-to-deck", "id": MATCH}, "id"),
        prevent_initial_call=True,
    )
