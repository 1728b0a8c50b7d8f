"""The checks values from a link, a store or a callback request go through before they are used:
dates within bounds and in order, counts as plain digits within bounds, district codes as whole
numbers of the city, a known language and theme, page options as text, a chart's declared
options, a zoom within real days, the editor's slides as texts, and callback envelopes as their
callback declares them."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from werkzeug.exceptions import NotFound

from components.charts import ChartContext, chart_option, registered, zoomed
from components.explorer_query import Col, spec_from_options, where
from components.routing import clicked_district, filters_from_data, next_state
from components.state import (
    EARLIEST,
    LATEST,
    MAX_COUNT,
    ViewState,
    date_range,
    parse_codes,
    parse_count,
    parse_date,
    ui_settings,
)
from datasets.cities import builtin_city
from datasets.query import Filters
from pages.explorer import dataset_id_of
from pages.present import (
    KIOSK_RELOAD,
    MAX_ADVANCE,
    PresentOptions,
    edited,
    editor_slides,
    merged_slides,
)
from pages.traffic import VOLUME_SPEED
from server.callback_guard import envelope_problem

JUNK = (None, "", "x" * 100_000, "../x", 10**30, -1, math.nan, [], ["2017-03-01"], {}, True)


@pytest.mark.parametrize(
    ("raw", "day"),
    [
        ("2017-03-01", dt.date(2017, 3, 1)),
        ("2017-03-01T00:00:00", dt.date(2017, 3, 1)),
        ("0001-01-01", EARLIEST),
        ("9999-12-31", LATEST),
        ("2017-02-30", None),
        ("not a date", None),
        *((junk, None) for junk in JUNK),
    ],
)
def test_a_day_is_real_and_within_bounds(raw, day):
    assert parse_date(raw) == day


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        *(("3", 3), ("0", 0), ("9" * 5000, MAX_COUNT), ("²", None), ("٣", None)),
        *(("-1", None), ("1e9", None), (" 3", None)),
        *((junk, None) for junk in JUNK),
    ],
)
def test_a_count_in_a_link_is_ascii_digits_within_bounds(raw, count):
    assert parse_count(raw) == count


def test_crafted_counts_in_a_deck_link_fall_back():
    state = ViewState.from_query("?slide=%C2%B2&advance=" + "9" * 5000 + "&kiosk=1&reload=x")
    opts = PresentOptions.from_state(state)
    assert (opts.slide, opts.advance, opts.reload) == (1, MAX_ADVANCE, KIOSK_RELOAD)


def test_the_explorer_s_time_range_stays_within_python_s_dates():
    cols = [Col("ts", "timestamp[s]"), Col("pm25", "double")]
    spec = spec_from_options({"since": "9999-12-31", "until": "0001-01-01"}, cols)
    assert (spec.since, spec.until) == (EARLIEST, LATEST)
    _sql, params = where(spec)  # the day after `until`: no OverflowError
    assert params == [dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)]


def test_both_ends_come_in_order():
    assert date_range("2017-05-01", "2017-04-01") == (dt.date(2017, 4, 1), dt.date(2017, 5, 1))
    assert date_range("2017-05-01", None) == (dt.date(2017, 5, 1), None)


def test_a_link_beyond_python_s_dates_still_gives_a_period_with_a_previous_one():
    state = ViewState.from_query("?from=0001-01-01&to=9999-12-31")
    filters = filters_from_data({"from": "0001-01-01", "to": "9999-12-31"})
    assert (state.start, state.end) == (filters.start, filters.end) == (EARLIEST, LATEST)
    assert filters.previous().start < EARLIEST  # the KPI trend's period: no OverflowError
    assert "2200-01-01" in filters.where("ts")  # the day after the end


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("330106,330105,330106", (330106, 330105)),
        ([330106, "330105", " 330102 "], (330106, 330105, 330102)),
        ("../x,1e99,-5," + "9" * 30, ()),
        ([None, 1.5, True, [330106], {"a": 1}, -3, 10**30], ()),
        *((junk, ()) for junk in JUNK if not isinstance(junk, str | list)),
    ],
)
def test_district_codes_are_whole_numbers_each_once(raw, codes):
    assert parse_codes(raw) == codes


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"lang": "fr", "theme": "dark", "city": "beijing"}, ("fr", "dark", "beijing")),
        ({"lang": "zh-Hans", "theme": "light"}, ("zh", "light", None)),
        ({"lang": "xx", "theme": "../x", "city": "../x"}, ("en", "light", None)),
        ({"lang": ["fr"], "theme": {"a": 1}, "city": 10**30}, ("en", "light", None)),
        *((junk, ("en", "light", None)) for junk in JUNK),
    ],
)
def test_the_ui_store_holds_a_known_language_theme_and_a_city_id(data, expected):
    ui = ui_settings(data)
    assert (ui["lang"], ui["theme"], ui["city"]) == expected


def test_the_filters_store_is_read_like_a_link():
    data = {
        "from": "2017-03-31",
        "to": "2017-03-01",
        "district": ["330106", "../x", 5],
        "options": {"aqi": "epa", "x": ["list"], "y": 10**30, "ds_air": {"a": 1}},
    }
    state = ViewState.from_filters(data)
    assert (state.start, state.end) == (dt.date(2017, 3, 1), dt.date(2017, 3, 31))
    assert state.districts == (330106, 5)
    assert state.options == {"aqi": "epa"}
    for junk in JUNK:
        assert ViewState.from_filters(junk) == ViewState()
        assert ViewState.from_filters({"options": junk, "district": junk}) == ViewState()


def test_a_view_is_brought_within_the_data_and_the_city_s_districts():
    state = ViewState(start=EARLIEST, end=LATEST, districts=(330106, 1, 330105), options={"a": "b"})
    inside = state.within(dt.date(2017, 1, 1), dt.date(2017, 12, 31), [330105, 330106])
    assert (inside.start, inside.end) == (dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert inside.districts == (330106, 330105) and inside.options == {"a": "b"}
    later = ViewState(start=dt.date(2030, 1, 1), end=dt.date(2030, 2, 1))
    assert later.within(dt.date(2017, 1, 1), dt.date(2017, 12, 31)) == later  # shows "no data"
    overlapping = ViewState(start=dt.date(2017, 12, 1), end=LATEST)
    assert overlapping.within(None, dt.date(2017, 12, 31)).end == dt.date(2017, 12, 31)
    assert ViewState(start=EARLIEST).within(None, None) == ViewState(start=EARLIEST)
    assert filters_from_data({"district": [330106, 1]}, [330106]).districts == (330106,)


@pytest.mark.parametrize(
    "click",
    [
        {"points": "x"},
        {"points": [None]},
        {"points": [{"location": [330106]}]},
        {"points": [{"customdata": "330106"}]},
        {"points": [{"location": "../x"}]},
        {"points": [{"location": 10**30}]},
        *JUNK,
    ],
)
def test_a_crafted_map_click_filters_nothing(click):
    assert clicked_district(click) is None


def values(**changes) -> dict:
    base = dict(start=None, end=None, districts=None, lang=None, theme=None, city=None)
    return {**base, "options": {}, "click": None, **changes}


@pytest.mark.parametrize(
    ("trigger", "sent"),
    [
        ("filter-dates", values(start="2017-02-30", end="2017-03-01")),
        ("filter-dates", values(start=5, end=["x"])),
        ("filter-districts", values(districts="../x")),
        ("lang-select", values(lang="xx")),
        ("lang-select", values(lang=["fr"])),
        ("theme-select", values(theme="../x")),
        ("city-select", values(city=10**30)),
        ({"type": "page-option", "name": "aqi"}, values(options={"aqi": ["epa"]})),
        ({"type": "page-option", "name": "aqi"}, values(options={})),
        ({"type": "chart-graph", "id": "traffic-district-map"}, values(click="x")),
    ],
)
def test_a_control_value_the_control_cannot_hold_leaves_the_view(trigger, sent):
    state = ViewState(start=dt.date(2017, 1, 1), end=dt.date(2017, 1, 31), lang="fr")
    assert next_state(state, trigger, sent) == state


def test_picked_dates_are_put_in_order():
    state = next_state(ViewState(), "filter-dates", values(start="2017-03-05", end="2017-03-01"))
    assert (state.start, state.end) == (dt.date(2017, 3, 1), dt.date(2017, 3, 5))


def test_a_chart_takes_only_its_declared_options_and_its_cards_ids():
    chart = VOLUME_SPEED
    assert chart_option(chart, "week") == "week"
    for junk in ("../x", "speed", *JUNK):
        assert chart_option(chart, junk) == chart.default_option
    assert registered({"type": "chart-option", "id": chart.id}) is chart
    for junk in ({"id": "../x"}, {"id": ["traffic-metro"]}, *JUNK):
        with pytest.raises(NotFound):
            registered(junk)


@pytest.mark.parametrize(
    "xrange",
    [("2017-01-05", "-1"), ("NaT", "2017-01-05"), ("2017-01-05", "1e308"), ("x", "y")],
)
def test_a_zoom_outside_real_days_is_ignored(xrange):
    ctx = ChartContext(lang="en", theme="light", city=builtin_city(), filters=Filters())
    assert zoomed(ctx, xrange) is None


def test_a_zoom_beyond_the_bounds_is_clamped():
    ctx = ChartContext(lang="en", theme="light", city=builtin_city(), filters=Filters())
    narrowed = zoomed(ctx, ("0001-01-01", "9999-12-31"))
    assert (narrowed.filters.start, narrowed.filters.end) == (EARLIEST, LATEST)


def test_a_dataset_id_comes_from_a_path_only():
    assert dataset_id_of("/data/counts/") == "counts"
    for junk in JUNK:
        assert dataset_id_of(junk) == ""


def test_the_editor_keeps_slides_and_their_texts_only():
    slide = {"chart": "traffic-metro", "query": "?from=2017-01-01", "option": ["days"], "n": 1}
    data = {"slides": [slide, "x", None, 10**30, {"chart": {"a": 1}}]}
    assert editor_slides(data) == [{"chart": "traffic-metro", "query": "?from=2017-01-01"}, {}]
    for junk in JUNK:
        assert editor_slides(junk) == [] and editor_slides({"slides": junk}) == []
    merged = merged_slides({"slides": [slide]}, [10**30], ["kept"], [None])
    assert merged[0]["title"] == "" and merged[0]["takeaway"] == "kept"


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "deck-remove", "index": "../x"},
        {"type": "deck-move", "index": 10**30, "dir": "up"},
        {"type": "deck-move", "index": -1, "dir": "down"},
        {"type": "deck-move", "index": 0, "dir": "up"},
        {"type": "deck-remove", "index": 5},
    ],
)
def test_an_editor_action_on_no_slide_changes_nothing(trigger):
    slides = [{"chart": "a"}, {"chart": "b"}]
    assert edited(slides, trigger, []) == (slides, False)


# -- callback envelopes ---------------------------------------------------------------------------


class Dep:
    """The part of a dash Output the guard reads."""

    def __init__(self, component_id: str, prop: str) -> None:
        self.component_id, self.component_property = component_id, prop

    def component_id_str(self) -> str:
        return self.component_id


MAP = {
    "out.children": {
        "callback": object(),
        "inputs": [
            {"id": "a", "property": "value"},
            {"id": '{"i":["ALL"],"type":"f"}', "property": "value"},
        ],
        "state": [{"id": '{"id":["MATCH"],"type":"g"}', "property": "id"}],
        "output": Dep("out", "children"),
    },
    '..x.children...{"i":["ALL"],"type":"f"}.options..': {
        "callback": object(),
        "inputs": [{"id": '{"i":["ALL"],"type":"f"}', "property": "value"}],
        "state": [],
        "output": [Dep("x", "children"), Dep('{"i":["ALL"],"type":"f"}', "options")],
    },
    "browser.title": {"inputs": [], "state": [], "output": Dep("browser", "title")},
}


def good_single() -> dict:
    return {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [
            {"id": "a", "property": "value", "value": ["anything", {"at": "all"}]},
            [{"id": {"type": "f", "i": 1}, "property": "value", "value": None}],
        ],
        "state": [{"id": {"type": "g", "id": "k"}, "property": "id", "value": 5}],
        "changedPropIds": ['{"i":1,"type":"f"}.value'],
    }


def test_a_request_as_the_renderer_sends_it_passes():
    assert envelope_problem(good_single(), MAP) is None
    multi = {
        "output": next(k for k in MAP if k.startswith("..")),
        "outputs": [
            {"id": "x", "property": "children@ab12"},
            [{"id": {"type": "f", "i": 1}, "property": "options"}],
        ],
        "inputs": [[{"id": {"type": "f", "i": 1}, "property": "value"}]],
        "changedPropIds": [],
    }
    assert envelope_problem(multi, MAP) is None
    multi["outputs"][1] = [{"id": {"type": "f", "i": 2}, "property": "options"}]
    assert envelope_problem(multi, MAP) == "outputs[1]: lists other components than elsewhere"


@pytest.mark.parametrize(
    "change",
    [
        {"output": "browser.title"},  # only the browser runs it
        {"output": "nope"},
        {"output": ["out.children"]},
        {"inputs": None},
        {"inputs": [{"id": "a", "property": "value"}]},
        {"inputs": [{"id": "b", "property": "value"}, []]},
        {"inputs": [{"id": "a", "property": "style"}, []]},
        {"inputs": [{"id": "a", "property": "value"}, {"id": {"type": "f", "i": 1}}]},
        {"inputs": [{"id": "a", "property": "value"}, [{"id": {"type": "h", "i": 1}}]]},
        {"inputs": [{"id": "a", "property": "value"}, [{"id": {"type": "f"}, "property": "v"}]]},
        {"inputs": [{"id": "a", "property": "value"}, [{"id": {"type": "f", "i": [1]}}]]},
        {"state": []},
        {"state": [{"id": {"type": "g", "id": math.nan}, "property": "id"}]},
        {"outputs": [{"id": "out", "property": "children"}]},
        {"outputs": {"id": "out", "property": "style"}},
        {"changedPropIds": "a.value"},
        {"changedPropIds": ["b.value"]},
        {"changedPropIds": ['{"i":2,"type":"f"}.value']},
        {"changedPropIds": ["{" * 5000 + ".value"]},
        {"changedPropIds": [5]},
    ],
)
def test_any_other_envelope_is_refused_with_a_reason(change):
    assert envelope_problem({**good_single(), **change}, MAP)


@pytest.mark.parametrize("body", [None, [], "x", 5, {}, {"output": None}])
def test_a_body_that_is_no_request_is_refused(body):
    assert envelope_problem(body, MAP)


def test_match_values_must_agree():
    table = {
        "k": {
            "callback": object(),
            "inputs": [{"id": '{"id":["MATCH"],"type":"a"}', "property": "value"}],
            "state": [{"id": '{"id":["MATCH"],"type":"b"}', "property": "id"}],
            "output": Dep('{"id":["MATCH"],"type":"c"}', "children"),
        }
    }
    body = {
        "output": "k",
        "outputs": {"id": {"type": "c", "id": "x"}, "property": "children"},
        "inputs": [{"id": {"type": "a", "id": "x"}, "property": "value"}],
        "state": [{"id": {"type": "b", "id": "x"}, "property": "id"}],
    }
    assert envelope_problem(body, table) is None
    body["state"][0]["id"]["id"] = "y"
    assert "MATCH" in envelope_problem(body, table)
