"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2/.

Requests filed here are cases like any other: the same `dispatch.services.open_case`, routing and
live events. Leaf categories are the services; their `code` is the `service_code`; a case's number
is its `service_request_id`. docs/open311.md describes the mapping.
"""
