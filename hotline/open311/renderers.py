"""The two formats GeoReport v2 speaks, chosen by the URL's suffix (`services.json`, `services.xml`).

The JSON is the data as it is. The XML follows the spec's examples: a root element per document
(`services`, `service_requests`, `service_definition`, `discovery`, `errors`), one child per list
item named for the list (`service`, `request`, `attribute`, `value`, `endpoint`, `format`, `error`),
booleans as true/false and missing values as empty elements.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from rest_framework.renderers import BaseRenderer, JSONRenderer

# A list's element name → the name of each of its items.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


class Open311JSONRenderer(JSONRenderer):
    format = "json"
    media_type = "application/json"
    charset = "utf-8"
    ensure_ascii = False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list | tuple):
        item = ITEM_NAMES.get(name, "item")
        for child in value:
            _append(element, item, child)
    else:
        element.text = _text(value)


class Open311XMLRenderer(BaseRenderer):
    """Renders `data` under the root the view named on the response (`response.xml_root`)."""

    format = "xml"
    media_type = "text/xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        response = (renderer_context or {}).get("response")
        root_name = getattr(response, "xml_root", None) or "response"
        root = ET.Element(root_name)
        _fill(root, root_name, data)
        return ('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")).encode()
