"""The OpenAPI schema describes the error answers every endpoint can give, not only its successes.

drf-spectacular documents what each view declares. The answers the REST framework gives on its own —
401/403 for missing or insufficient credentials, 404 for an unknown id, 405, 415 for a body in the
wrong format, 429 past a rate limit, 400 for a body it cannot parse — are added here to every
operation that did not declare them, with the body they really have (`{"detail": "…"}`, or field
errors keyed by field). The fuzz test (tests/test_fuzz_api.py) holds the schema to it.
"""

from __future__ import annotations

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Field errors ({"lon": ["…"]}, {"points": {"3": {"lat": ["…"]}}}) or {"detail": "…"}.
FIELD_ERRORS = {"type": "object", "additionalProperties": True}

GENERIC = {
    "400": ("Bad request: a body or query that cannot be parsed or fails validation.", "FieldErrors"),
    "401": ("Authentication credentials were missing or wrong.", "ErrorDetail"),
    "403": ("The user may not do this.", "ErrorDetail"),
    "404": ("Not found, or not visible to this user.", "ErrorDetail"),
    "405": ("Method not allowed.", "ErrorDetail"),
    "406": ("None of the formats in Accept can be given.", "ErrorDetail"),
    "415": ("The body's media type is not accepted.", "ErrorDetail"),
    "429": ("Too many requests; the Retry-After header says when to try again.", "ErrorDetail"),
}
WRITES = {"post", "put", "patch", "delete"}


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: fill in the framework's own error answers on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", DETAIL)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "head", "options", *WRITES}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = ["400", "401", "403", "404", "405", "406"]
            if method in WRITES:
                wanted += ["415", "429"]
            for code in wanted:
                description, schema = GENERIC[code]
                found = responses.get(code)
                if found is None:
                    responses[code] = {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                    }
    return result
