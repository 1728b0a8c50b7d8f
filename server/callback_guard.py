"""The guards of Dash's callback endpoint, `POST /_dash-update-component`.

Dash takes a callback request as its renderer writes it and indexes straight into it: a body of
another shape (no "output", a callback only the browser runs, inputs that are not the
callback's, an ALL output listing other components than its ALL input) raised KeyError,
TypeError or an invalid-return error inside Dash, which Flask answered with 500.
`envelope_problem` compares a request with the callback's declared dependencies before Dash
reads it; a mismatch is answered 400 with the reason.

The values inside are the callbacks' to check (`components.state` reads the stores every page
shares). `callback_failed` is the net under them, Dash's `on_error`: an exception a value still
provokes in a callback is logged with its traceback, as the gap in validation it is, and
answered 400 instead of 500. Errors that are not about a value (a disk, the database) stay 500.
"""

from __future__ import annotations

import json
import logging
import math

import flask
from werkzeug.exceptions import HTTPException

SAFETY_NET_LOGGER = "citylens.callbacks"
ENDPOINT = "_dash-update-component"
WILDCARDS = frozenset({"MATCH", "ALL", "ALLSMALLER"})
# What a callback raises when a request's value is of a kind or range it did not expect
BAD_VALUE_ERRORS = (TypeError, ValueError, LookupError, AttributeError, ArithmeticError)

log = logging.getLogger(SAFETY_NET_LOGGER)


class EnvelopeError(ValueError):
    """The request is not one the Dash renderer would send for this callback."""


def _pattern(raw: str):
    """A declared component id: a plain string, or a pattern as a dict whose wildcard values are
    "MATCH", "ALL" or "ALLSMALLER"."""
    if not raw.startswith("{"):
        return raw
    return {
        key: value[0] if isinstance(value, list) and value and value[0] in WILDCARDS else value
        for key, value in json.loads(raw).items()
    }


def _wildcards(pattern) -> set[str]:
    return {v for v in pattern.values() if v in WILDCARDS} if isinstance(pattern, dict) else set()


def _scalar(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


def _declared(entry: dict) -> tuple[list, list, list]:
    """(inputs, state, outputs) of a callback as [(pattern, property)]."""
    inputs = [(_pattern(d["id"]), d["property"]) for d in entry["inputs"]]
    state = [(_pattern(d["id"]), d["property"]) for d in entry["state"]]
    declared = [] if entry.get("no_output") else entry["output"]
    outputs = [
        (_pattern(o.component_id_str()), o.component_property)
        for o in (declared if isinstance(declared, list) else [declared])
    ]
    return inputs, state, outputs


class _Check:
    """One request against one callback: ids and properties as declared, MATCH values equal
    throughout, each ALL pattern listing the same components wherever it appears."""

    def __init__(self) -> None:
        self.match: dict[str, object] = {}
        self.lists: dict[str, list] = {}

    def item(self, item, pattern, prop: str, where: str) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("property"), str):
            raise EnvelopeError(f"{where}: not a component property")
        if item["property"].split("@")[0] != prop:
            raise EnvelopeError(f"{where}: not the declared property")
        cid = item.get("id")
        if not isinstance(pattern, dict):
            if cid != pattern:
                raise EnvelopeError(f"{where}: not the declared component")
            return
        if not isinstance(cid, dict) or set(cid) != set(pattern):
            raise EnvelopeError(f"{where}: not an id of the declared pattern")
        for key, expected in pattern.items():
            value = cid[key]
            if expected not in WILDCARDS:
                if value != expected:
                    raise EnvelopeError(f"{where}: not an id of the declared pattern")
            elif not _scalar(value):
                raise EnvelopeError(f"{where}: an id value is not a string or number")
            elif expected == "MATCH" and self.match.setdefault(key, value) != value:
                raise EnvelopeError(f"{where}: its MATCH value differs from the others'")

    def dependency(self, sent, pattern, prop: str, where: str) -> None:
        if not _wildcards(pattern) - {"MATCH"}:
            self.item(sent, pattern, prop, where)
            return
        if not isinstance(sent, list):
            raise EnvelopeError(f"{where}: a pattern with ALL needs a list")
        for i, item in enumerate(sent):
            self.item(item, pattern, prop, f"{where}[{i}]")
        ids = [json.dumps(item["id"], sort_keys=True) for item in sent]
        name = json.dumps(pattern, sort_keys=True)
        if self.lists.setdefault(name, ids) != ids:
            raise EnvelopeError(f"{where}: lists other components than elsewhere")

    def group(self, sent, declared: list, where: str) -> None:
        if not isinstance(sent, list) or len(sent) != len(declared):
            raise EnvelopeError(f"{where}: expected a list of {len(declared)}")
        for i, (item, (pattern, prop)) in enumerate(zip(sent, declared, strict=True)):
            self.dependency(item, pattern, prop, f"{where}[{i}]")


def _changed(sent: list, inputs: list) -> None:
    """Each id in changedPropIds is an input of the request, as "<id>.<property>"."""
    if not isinstance(sent, list):
        raise EnvelopeError("changedPropIds: expected a list")
    items = [i for group in inputs for i in (group if isinstance(group, list) else [group])]
    present = {(json.dumps(i["id"], sort_keys=True), i["property"]) for i in items}
    for prop_id in sent:
        if not isinstance(prop_id, str) or "." not in prop_id:
            raise EnvelopeError("changedPropIds: names what is not an input")
        component, prop = prop_id.rsplit(".", 1)
        try:
            cid = json.loads(component) if component.startswith("{") else component
        except (ValueError, RecursionError):
            raise EnvelopeError("changedPropIds: names what is not an input") from None
        if (json.dumps(cid, sort_keys=True), prop) not in present:
            raise EnvelopeError("changedPropIds: names what is not an input")


def envelope_problem(body: object, callback_map: dict) -> str | None:
    """Why `body` is not a request Dash's renderer sends for a server callback of
    `callback_map`, or None when it is one."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    key = body.get("output")
    entry = callback_map.get(key) if isinstance(key, str) else None
    if entry is None:
        return "no such callback"
    if "callback" not in entry:
        return "this callback runs in the browser"
    inputs, state, outputs = _declared(entry)
    check = _Check()
    try:
        check.group(body.get("inputs"), inputs, "inputs")
        check.group(body.get("state", []), state, "state")
        if outputs:
            multi = key.startswith("..")
            sent = body.get("outputs")
            check.group(sent if multi else [sent], outputs, "outputs")
        _changed(body.get("changedPropIds", []), body["inputs"])
    except EnvelopeError as exc:
        return str(exc)
    return None


def callback_failed(error: Exception):
    """Dash's `on_error`: a value-kind exception in a callback is logged and answered 400; an
    HTTP answer a callback chose, and any other failure, go on as they were raised."""
    if isinstance(error, HTTPException) or not isinstance(error, BAD_VALUE_ERRORS):
        raise error
    body = flask.request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    log.error("callback %.200s failed on a value it does not check", output, exc_info=error)
    flask.abort(400, "the callback could not use the values sent")


def register_callback_guard(app) -> None:
    """Check every callback request's envelope before Dash reads it (see the module's doc)."""
    path = app.config.routes_pathname_prefix + ENDPOINT

    @app.server.before_request
    def check_callback_request():
        request = flask.request
        if request.path != path or request.method != "POST":
            return None
        problem = envelope_problem(request.get_json(silent=True), app.callback_map)
        if problem is not None:
            flask.abort(400, problem)
        return None
