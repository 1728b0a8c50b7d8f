"""The one period of a page: its default, the presets, the comparison period, the period line
of the filter bar and the KPI wording that follows the comparison."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from components.charts import ChartContext
from components.period import fmt_period, period_line, with_default_period
from components.state import ViewState
from datasets.period import comparison_period, default_period, preset_period, year_earlier
from datasets.queries import traffic as q
from datasets.query import Filters
from i18n import t
from pages.traffic import kpi_row

D = dt.date
FIRST, LAST = D(2017, 1, 1), D(2017, 12, 31)


def texts(tree) -> list[str]:
    """Every string of a component tree, in order."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, list | tuple):
        return [s for item in tree for s in texts(item)]
    return texts(getattr(tree, "children", None)) if tree is not None else []


def links(tree) -> dict[str, str]:
    """The href of each element with an id in a component tree."""
    found = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif node is not None and not isinstance(node, str):
            if getattr(node, "href", None):
                found[node.id] = node.href
            stack.append(getattr(node, "children", None))
    return found


# -- default period, presets, comparison ----------------------------------------------------------


def test_the_default_period_is_the_last_30_days_of_the_data():
    assert default_period(FIRST, LAST) == (D(2017, 12, 2), LAST)
    assert default_period(D(2017, 12, 20), LAST) == (D(2017, 12, 20), LAST)  # shorter data
    assert default_period(None, None) is None


@pytest.mark.parametrize(
    ("name", "last", "expected"),
    [
        ("last7", LAST, (D(2017, 12, 25), LAST)),
        ("last30", LAST, (D(2017, 12, 2), LAST)),
        ("month", D(2017, 11, 30), (D(2017, 11, 1), D(2017, 11, 30))),
        ("month", D(2016, 2, 29), (D(2016, 2, 1), D(2016, 2, 29))),  # a leap February
        ("quarter", LAST, (D(2017, 10, 1), LAST)),
        ("quarter", D(2017, 3, 31), (D(2017, 1, 1), D(2017, 3, 31))),
        ("quarter", D(2017, 7, 1), (D(2017, 7, 1), D(2017, 7, 1))),  # a quarter's first day
        ("year", D(2017, 6, 30), (D(2017, 1, 1), D(2017, 6, 30))),
    ],
)
def test_presets_count_back_from_the_data_s_last_day(name, last, expected):
    assert preset_period(name, D(2010, 1, 1), last) == expected


def test_presets_stay_within_the_data():
    assert preset_period("year", D(2017, 3, 15), LAST) == (D(2017, 3, 15), LAST)
    # the same period a year earlier lies wholly before data that start in 2017
    assert preset_period("last_year", FIRST, LAST, (D(2017, 11, 1), D(2017, 11, 30))) is None
    assert preset_period("nonsense", FIRST, LAST) is None
    assert preset_period("last7", None, None) is None


def test_same_period_last_year_of_a_leap_day():
    assert year_earlier(D(2016, 2, 29)) == D(2015, 2, 28)
    assert preset_period(
        "last_year", D(2010, 1, 1), D(2016, 3, 31), (D(2016, 2, 1), D(2016, 2, 29))
    ) == (
        D(2015, 2, 1),
        D(2015, 2, 28),
    )


@pytest.mark.parametrize(
    ("period", "comparison", "expected"),
    [
        ((D(2017, 11, 1), D(2017, 11, 30)), "prev", (D(2017, 10, 2), D(2017, 10, 31))),
        ((D(2017, 3, 1), D(2017, 3, 31)), "prev", (D(2017, 1, 29), D(2017, 2, 28))),
        ((D(2016, 3, 1), D(2016, 3, 31)), "prev", (D(2016, 1, 30), D(2016, 2, 29))),
        ((D(2017, 11, 1), D(2017, 11, 30)), "yoy", (D(2016, 11, 1), D(2016, 11, 30))),
        ((D(2016, 2, 1), D(2016, 2, 29)), "yoy", (D(2015, 2, 1), D(2015, 2, 28))),
        ((D(2017, 1, 1), D(2017, 3, 31)), "yoy", (D(2016, 1, 1), D(2016, 3, 31))),
    ],
)
def test_comparison_periods(period, comparison, expected):
    assert comparison_period(*period, comparison) == expected
    assert Filters(*period, (330106,)).previous(comparison) == Filters(*expected, (330106,))


def test_a_view_without_dates_shows_the_default_period_and_one_with_dates_its_own():
    assert with_default_period(ViewState(), FIRST, LAST).start == D(2017, 12, 2)
    chosen = ViewState(start=D(2017, 3, 1), end=D(2017, 3, 31))
    assert with_default_period(chosen, FIRST, LAST) == chosen
    assert with_default_period(ViewState(), None, None) == ViewState()


# -- the period line of the filter bar ------------------------------------------------------------


def test_the_period_line_states_the_period_and_links_presets_and_comparisons():
    linked = ViewState.from_query("?district=330106&lang=fr")
    line = period_line(linked, (D(2017, 12, 2), LAST), (FIRST, LAST), "fr", "/traffic")
    statement = texts(line[0])[0]
    assert fmt_period(D(2017, 12, 2), LAST, "fr") in statement
    assert "par rapport aux 30 jours précédents" in statement
    hrefs = links(line)
    assert hrefs["preset-last7"] == "/traffic?from=2017-12-25&to=2017-12-31&district=330106&lang=fr"
    assert hrefs["preset-quarter"].startswith("/traffic?from=2017-10-01&to=2017-12-31")
    assert "preset-last_year" not in hrefs  # 2016 is not in the data
    assert hrefs["cmp-yoy"] == "/traffic?district=330106&cmp=yoy&lang=fr"  # no dates added
    assert hrefs["cmp-prev"] == "/traffic?district=330106&lang=fr"
    yoy = period_line(
        ViewState.from_query("?cmp=yoy"), (D(2017, 12, 2), LAST), (FIRST, LAST), "en", "/"
    )
    assert "compared with the same period last year" in texts(yoy[0])[0]


# -- the KPI block follows the period and the comparison ------------------------------------------


@pytest.fixture(scope="module")
def context(demo_workspace, demo_city):
    def make(filters: Filters, **options: str) -> ChartContext:
        return ChartContext(
            lang="en",
            theme="light",
            city=demo_city,
            page_options=options,
            engine=demo_workspace.engine,
            filters=filters,
        )

    return make


NOVEMBER = Filters(D(2017, 11, 1), D(2017, 11, 30))


def test_kpis_compare_with_the_period_the_link_names(context):
    before = q.kpis(context(NOVEMBER).engine, context(NOVEMBER).city.id, NOVEMBER, "prev")
    assert before.iloc[1]["start"] == D(2017, 10, 2)
    shown = " ".join(texts(kpi_row(context(NOVEMBER))))
    assert "vs the previous 30 days" in shown
    assert fmt_period(D(2017, 10, 2), D(2017, 10, 31), "en") in shown


def test_kpis_of_a_year_without_an_earlier_one_say_so_once(context):
    shown = texts(kpi_row(context(NOVEMBER, cmp="yoy")))
    assert sum("no earlier period" in text for text in shown) == 1, shown
    assert not any(t("kpi.no_trend", "en") in text for text in shown)
    assert not any("vs the previous" in text for text in shown)


def test_kpis_of_a_district_without_data_say_so(context, demo_workspace, demo_city):
    folder = demo_workspace.catalog.find(demo_city.id, "traffic_detectors").folder
    measured = set(pd.read_parquet(folder)["district"])
    empty = next(d.code for d in demo_city.districts if d.code not in measured)
    shown = texts(kpi_row(context(Filters(NOVEMBER.start, NOVEMBER.end, (empty,)))))
    # speed, travel time and incidents come from the detectors; emergency runs cross it
    assert sum(text == "no data in this district" for text in shown) == 3, shown
    assert "0" not in shown
    assert not any(t("kpi.no_trend", "en") in text for text in shown)
