"""Control characters in input: NUL is refused at the door, single-line text refuses the rest.

PostgreSQL can neither store nor compare text holding NUL (0x00): a NUL that reaches a query
fails the request with a 500 (SQLite, in development, takes it silently). No text we keep or
look up has a use for it, so `RefuseNulMiddleware` answers every request that carries one — in
its path, a query-string key or value, a form field, a JSON string (`\\u0000`) or a cookie —
with a 400 before any view runs: JSON under /api/ and /integrations/, a short HTML page
elsewhere. One place covers every URL, the ones added later too.

Other control characters are legitimate in multi-line text (tab, CR, LF in a message body),
so they are refused by field: `single_line_validator` on names and titles, where a line break
or an escape character has no meaning (and a newline in a page name would break the subject
line of every notification email).
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.template.loader import render_to_string

NUL = "\x00"
NUL_MESSAGE = "Text may not contain NUL characters."
JSON_PREFIXES = ("/api/", "/integrations/")
# Alert intake reads its body raw, as JSON whatever the content type says, and checks every
# field itself (incidents.intake): its 400 names the field and lands in the integration's
# event log, which the operator reads. So its body is left to it (and no form is parsed from
# the stream before it).
RAW_BODY_PREFIXES = ("/integrations/",)
# `\u0000` in JSON after an even number of backslashes (an odd number escapes the backslash).
JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# C0 controls and DEL, and the C1 controls (U+0080–U+009F); tab counts as a space.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
SINGLE_LINE_MESSAGE = "Use a single line, without line breaks or control characters."


def _has_nul(values) -> bool:
    return any(NUL in value for value in values)


def _has_nul_field(data: QueryDict) -> bool:
    return _has_nul(data.keys()) or _has_nul(v for _, values in data.lists() for v in values)


def carries_nul(request: HttpRequest) -> bool:
    """Whether any text of the request (path, query, cookies, form or JSON body) holds NUL.

    Uploaded files are not text and are not looked at (a PNG logo is full of zero bytes)."""
    if NUL in request.path_info or _has_nul(request.COOKIES.values()):
        return True
    if _has_nul_field(request.GET):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.path_info.startswith(RAW_BODY_PREFIXES):
        return False
    if request.content_type == "multipart/form-data":
        # Django parses multipart for POST only; the API takes JSON or url-encoded writes.
        return request.method == "POST" and _has_nul_field(request.POST)
    if request.content_type == "application/x-www-form-urlencoded":
        # Django fills request.POST for POST only; a PATCH's form is parsed here the same way.
        fields = request.POST if request.method == "POST" else QueryDict(request.body)
        return _has_nul_field(fields)
    return _body_has_nul(request.body)


def _body_has_nul(body: bytes) -> bool:
    return b"\x00" in body or JSON_NUL_ESCAPE.search(body) is not None


def nul_refused_response(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith(JSON_PREFIXES) or "/api/v2/" in request.path_info:
        return JsonResponse({"error": NUL_MESSAGE}, status=400)
    html = render_to_string("400.html", {"message": NUL_MESSAGE})
    return HttpResponse(html, status=400)


class RefuseNulMiddleware:
    """A 400 for any request whose text holds NUL, before routing, caching or a view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        try:
            refused = carries_nul(request)
        except RequestDataTooBig:
            refused = False  # Django's own 400 answers it when the view reads the body
        if refused:
            return nul_refused_response(request)
        return self.get_response(request)


def single_line_validator(value: str) -> None:
    """For names and titles: no line breaks, no control characters (a tab is let through as
    the space it looks like)."""
    if value and CONTROL_CHARACTERS.search(value):
        raise ValidationError(SINGLE_LINE_MESSAGE, code="single_line")


class SingleLineField(forms.CharField):
    """A form's name or title: stripped like any CharField, then `single_line_validator`."""

    default_validators = [single_line_validator]
