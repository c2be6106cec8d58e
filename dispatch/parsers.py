"""JSON with a depth and size limit, for every API body and every websocket message.

Python's json module recurses once per nesting level: `[[[[…]]]]` five thousand deep raises
RecursionError, which is no ValueError and so reached users as a 500. The nesting is measured here
first, in one linear pass that does not recurse, and anything deeper than `API_JSON_MAX_DEPTH` or
larger than `API_JSON_MAX_BYTES` is refused with a sentence saying why — before json is called.

`LimitedJSONParser` is the REST framework's parser for every endpoint (settings'
`DEFAULT_PARSER_CLASSES`, so grids' and hotline's APIs get it too without importing it);
`dispatch.live.consumer.LiveConsumer` decodes its messages with `loads_limited`.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

# A JSON string (with its escapes) or one bracket; strings are skipped so "[[[" inside one is text.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class JSONLimitError(ValueError):
    """The document is too deep or too large; the message says which, for the client."""


def max_depth() -> int:
    return settings.API_JSON_MAX_DEPTH


def max_bytes() -> int:
    return settings.API_JSON_MAX_BYTES


def check_depth(text: str, limit: int) -> None:
    depth = 0
    for match in _TOKENS.finditer(text):
        piece = match.group()
        if piece == "[" or piece == "{":
            depth += 1
            if depth > limit:
                raise JSONLimitError(_("JSON 嵌套太深（最多 %(n)d 层）。") % {"n": limit})
        elif piece == "]" or piece == "}":
            depth -= 1


def loads_limited(text: str | bytes, *, depth: int | None = None, size: int | None = None) -> Any:
    """json.loads, refusing (JSONLimitError) documents deeper than `depth` or longer than `size` bytes."""
    size = max_bytes() if size is None else size
    depth = max_depth() if depth is None else depth
    if len(text) > size:
        raise JSONLimitError(_("请求体太大（最多 %(n)d 字节）。") % {"n": size})
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(_("请求体不是 UTF-8 编码。")) from None
    check_depth(text, depth)
    return json.loads(text)


class LimitedJSONParser(JSONParser):
    """The REST framework's JSON parser with the depth and size limits; every refusal is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_bytes()
        # One byte past the limit is enough to know the body is too large without reading all of it.
        raw = stream.read(limit + 1) if stream is not None else b""
        if not raw:
            # An empty body parses as "no data", as the REST framework's own parser sees it.
            raise ParseError(_("JSON 解析错误：请求体为空。"))
        try:
            return loads_limited(raw, size=limit)
        except JSONLimitError as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:
            raise ParseError(_("JSON 解析错误：%(error)s") % {"error": exc}) from None


class LimitedFormParser(FormParser):
    """Form bodies (Open311 POSTs) within Django's field-count and size limits, refused with a 400.

    Django raises TooManyFieldsSent/RequestDataTooBig, which the REST framework would let through as
    a bare HTML 400 page; here they become the API's own JSON error with a sentence.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            raw = stream.read(limit + 1) if stream is not None else b""
            if len(raw) > limit:
                raise ParseError(_("请求体太大（最多 %(n)d 字节）。") % {"n": limit})
            stream = io.BytesIO(raw)
        try:
            return super().parse(stream, media_type, parser_context)
        except (RequestDataTooBig, TooManyFieldsSent) as exc:
            raise ParseError(str(exc)) from None


class LimitedMultiPartParser(MultiPartParser):
    """Multipart bodies with Django's limits turned into the API's JSON 400 (see LimitedFormParser)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
            raise ParseError(str(exc)) from None
