"""`/data/upload`: analysts bring their own files.

The file streams from the browser to `POST /upload` (`receive`); the server reads it with the
ingest pipeline in a background thread; the page polls the job (`panel`) and shows, each
overridable: the detection and a preview of the parsed rows (`detect`), the mapping onto a kind
(`mapping`), and the validation report (`report`). Then: publish as a new dataset or a new
version of one (append or replace), or cancel (`publish`); the city the dataset is filed under is
chosen beside the file (`city`). Every callback that changes anything checks the session on the
server and that the job is the analyst's own (`room`).
"""

from __future__ import annotations

from dash import dcc, html

from components.kpi import page_header
from components.page import Page, PageContext
from datasets.ingest import Limits
from i18n import t
from server.auth import analyst_bar, current_analyst
from server.upload_jobs import Jobs

from ..services import Services
from . import city, mapping, panel, publish, receive, report
from .room import PATH, Room, visitor

POLL_MS = 500


def layout(ctx: PageContext):
    lang = ctx.lang
    header = page_header(t("upload.title", lang), t("upload.subtitle", lang))
    if current_analyst() is None:
        return html.Div([header, analyst_bar(lang, PATH), visitor(lang)], className="page-upload")
    drop = receive.drop_zone(lang, receive.jobs().limits.max_bytes)
    return html.Div(
        [
            header,
            analyst_bar(lang, PATH),
            city.city_chooser(ctx.workspace.cities, ctx.city.id, lang),
            html.Section(drop, className="card upload-drop-card"),
            html.Div(id="upload-status", className="upload-status", **{"aria-live": "polite"}),
            html.Div(id="upload-panel", className="upload-panel"),
            dcc.Store(id="upload-job", storage_type="session"),
            dcc.Store(id="upload-rendered", storage_type="memory"),
            dcc.Interval(id="upload-poll", interval=POLL_MS, disabled=True),
        ],
        className="page-upload",
    )


PAGE = Page(
    path=PATH,
    nav="nav.data",
    title="upload.title",
    layout=layout,
    filters=False,
    in_nav=False,
)
PAGES = (PAGE,)


def register(app, services: Services) -> Jobs:
    """The upload routes and the page's callbacks; returns the upload jobs' store."""
    cfg, workspace = services.cfg, services.workspace
    store = Jobs(workspace, Limits.from_config(cfg))
    receive.register_routes(app.server, store)
    room = Room(workspace=workspace, jobs=store, default_city=cfg.city)
    for step in (panel, mapping, report, city, publish):
        step.register(app, room)
    return store
