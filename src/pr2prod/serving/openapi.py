"""pr2prod's OpenAPI document: BentoML's, with the prediction endpoints described as served.

BentoML generates a document from the API signatures, but it does not know what pr2prod's
middleware and models do. For ``/predict`` and ``/predict_batch`` this module writes:

* the request body, required, from the request models (unknown keys refused);
* the 200 body from the task's response model (only the fields that apply, never ``null``);
* every error the endpoints answer: 400 (invalid JSON or a failed validation; ``detail``
  lists each error with the field's path in ``loc``), 413 (body over
  ``limits.max_body_bytes``), 415 (Content-Type not ``application/json``, missing or empty
  included), 500, 503 (overloaded) and 504 (``timeout_s`` passed).

Schemas are JSON Schema 2020-12 as pydantic emits them, so the document is OpenAPI 3.1.
The middleware serves it at ``GET /docs.json``.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REF = "#/components/schemas/{model}"
OPENAPI_VERSION = "3.1.0"


class ErrorItem(BaseModel):
    """One problem with the request."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="path of the field at fault ([] for the body)")
    msg: str = Field(description="what is wrong")
    type: str = Field(description="error type, e.g. missing, extra_forbidden, json_invalid")


class ClientError(BaseModel):
    """A request refused before scoring (400, 413, 415)."""

    error: str = Field(description="summary")
    detail: list[ErrorItem] = Field(description="each problem, naming its field")


class ServerError(BaseModel):
    """The server could not answer (500, 503, 504); details are in the server log."""

    error: str


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(model: type[BaseModel], schemas: dict[str, Any], mode: str) -> dict[str, str]:
    js = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    schemas.update(js.pop("$defs", {}))
    schemas[model.__name__] = js
    return {"$ref": REF.format(model=model.__name__)}


def _responses(
    response: type[BaseModel], schemas: dict[str, Any], max_body_bytes: int
) -> dict[str, Any]:
    client = _ref(ClientError, schemas, "serialization")
    server = _ref(ServerError, schemas, "serialization")
    return {
        "200": _json(_ref(response, schemas, "serialization"), "The prediction(s)"),
        "400": _json(
            client,
            "Invalid JSON, or a body that fails validation (missing, unknown or "
            "out-of-range field, wrong type, unknown category); `detail` lists each error",
        ),
        "413": _json(client, f"Body larger than limits.max_body_bytes ({max_body_bytes})"),
        "415": _json(client, "Content-Type is not application/json (or is missing)"),
        "500": _json(server, "Unexpected server error"),
        "503": _json(server, "The server is overloaded"),
        "504": _json(server, "The request took longer than timeout_s"),
    }


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _prune(doc: dict[str, Any]) -> None:
    """Drop component schemas nothing refers to (BentoML's generated IO models)."""
    schemas = doc["components"]["schemas"]
    keep = _refs(doc["paths"])
    todo = list(keep)
    while todo:
        for name in _refs(schemas.get(todo.pop(), {})) - keep:
            keep.add(name)
            todo.append(name)
    doc["components"]["schemas"] = {k: v for k, v in schemas.items() if k in keep}


def openapi_document(
    base: dict[str, Any],
    endpoints: dict[str, tuple[type[BaseModel], type[BaseModel]]],
    max_body_bytes: int,
) -> dict[str, Any]:
    """``base`` (BentoML's document) with ``endpoints`` (route -> (request, response))."""
    doc = copy.deepcopy(base)
    doc["openapi"] = OPENAPI_VERSION
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for route, (request, response) in endpoints.items():
        op = doc["paths"][route]["post"]
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(request, schemas, "validation")}},
        }
        op["responses"] = _responses(response, schemas, max_body_bytes)
    _prune(doc)
    return doc
