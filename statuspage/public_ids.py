"""Public ids: what every URL and API response names an object by, never a sequential integer.

Twelve lowercase letters and digits, the shape of Atlassian Statuspage's ids (36^12 ≈ 4.7e18).
"""

import secrets
import string

from django.db import models

ALPHABET = string.ascii_lowercase + string.digits
LENGTH = 12


def new_public_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


class PublicIdField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("default", new_public_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


class PublicIdConverter:
    """`<pid:name>` in URLs: only what a public id can look like reaches a view, so junk such
    as a NUL byte (which PostgreSQL refuses in a query) is a plain 404."""

    regex = f"[{ALPHABET}]{{1,{LENGTH + 4}}}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
