"""PHP-style nested query strings, as Bitrix24 reads them (`fields[EMAIL][0][VALUE]=a@b.c`).

Bitrix24's `batch` method takes each command as `method?query`, so a writer has to encode nested
parameters the way PHP's `http_build_query` does, and the emulator has to decode them back.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote

__all__ = ["decode", "encode"]

_PART = re.compile(r"\[([^\[\]]*)\]")


def _pairs(value: Any, prefix: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _pairs(item, f"{prefix}[{key}]")]
    if isinstance(value, list | tuple):
        return [pair for index, item in enumerate(value) for pair in _pairs(item, f"{prefix}[{index}]")]
    if value is None:
        return [(prefix, "")]
    if isinstance(value, bool):
        return [(prefix, "Y" if value else "N")]
    return [(prefix, str(value))]


def encode(params: dict[str, Any]) -> str:
    """`{"fields": {"NAME": "Ann"}}` → `fields%5BNAME%5D=Ann` (what http_build_query makes)."""
    pairs = [pair for key, value in params.items() for pair in _pairs(value, key)]
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def decode(query: str) -> dict[str, Any]:
    """The reverse of `encode`; `a[]=1&a[]=2` also gives a list."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        base = key.split("[", 1)[0]
        parts = _PART.findall(key[len(base):])
        node: Any = root
        path = [base, *parts]
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if part == "":  # `[]`: the next free index
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)  # type: ignore[no-any-return]
