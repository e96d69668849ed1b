"""The management API's JSON parser: DRF's, with a nesting limit.

Python's JSON decoder recurses once per level: a body of 100,000 `[` exhausts the stack
(RecursionError, which DRF's parser does not catch: a 500), and a body just under that limit
parses but makes every later walk of it recurse as deep. No body of ours nests more than a
few levels, so anything deeper than MAX_DEPTH is a 400 like any other malformed JSON.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
TOO_DEEP = f"JSON parse error - nested deeper than {MAX_DEPTH} levels."


def nesting_depth(value, limit: int = MAX_DEPTH) -> int:
    """How deep lists and objects nest in `value` (a scalar is 0), counted without recursion;
    stops counting once past `limit`."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(TOO_DEEP) from error
        if nesting_depth(data) > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        return data
