"""Schemathesis hooks for scripts/api-check.

- Plugin uploads (`application/wasm`) are sent as raw bytes, as `application/octet-stream`
  bodies are.
- The check never revokes the admin token it runs with (API_CHECK_TOKEN_NAME): Schemathesis
  reuses names it saw in answers (`GET /api/v1/tokens`), and a revoked token would leave
  only 401s to test.
"""
import os

import schemathesis

schemathesis.serializer.alias("application/wasm", "application/octet-stream")

OWN_TOKEN = os.environ.get("API_CHECK_TOKEN_NAME")


@schemathesis.hook
def before_call(context, case, kwargs):
    if (
        OWN_TOKEN
        and case.method.upper() == "DELETE"
        and case.path == "/api/v1/tokens/{name}"
        and case.path_parameters.get("name") == OWN_TOKEN
    ):
        case.path_parameters["name"] = OWN_TOKEN + "-not-this-one"
