"""Schemathesis hooks for scripts/api-check.

- Plugin uploads (`application/wasm`) are sent as raw bytes, as `application/octet-stream`
  bodies are.
- The check never revokes the admin token it runs with (API_CHECK_TOKEN_NAME): Schemathesis
  reuses names it saw in answers (`GET /api/v1/tokens`), and a revoked token would leave
  only 401s to test. Such a request revokes a stand-in made for it instead, so that it
  still names a token that exists (a made-up name would answer 404, which the stateful
  phase reads as "a token just created cannot be found").
"""
import itertools
import json
import os
import urllib.request

import schemathesis

schemathesis.serializer.alias("application/wasm", "application/octet-stream")

OWN_TOKEN = os.environ.get("API_CHECK_TOKEN_NAME")
URL = os.environ.get("API_CHECK_URL")
BEARER = os.environ.get("API_CHECK_TOKEN")
STAND_INS = itertools.count(1)


def stand_in():
    """Creates a token for a request that named the check's own one, and returns its name."""
    name = f"{OWN_TOKEN}-stand-in-{next(STAND_INS)}"
    req = urllib.request.Request(
        f"{URL}/api/v1/tokens",
        method="POST",
        data=json.dumps({"name": name}).encode(),
        headers={"Authorization": f"Bearer {BEARER}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30):
        pass
    return name


@schemathesis.hook
def before_call(context, case, kwargs):
    if (
        OWN_TOKEN
        and case.method.upper() == "DELETE"
        and case.path == "/api/v1/tokens/{name}"
        and case.path_parameters.get("name") == OWN_TOKEN
    ):
        case.path_parameters["name"] = stand_in()
