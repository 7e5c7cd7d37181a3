"""Each line of the stream against the vendored JSON Schema: one compiled validator per setup
endpoint (picked from method + path), jsonschema naming the failing constraint of a line that
fails; the rule id is the `[TAG]` of the failing subschema's `$comment`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from pipeline.check_export.core import load_contract
from pipeline.check_export.fastschema import compile_gate

SCHEMA = "alcor.requests.schema.json"
DUMMY_ID = "00000000-0000-4000-8000-000000000000"  # placeholders, for the schema only
PLACEHOLDER_BYTES = re.compile(rb'\{\{[^{}"]+\}\}')  # inside a JSON string of a raw line
DUMMY_BYTES = DUMMY_ID.encode()
ENDPOINT_COMMENT = re.compile(r"\[A-ENDPOINT\] (\S+): ")
TAG = re.compile(r"\[([A-Z][A-Z0-9-]+)\]")


@dataclass
class Endpoint:
    """One setup endpoint of the schema: its method, path pattern and own schema."""

    name: str
    method: str
    path: re.Pattern
    schema: dict
    any_path: re.Pattern  # what the schema asks of every line's path
    fast: object = None  # compiled (jsonschema-rs) yes/no check of the body, built on first use
    slow: object = None  # jsonschema validator of the line, built on the first failing line
    # set with `fast`: what the envelope must hold
    service: str = ""
    body_required: bool = False

    def valid(self, line: dict) -> bool:
        """Whether the line (method and path already matched to this endpoint) passes the
        endpoint's schema: the envelope checked here, the body by a compiled validator."""
        if self.fast is None:
            then = self.schema["allOf"][1]
            body = then.get("properties", {}).get("body", {})
            self.fast = compile_gate({"$schema": self.schema["$schema"],
                                      "$defs": self.schema["$defs"], **body})
            self.service = then["properties"]["service"]["const"]
            self.body_required = "body" in then.get("required", ())
        if line.get("service") != self.service or not _matches(self.any_path, line["path"]):
            return False
        if "body" not in line:
            return not self.body_required
        return self.fast(line["body"])

    def errors(self, line: dict) -> list[tuple[str, str]]:
        """(tag, message) of every schema error of the line."""
        import jsonschema

        if self.slow is None:
            self.slow = jsonschema.Draft202012Validator(self.schema)
        out = []
        for err in self.slow.iter_errors(line):
            leaves = [err]
            while leaves[0].context:  # oneOf/anyOf: the deepest causes name the constraint
                leaves = sorted(leaves[0].context, key=lambda e: -len(e.absolute_schema_path))
            tag = _tag_of(self.schema, list(leaves[0].absolute_schema_path)) or \
                _tag_of(self.schema, list(err.absolute_schema_path)) or "A-SCHEMA"
            where = "/".join(str(p) for p in leaves[0].absolute_path)
            out.append((tag, f"{where}: {leaves[0].message}"))
        return out


def _tag_of(schema: dict, path: list) -> str | None:
    """The deepest `[TAG]` in a `$comment` along a schema path ($refs followed)."""
    node, tag = schema, None
    for key in path:
        if isinstance(node, dict):
            m = TAG.search(node.get("$comment", "") or "")
            if m:
                tag = m.group(1)
            if key not in node and "$ref" in node:
                node = _resolve(schema, node["$ref"])
            node = node.get(key) if isinstance(node, dict) else None
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            break
        if node is None:
            break
    if isinstance(node, dict):
        m = TAG.search(node.get("$comment", "") or "")
        if m:
            tag = m.group(1)
    return tag


def _resolve(schema: dict, ref: str):
    node = schema
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@lru_cache(maxsize=1)
def endpoints() -> tuple[Endpoint, ...]:
    """The schema's endpoints, each with its own schema: the line-level properties plus that
    endpoint's `oneOf` branch and the `then` of its `allOf` entry."""
    contract = load_contract(SCHEMA)
    thens = {item["$comment"].split(" ", 1)[1]: item["then"] for item in contract["allOf"]}
    base = {k: contract[k] for k in ("$schema", "type", "required", "properties", "$defs")}
    out = []
    for branch in contract["oneOf"]:
        name = ENDPOINT_COMMENT.search(branch["$comment"]).group(1)
        schema = {**base, "allOf": [branch, thens[name]]}
        out.append(Endpoint(name, branch["properties"]["method"]["const"],
                            re.compile(branch["properties"]["path"]["pattern"]), schema,
                            re.compile(contract["properties"]["path"]["pattern"])))
    frequent = ("ports.create", "security_group_rules.create")  # most lines: tried first
    return tuple(sorted(out, key=lambda ep: ep.name not in frequent))


def endpoint_of(method, path) -> Endpoint | None:
    if not isinstance(path, str):
        return None
    if not isinstance(method, str):  # (unhashable, or no endpoint's method)
        return next((ep for ep in endpoints() if ep.method == method and ep.path.match(path)), None)
    return _endpoint_of(method, path)


# Per distinct path, remembered: a project's path repeats once per resource it owns.
@lru_cache(maxsize=1 << 20)
def _endpoint_of(method: str, path: str) -> Endpoint | None:
    return next((ep for ep in endpoints() if ep.method == method and ep.path.match(path)), None)


@lru_cache(maxsize=1 << 20)
def _matches(pattern: re.Pattern, path: str) -> bool:
    return bool(pattern.match(path))


def schema_violations(path: Path) -> list[tuple[str, str]]:
    """(rule, example) for every schema violation of the stream, in line order; placeholders
    are replaced by DUMMY_ID first. One count per rule and line."""
    out = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if raw.isspace():  # (not strip(): a copy of every line)
                continue
            try:
                obj = orjson.loads(PLACEHOLDER_BYTES.sub(DUMMY_BYTES, raw) if b"{{" in raw else raw)
            except orjson.JSONDecodeError:
                continue  # reported as STREAM-FORMAT
            if isinstance(obj, dict):
                out.extend(_schema(n, obj))
    return out


def _schema(n: int, obj: dict, ep=False) -> list[tuple[str, str]]:
    """(rule, example) of the line's schema violations; `ep`: its endpoint when known."""
    ep = endpoint_of(obj.get("method"), obj.get("path")) if ep is False else ep
    if ep is None:
        return [("A-ENDPOINT", f"line {n}: {obj.get('method')} {obj.get('path')} is not a setup "
                 f"endpoint of Alcor")]
    if ep.valid(obj):  # reads only service, path and body
        return []
    request = {k: obj[k] for k in ("service", "method", "path", "body") if k in obj}
    found: dict = {}
    for tag, message in ep.errors(request):
        found.setdefault(tag, f"line {n} ({ep.name}): {message}")
    return list(found.items())
