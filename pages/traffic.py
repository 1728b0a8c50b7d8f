"""Stub: replaced by the real page."""

from dash import html

from i18n import t

from . import Page


def layout(ctx):
    return html.H1(t("nav.traffic", ctx.lang))


PAGE = Page(path="/traffic", nav="nav.traffic", title="nav.traffic", layout=layout)
