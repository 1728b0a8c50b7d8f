"""The HTTP replay benchmark (`python -m bench.http_replay`) against the test server: every page's
interactions are replayed and timed (a smoke test, like `python -m bench --quick`)."""

from __future__ import annotations

from bench.http_replay import PAGES, measure


def test_http_replay_times_every_page_interaction(app_url):
    result = measure(app_url, rounds=1, seed=3)
    assert set(result) == {
        f"{kind}.{page}" for kind in ("page_switch", "filter_change") for page in PAGES
    }
    for entry in result.values():
        assert entry["n"] == 1
        assert entry["median_ms"] > 0
