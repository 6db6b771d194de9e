"""Schemathesis hooks of infra/schemathesis.sh: what the document cannot say.

OpenAPI 3.0 has no keyword for the names of a map's keys, so nothing in the
document tells a generator that the API refuses control characters in
them (the variables of a send, a user's attributes, a template's
variations), as it does in every string; half the generated maps hold one,
and the body is refused. map_body writes such characters as "_".

A scheduled send (POST /v1/notifications with scheduleAt) must be in the
future and at most 366 days ahead: relative to now, which JSON Schema cannot
state either, so generated times are nearly all in the past (sent now) or
too far ahead (422). Without scheduled sends nothing can be cancelled, and
POST /v1/notifications/{id}/cancel only ever answers 404 or 409.
flatmap_body gives most generated sends a scheduleAt between a minute and
30 days ahead.

An inbox message's id is in no answer (it exists once the workers
delivered an in-app send): map_path_parameters names the one
schemathesis.sh seeds.
"""

import os
import re
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st

# What the API refuses in text: C0 but tab and line breaks, DEL, C1.
_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]")


def _clean_keys(value):
    if isinstance(value, dict):
        return {_CONTROL.sub("_", k): _clean_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_keys(v) for v in value]
    return value


@schemathesis.hook
def map_body(context, body):
    # Keys only, and one character for one: a body the document refuses
    # for something else is refused still.
    return _clean_keys(body)


def _at(body, minutes):
    when = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    return {**body, "scheduleAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


@schemathesis.hook.apply_to(method="POST", path="/v1/notifications")
def flatmap_body(context, body):
    # Only a body without scheduleAt: one a negative case made wrong there
    # stays wrong.
    if not isinstance(body, dict) or "scheduleAt" in body:
        return st.just(body)
    # Two in three: a scheduled send is still a send, and each is one
    # that a later step can cancel.
    scheduled = st.integers(1, 30 * 24 * 60).map(lambda m: _at(body, m))
    return st.sampled_from([False, True, True]).flatmap(lambda s: scheduled if s else st.just(body))


@schemathesis.hook.apply_to(method="POST", path="/v1/users/{id}/inbox/{messageId}")
def map_path_parameters(context, path_parameters):
    # An inbox message exists only once an in-app send was dispatched, and
    # no answer names its id: schemathesis.sh seeds one for user st-inbox
    # (INBOX_MESSAGE), and every test of this route changes it.
    message = os.environ.get("INBOX_MESSAGE")
    if not message:
        return path_parameters
    return {**(path_parameters or {}), "id": "st-inbox", "messageId": message}
