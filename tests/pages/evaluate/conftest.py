"""What the evaluate room's tests share: the room on the demo city, a hand-made evaluation to
draw without running one, and a clean intervention store after each test."""

from __future__ import annotations

import pytest

from pages.evaluate.room import Room, interventions, is_pilot
from tests.components.test_figures_evidence import evaluation

UI = {"lang": "en", "theme": "light", "city": "hangzhou-2017"}


@pytest.fixture
def room(demo_workspace, demo_city):
    """The room; whatever a test stored is removed after it (the demo's pilot stays)."""
    room = Room(workspace=demo_workspace, default_city=demo_city.id)
    yield room
    for iv in interventions(demo_workspace, demo_city):
        if not is_pilot(iv):
            room.store().remove(iv.id)


@pytest.fixture
def pilot(demo_workspace, demo_city):
    found = interventions(demo_workspace, demo_city)
    assert found and is_pilot(found[0])
    return found[0]


@pytest.fixture
def quick_evaluation(monkeypatch):
    """`evaluate` answering a hand-made evaluation at once (the real one: one test of its own)."""
    calls = []

    def fake(workspace, iv):
        calls.append(iv.id)
        return evaluation()

    monkeypatch.setattr("pages.evaluate.result.evaluate", fake)
    return calls
