"""A fast yes/no JSON Schema check in front of `jsonschema`'s full error listing.

`jsonschema` walks a schema in Python for every object (~1 s per 1,000 containerlab nodes).
`jsonschema-rs` compiles the schema in Rust in milliseconds and validates a 2,500-node lab
file in ~10 ms, but its errors name no rule of ours. So the checkers ask the compiled one
first and run `jsonschema` only on an instance that fails, to list every violation with its
schema path (and from that, the rule). jsonschema-rs reads the vendored 2020-12 contracts and
containerlab's `\\p{...}` regex classes as they are. Formats are not asserted, as
`jsonschema` does not assert them by default: both sides agree on what is valid.
"""

from __future__ import annotations


def compile_gate(schema: dict, ref: str | None = None):
    """A function instance -> bool (valid?) for `schema`, or for its definition `ref` (a name
    under `$defs`/`definitions`)."""
    import jsonschema_rs

    if ref is not None:
        defs = "$defs" if "$defs" in schema else "definitions"
        schema = {k: v for k, v in schema.items() if k not in ("properties", "type", "required",
                                                               "additionalProperties")}
        schema["$ref"] = f"#/{defs}/{ref}"
    return jsonschema_rs.validator_for(schema, validate_formats=False).is_valid
