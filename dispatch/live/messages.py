"""What goes on the wire for a case event: the socket's JSON and the channel-layer message around it."""

from __future__ import annotations

import json
from typing import Any

from partners.privacy import mask_phones

# The message type the consumer handles (`live.event` → `LiveConsumer.live_event`).
MESSAGE_TYPE = "live.event"


def event_payload(event) -> dict[str, Any]:
    """The JSON a socket receives for one case event. No personal data: no names, phones, addresses."""
    case = event.case
    lead = case.lead_unit
    category = case.category
    payload = {
        "type": "event",
        "seq": event.id,
        "case": case.id,
        "number": case.number,
        "status": event.to_status or case.status,
        "version": case.version,
        "kind": event.kind,
        "at": event.at.isoformat() if event.at else None,
        "lead_unit": {"id": lead.id, "name": lead.name} if lead is not None else None,
        "category": {"code": category.code, "name": category.name} if category is not None else None,
        "grid": case.grid_code or None,
        "district": case.district_code or None,
    }
    # Nothing above is free text from a caller, but a unit may have typed a number into its name.
    if lead is not None:
        payload["lead_unit"]["name"] = mask_phones(lead.name)
    return payload


def socket_text(payload: dict[str, Any]) -> str:
    """`payload` as a socket receives it: Chinese as UTF-8 (3 bytes a character), not \\u escapes (6)."""
    return json.dumps(payload, ensure_ascii=False)


def channel_message(payload: dict[str, Any], groups: list[str]) -> dict[str, Any]:
    """The channel-layer message that carries `payload` to `groups`: its seq, and its socket JSON
    written once here rather than by every socket that hears it."""
    # A socket re-checks `groups` against its user's current ones before it passes the event on.
    return {"type": MESSAGE_TYPE, "seq": payload["seq"], "text": socket_text(payload), "groups": groups}
