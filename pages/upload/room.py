"""What every callback of the upload page is given, and the checks they share: whose job the
page holds, and which city the upload is filed under. A callback gets the analyst of its request
as a value (`current_analyst()`, read by its Dash adapter), so a test can call it as a visitor.
"""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from components.state import ui_settings
from datasets.workspace import Workspace
from i18n import t
from server.auth import visitor_notice
from server.upload_jobs import Job, JobError, Jobs

PATH = "/data/upload"


@dataclass(frozen=True)
class Room:
    workspace: Workspace
    jobs: Jobs
    default_city: str  # the configured city, shown when the viewer's is unknown


def city_of(room: Room, ui: dict | None) -> str:
    city = ui_settings(ui)["city"]
    return city if city in room.workspace.cities else room.default_city


def chosen_city(room: Room, value: object, ui: dict | None) -> str:
    """The city chosen on the page, if it is one the workspace knows; else the viewed one."""
    return value if isinstance(value, str) and value in room.workspace.cities else city_of(room, ui)


def owned_job(room: Room, analyst: str | None, data: dict | None) -> Job | None:
    """The page's job, if it is the analyst's own (None for a visitor)."""
    if analyst is None:
        return None
    token = data.get("token") if isinstance(data, dict) else None
    return room.jobs.get(token if isinstance(token, str) else None, analyst)


def visitor(lang: str):
    return visitor_notice(lang, PATH, "upload.visitor")


def gone(lang: str):
    return html.P(t("upload.gone", lang), className="muted")


def error_line(message: str):
    return html.P(message, className="upload-error", role="alert")


def job_or_refusal(room: Room, analyst: str | None, data: dict | None, lang: str):
    """(the page's job, None), or (None, what the status shows instead: a visitor's log-in
    notice, or the job is gone)."""
    if analyst is None:
        return None, visitor(lang)
    job = owned_job(room, analyst, data)
    if job is None:
        return None, gone(lang)
    return job, None


# Refusals of the job layer, by reason, that the page words in the analyst's language.
REFUSALS = ("busy", "server_busy", "finished", "not_ready", "disk")


def refusal_text(exc: JobError, lang: str) -> str:
    """What the page says when a stage is refused (the job layer's English for a reason it does
    not know)."""
    return t(f"upload.refused.{exc.reason}", lang) if exc.reason in REFUSALS else str(exc)
