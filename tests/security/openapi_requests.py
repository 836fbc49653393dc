"""Hypothesis strategies for HTTP requests built from an OpenAPI 3 document: mostly well-shaped, often hostile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

ODD_STRINGS = ["", " ", "0x", "0x" + "11" * 32, "0x" + "22" * 20, "0x" + "zz" * 20, "-1", "1e400", "NaN", "null",
               "../../etc/passwd", "%00", "\u0000", "💥" * 10, "a" * 5000, "0xdead", "115792089237316195423570985008687"
               "907853269984665640564039457584007913129639936"]
any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


@dataclass(frozen=True)
class ApiRequest:
    """One generated request: method, path with parameters filled in, query, headers and a JSON body (or none)."""

    method: str
    path: str
    operation: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False


class OpenApiRequests:
    """Builds request strategies for every operation of ``document``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = self.document["components"]["schemas"][name]
        return schema

    def value(self, schema: dict[str, Any] | None, depth: int = 0) -> st.SearchStrategy[Any]:
        """A value for ``schema``: usually of its shape, sometimes anything at all."""
        if schema is None or depth > 4:
            return any_json
        schema = self._resolve(schema)
        if "enum" in schema:
            shaped: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
        else:
            kind = schema.get("type")
            if kind == "object":
                props = schema.get("properties", {})
                required = set(schema.get("required", []))
                shaped = st.fixed_dictionaries(
                    {k: self.value(v, depth + 1) for k, v in props.items() if k in required},
                    optional={k: self.value(v, depth + 1) for k, v in props.items() if k not in required},
                )
            elif kind == "array":
                shaped = st.lists(self.value(schema.get("items"), depth + 1), max_size=3)
            elif kind == "integer":
                shaped = st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, -1, 2**64])
            elif kind == "number":
                shaped = st.floats(allow_nan=False)
            elif kind == "boolean":
                shaped = st.booleans()
            else:
                shaped = st.sampled_from(ODD_STRINGS) | st.text(max_size=40)
        return st.one_of(shaped, shaped, shaped, any_json)

    def _text(self, schema: dict[str, Any] | None) -> st.SearchStrategy[str]:
        return self.value(schema).map(lambda v: v if isinstance(v, str) else str(v))

    def operation(self, path: str, method: str, op: dict[str, Any]) -> st.SearchStrategy[ApiRequest]:
        params = op.get("parameters", [])
        in_path = {p["name"]: self._text(p.get("schema")) for p in params if p.get("in") == "path"}
        in_query = {p["name"]: self._text(p.get("schema")) for p in params if p.get("in") == "query"}
        in_header = {p["name"]: self._text(p.get("schema")).map(_header_safe)
                     for p in params if p.get("in") == "header"}
        body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")

        def build(parts: tuple[dict[str, str], dict[str, str], dict[str, str], Any]) -> ApiRequest:
            path_values, query, headers, body = parts
            filled = path
            for name, value in path_values.items():
                filled = filled.replace("{" + name + "}", quote(value, safe="") or "x")
            return ApiRequest(method.upper(), filled, f"{method.upper()} {path}", query, headers, body,
                              body_schema is not None)

        return st.tuples(
            st.fixed_dictionaries(in_path),
            st.fixed_dictionaries({}, optional=in_query),
            st.fixed_dictionaries({}, optional=in_header),
            self.value(body_schema) if body_schema is not None else st.none(),
        ).map(build)

    def operations(self) -> dict[str, st.SearchStrategy[ApiRequest]]:
        """``"METHOD /path"`` → that operation's request strategy, for every documented operation."""
        return {f"{method.upper()} {path}": self.operation(path, method, op)
                for path, item in self.document["paths"].items() for method, op in item.items()
                if isinstance(op, dict)}


def _header_safe(value: str) -> str:
    return "".join(ch for ch in value if 32 <= ord(ch) < 127)[:200]
