"""The open data API, read side: what Datasette users take for granted.

    GET /api/v1/datasets[?city=C&kind=K]     the catalog: every dataset, its columns and version
    GET /api/v1/datasets/<id>                one dataset
    GET /api/v1/datasets/<id>/rows?from=&to=&district=&station=&limit=&offset=&format=json|csv
    GET /api/v1/openapi.json                 this description, as OpenAPI 3.1

Reading follows the dashboard (`CITYLENS_VIEW_LOGIN`: the login wall answers 401). Every value
of a request is checked: an unknown parameter, a date that does not parse, a district that is
not a number, a limit out of range is a 400 naming it, never a 500; a page holds at most
`MAX_LIMIT` rows.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from urllib.parse import urlencode

import flask

from datasets.catalog import CatalogError, Dataset
from datasets.export import safe_csv
from datasets.queries.rows import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    RowQuery,
    RowsRefused,
    rows_page,
)
from datasets.workspace import Workspace

PREFIX = "/api/v1"
ROW_PARAMETERS = frozenset({"from", "to", "district", "station", "limit", "offset", "format"})
MAX_VALUES = 50  # districts or stations in one filter
MAX_VALUE_CHARS = 64


class BadRequest(ValueError):
    """A parameter that cannot be used, said in one line."""


def _when(name: str, raw: str, end: bool) -> dt.datetime:
    """An ISO date or date-time; a date alone as `to` includes that whole day."""
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        message = f"{name}={raw[:40]!r} is not an ISO date (2017-03-01) or date-time"
        raise BadRequest(message) from None
    return moment.replace(tzinfo=None)


def _number(name: str, raw: str | None, default: int, high: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise BadRequest(f"{name}={raw[:20]!r} must be a whole number from 0 to {high:,}")
    return int(raw)


def _values(name: str, raw: str | None) -> list[str]:
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_CHARS for v in values):
        raise BadRequest(f"{name}: at most {MAX_VALUES} values of {MAX_VALUE_CHARS} characters")
    return values


def row_query(args) -> tuple[RowQuery, str]:
    """The page a request's parameters ask for, and its format (json or csv)."""
    unknown = sorted(set(args) - ROW_PARAMETERS)
    if unknown:
        allowed = ", ".join(sorted(ROW_PARAMETERS))
        raise BadRequest(f"unknown parameter {unknown[0][:40]!r}; the parameters are {allowed}")
    districts = _values("district", args.get("district"))
    if not all(d.isdigit() and len(d) <= 9 for d in districts):
        raise BadRequest("district: codes are whole numbers, e.g. district=330106,330105")
    fmt = args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest("format must be json or csv")
    limit = _number("limit", args.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    if limit == 0:
        raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}")
    query = RowQuery(
        start=_when("from", args["from"], end=False) if args.get("from") else None,
        end=_when("to", args["to"], end=True) if args.get("to") else None,
        districts=tuple(int(d) for d in districts),
        stations=tuple(_values("station", args.get("station"))),
        limit=limit,
        offset=_number("offset", args.get("offset"), 0, MAX_OFFSET),
    )
    if query.start and query.end and query.end <= query.start:
        raise BadRequest("to must come after from")
    return query, fmt


def describe(dataset: Dataset) -> dict:
    """A dataset as the API lists it, with the addresses of its rows and files."""
    return {
        **dataset.as_json(),
        "links": {
            "self": f"{PREFIX}/datasets/{dataset.id}",
            "rows": f"{PREFIX}/datasets/{dataset.id}/rows",
            "csv": f"/download/{dataset.id}.csv",
            "parquet": f"/download/{dataset.id}.parquet",
        },
    }


def _error(message: str, status: int):
    return flask.jsonify(error=message), status


def list_datasets(workspace: Workspace):
    args = flask.request.args
    city, kind = args.get("city") or None, args.get("kind") or None
    found = workspace.catalog.datasets(city=city, kind=kind)
    return flask.jsonify(datasets=[describe(d) for d in found])


def _dataset(workspace: Workspace, dataset_id: str) -> Dataset | None:
    try:
        return workspace.catalog.get(dataset_id)
    except CatalogError:
        return None


def one_dataset(workspace: Workspace, dataset_id: str):
    dataset = _dataset(workspace, dataset_id)
    if dataset is None:
        return _error(f"no dataset {dataset_id[:80]!r}", 404)
    return flask.jsonify(describe(dataset))


def dataset_rows(workspace: Workspace, dataset_id: str):
    dataset = _dataset(workspace, dataset_id)
    if dataset is None:
        return _error(f"no dataset {dataset_id[:80]!r}", 404)
    try:
        query, fmt = row_query(flask.request.args)
        frame, more = rows_page(workspace.engine, dataset, query)
    except (BadRequest, RowsRefused) as exc:
        return _error(str(exc), 400)
    if fmt == "csv":
        return flask.Response(safe_csv(frame), mimetype="text/csv")
    after = {**flask.request.args.to_dict(), "offset": query.offset + query.limit}
    return flask.jsonify(
        dataset=dataset.id,
        version=dataset.current_version,
        limit=query.limit,
        offset=query.offset,
        rows=json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s")),
        next=f"{PREFIX}/datasets/{dataset.id}/rows?{urlencode(after)}" if more else None,
    )


def openapi() -> dict:
    """The API described as OpenAPI 3.1."""
    text = {"type": "string"}
    rows_parameters = [
        {"name": "from", "in": "query", "schema": text, "description": "ISO date or date-time"},
        {"name": "to", "in": "query", "schema": text, "description": "a date includes its day"},
        {
            "name": "district",
            "in": "query",
            "schema": text,
            "description": "codes, comma-sep.",
        },
        {"name": "station", "in": "query", "schema": text, "description": "ids, comma-sep."},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": MAX_LIMIT}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "maximum": MAX_OFFSET}},
        {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}},
    ]
    dataset_id = {"name": "id", "in": "path", "required": True, "schema": text}
    ok, bad, missing = ({"description": d} for d in ("OK", "a parameter cannot be used", "unknown"))
    return {
        "openapi": "3.1.0",
        "info": {"title": "CityLens open data API", "version": "1"},
        "paths": {
            f"{PREFIX}/datasets": {
                "get": {
                    "summary": "The catalog",
                    "parameters": [
                        {"name": "city", "in": "query", "schema": text},
                        {"name": "kind", "in": "query", "schema": text},
                    ],
                    "responses": {"200": ok},
                }
            },
            f"{PREFIX}/datasets/{{id}}": {
                "get": {
                    "summary": "One dataset",
                    "parameters": [dataset_id],
                    "responses": {"200": ok, "404": missing},
                }
            },
            f"{PREFIX}/datasets/{{id}}/rows": {
                "get": {
                    "summary": "Rows of the current version, in the order stored, one page",
                    "parameters": [dataset_id, *rows_parameters],
                    "responses": {"200": ok, "400": bad, "404": missing},
                }
            },
        },
    }


def register_api(server: flask.Flask, workspace: Workspace) -> None:
    """The API's routes (every one a GET: the API changes nothing)."""
    routes = (
        (f"{PREFIX}/datasets", "api_datasets", partial(list_datasets, workspace)),
        (f"{PREFIX}/datasets/<dataset_id>", "api_dataset", partial(one_dataset, workspace)),
        (f"{PREFIX}/datasets/<dataset_id>/rows", "api_rows", partial(dataset_rows, workspace)),
        (f"{PREFIX}/openapi.json", "api_openapi", lambda: flask.jsonify(openapi())),
    )
    for rule, endpoint, view in routes:
        server.add_url_rule(rule, endpoint, view, methods=["GET"])
