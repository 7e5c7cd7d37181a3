r"""A fast yes/no JSON Schema check in front of `jsonschema`'s full error listing.

`jsonschema` walks a schema in Python for every object, ~1 s per 1,000 containerlab nodes;
`fastjsonschema` compiles the schema to Python code once and is 5-20x faster, but stops at
the first error and reports no schema path. The checkers ask the compiled one first and run
`jsonschema` only on an instance that fails, to list every violation with its rule.
fastjsonschema knows drafts 4-7: a 2020-12 schema is rewritten to draft 7 (`$defs` ->
`definitions`, `prefixItems` -> tuple `items`), the only 2020-12 features the vendored
contracts use. Python's `re` has no `\p{...}` classes: containerlab's `[\p{N}\p{L}]`
(a letter or digit, in IPv6 zone ids) becomes the equivalent `[^\W_]`.
"""

from __future__ import annotations

import json


def _to_draft7(schema: dict) -> dict:
    text = json.dumps(schema).replace('"$defs"', '"definitions"').replace("#/$defs/", "#/definitions/")
    doc = json.loads(text)

    def fix(node):
        if isinstance(node, dict):
            if "prefixItems" in node:
                node["items"] = node.pop("prefixItems")
            for value in node.values():
                fix(value)
        elif isinstance(node, list):
            for value in node:
                fix(value)

    fix(doc)
    doc["$schema"] = "http://json-schema.org/draft-07/schema#"
    doc.pop("$id", None)
    return doc


def compile_gate(schema: dict, ref: str | None = None):
    """A function instance -> bool (valid?) for `schema`, or for its definition `ref` (a name
    under `$defs`/`definitions`)."""
    import fastjsonschema

    draft7 = _to_draft7(schema) if "2020-12" in str(schema.get("$schema", "")) else dict(schema)
    draft7 = json.loads(json.dumps(draft7).replace(r"[\\p{N}\\p{L}]", r"[^\\W_]"))
    if ref is not None:
        draft7 = {k: v for k, v in draft7.items() if k not in ("properties", "type", "required",
                                                               "additionalProperties")}
        draft7["$ref"] = f"#/definitions/{ref}"
    validate = fastjsonschema.compile(draft7)

    def ok(instance) -> bool:
        try:
            validate(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return ok
