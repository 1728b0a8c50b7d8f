"""The city an upload is filed under: chosen on `/data/upload` (the viewed city at first), with
warnings when the file's places lie outside it."""

from __future__ import annotations

from functools import partial

from dash import Input, Output, State, dcc, html

from components.state import ui_settings
from datasets.cities import CityProfile
from datasets.ingest.place_check import PlaceWarning
from i18n import fmt_number, t
from server.auth import current_analyst

from .room import Room, chosen_city, owned_job


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


def place(
    room: Room, analyst: str | None, *, city: object, data: dict | None, ui: dict | None
) -> object:
    """The warnings of the page's file for the city chosen (nothing without a job)."""
    job = owned_job(room, analyst, data)
    if job is None:
        return []
    profile = room.workspace.cities[chosen_city(room, city, ui)]
    return place_view(room.jobs.place_warnings(job, profile), profile, ui_settings(ui)["lang"])


def _place_request(room: Room, city, rendered, data, ui):
    return place(room, current_analyst(), city=city, data=data, ui=ui)


def register(app, room: Room) -> None:
    app.callback(
        Output("upload-place", "children"),
        inputs=dict(city=Input("upload-city", "value"), rendered=Input("upload-rendered", "data")),
        state=dict(data=State("upload-job", "data"), ui=State("ui", "data")),
    )(partial(_place_request, room))
