"""`/docs`: the API described from its OpenAPI document as a plain page, with no script
and nothing from a CDN (Swagger UI loads its code from jsDelivr and is blank offline, as
inside a government network). The machine-readable description stays at /openapi.json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from services.web.dashboard import render_page

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or (schema.get("items") or {}).get("$ref")
    if ref:
        name = str(ref).rsplit("/", 1)[-1]
        return f"list[{name}]" if "items" in schema else name
    return str(schema.get("type", ""))


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of `spec`, by path then method, with what a caller needs."""
    out = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = (op.get("requestBody", {}).get("content", {}).get("application/json", {})).get(
                "schema", {}
            )
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        (p.get("name"), p.get("in"), p.get("required", False))
                        for p in op.get("parameters", [])
                    ],
                    "body": _schema_name(body) if body else "",
                    "responses": sorted(op.get("responses", {})),
                    "tags": op.get("tags", []),
                }
            )
    return out


def add_api_docs(app: FastAPI, path: str = "/docs") -> None:
    @app.get(path, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        spec = app.openapi()
        return render_page(
            "api_docs.html",
            request,
            viewer=None,
            title=spec["info"]["title"],
            version=spec["info"]["version"],
            description=spec["info"].get("description", ""),
            operations=operations(spec),
        )
