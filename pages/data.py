"""Stub: replaced by the real page."""

from dash import html

from i18n import t

from . import Page


def layout(ctx):
    return html.H1(t("nav.data", ctx.lang))


PAGE = Page(path="/data", nav="nav.data", title="nav.data", layout=layout)
