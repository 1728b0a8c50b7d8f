"""The URL view state: links reproduce views, bad links still open something."""

import datetime as dt

from components.routing import clicked_district, filters_data, filters_from_data, toggle
from components.state import ViewState


def test_round_trip_of_the_documented_link():
    search = "?from=2017-03-01&to=2017-03-31&district=330106,330105"
    state = ViewState.from_query(search)
    assert state.start == dt.date(2017, 3, 1) and state.end == dt.date(2017, 3, 31)
    assert state.districts == (330106, 330105)
    assert state.to_query() == search


def test_language_theme_and_page_options_survive_a_round_trip():
    state = ViewState.from_query("?lang=fr&theme=dark&aqi=epa")
    assert (state.lang, state.theme, state.options) == ("fr", "dark", {"aqi": "epa"})
    assert ViewState.from_query(state.to_query()) == state


def test_bad_values_fall_back_instead_of_failing():
    state = ViewState.from_query(
        "?from=2017-13-45&to=yesterday&district=abc,330102,330102&lang=xx&theme=neon"
    )
    assert state == ViewState(districts=(330102,))
    assert ViewState.from_query("").to_query() == ""


def test_reversed_dates_are_swapped():
    state = ViewState.from_query("?from=2017-05-01&to=2017-04-01")
    assert (state.start, state.end) == (dt.date(2017, 4, 1), dt.date(2017, 5, 1))


def test_filters_survive_the_store():
    state = ViewState.from_query("?from=2017-03-01&to=2017-03-31&district=330106")
    filters = filters_from_data(filters_data(state))
    assert (filters.start, filters.end, filters.districts) == (state.start, state.end, (330106,))
    assert filters.previous().end == dt.date(2017, 2, 28)
    assert filters.previous().start == dt.date(2017, 1, 29)


def test_district_clicks_toggle_the_filter():
    click = {"points": [{"location": "330106"}]}
    assert clicked_district(click) == 330106
    assert clicked_district({"points": [{"customdata": [330102, "x"]}]}) == 330102
    assert clicked_district({"points": [{"x": 1}]}) is None
    assert toggle((330105,), 330106) == (330105, 330106)
    assert toggle((330105, 330106), 330106) == (330105,)
