"""Stub: replaced by the real page."""

from dash import html

from i18n import t

from . import Page


def layout(ctx):
    return html.H1(t("nav.overview", ctx.lang))


PAGE = Page(path="/", nav="nav.overview", title="nav.overview", layout=layout)
