"""Variables of an Alcor request stream: `{{name}}` placeholders substituted the way the
replayer does, and the JSON pointers (RFC 6901) by which a request captures a value."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")


def pointer_keys(pointer: str) -> list[str]:
    if pointer == "":
        return []
    return [k.replace("~1", "/").replace("~0", "~") for k in pointer[1:].split("/")]


MISSING = object()


def value_at(doc, keys):
    for k in keys:
        if type(doc) is dict and k in doc:
            doc = doc[k]
        elif type(doc) is list and k.isdigit() and int(k) < len(doc):
            doc = doc[int(k)]
        else:
            return MISSING
    return doc


def put_at(doc, keys, value) -> None:
    """Set `value` at `keys` in the request body, creating the missing containers (the value
    Alcor fills in: a port's bound group goes into its `security_groups` list)."""
    for i, k in enumerate(keys[:-1]):
        nxt = [] if keys[i + 1].isdigit() else {}
        if type(doc) is dict:
            doc = doc.setdefault(k, nxt)
        elif type(doc) is list and k.isdigit():
            while len(doc) <= int(k):
                doc.append(nxt)
            doc = doc[int(k)]
        else:
            return
    last = keys[-1]
    if type(doc) is dict:
        doc[last] = value
    elif type(doc) is list and last.isdigit():
        if int(last) >= len(doc):
            doc.extend([None] * (int(last) - len(doc) + 1))
        doc[int(last)] = value


def substitute(value, variables: dict, in_path: bool = False):
    if type(value) is str:
        if "{{" not in value:
            return value
        whole = PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in variables and not in_path:
            return variables[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(variables.get(m.group(1), m.group(0))), value)
    if type(value) is list:
        return [substitute(v, variables) for v in value]
    if type(value) is dict:
        return {k: substitute(v, variables) for k, v in value.items()}
    return value
