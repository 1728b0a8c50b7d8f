"""What every callback of `/evaluate` is given, and the lookups they share: the city a request
is about, its interventions (the demo's signal pilot first), and one of them by an id the
browser sent, which is only ever matched against the city's own list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dash import html

from components.state import ui_settings
from datasets.cities import CityProfile
from datasets.evidence.interventions import InterventionStore, pilot_id, pilot_intervention
from datasets.evidence.model import Intervention
from datasets.workspace import Workspace
from i18n import t

log = logging.getLogger(__name__)

PATH = "/evaluate"
PARAM = "intervention"  # ?intervention=<id>
MAX_ID = 80  # longer than any id the store makes (a slug of 48 and a suffix)


@dataclass(frozen=True)
class Room:
    workspace: Workspace
    default_city: str  # the configured city, shown when the viewer's is unknown

    def store(self) -> InterventionStore:
        return InterventionStore(self.workspace.data_dir)


def city_of(room: Room, ui: object) -> CityProfile:
    """The city a callback's request is about (the `ui` store's), else the configured one."""
    city = ui_settings(ui)["city"]
    return room.workspace.city(city if city in room.workspace.cities else room.default_city)


def interventions(workspace: Workspace, city: CityProfile) -> list[Intervention]:
    """The city's interventions: the demo's signal pilot first, then the stored ones, newest
    first."""
    pilot = pilot_intervention(workspace, city)
    stored = InterventionStore(workspace.data_dir).list(city.id)
    rest = [iv for iv in stored if pilot is None or iv.id != pilot.id]
    return ([pilot] if pilot is not None else []) + rest


def record_pilots(workspace: Workspace) -> None:
    """Record each city's signal pilot (`pilot_intervention` stores it on first use) before any
    request, so that a visitor's never writes to the data folder. A city whose pilot cannot be
    read is logged and left without one."""
    for city in workspace.cities.values():
        try:
            pilot_intervention(workspace, city)
        except Exception:  # the room must start whatever one city's data hold
            log.exception("the signal pilot of %s could not be recorded", city.id)


def clean_id(raw: object) -> str | None:
    """An id as the browser sent it, if it could be one (text of a sane length)."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_ID:
        return None
    return raw


def find(workspace: Workspace, city: CityProfile, raw: object) -> Intervention | None:
    """The city's intervention of that id; None for anything else."""
    wanted = clean_id(raw)
    if wanted is None:
        return None
    return next((iv for iv in interventions(workspace, city) if iv.id == wanted), None)


def is_pilot(iv: Intervention) -> bool:
    return iv.id == pilot_id(iv.city)


def display_name(iv: Intervention, lang: str) -> str:
    """The pilot's name in the viewer's language; an analyst's as typed."""
    return t("evaluate.pilot_name", lang) if is_pilot(iv) else iv.name


def notice(text: str, role: str = "status") -> html.P:
    return html.P(text, className="evaluate-notice", role=role)


def error_line(text: str) -> html.P:
    return html.P(text, className="evaluate-error", role="alert")
