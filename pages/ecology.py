"""Stub: replaced by the real page."""

from dash import html

from i18n import t

from . import Page


def layout(ctx):
    return html.H1(t("nav.ecology", ctx.lang))


PAGE = Page(path="/ecology", nav="nav.ecology", title="nav.ecology", layout=layout)
