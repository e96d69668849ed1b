"""The public content version: what makes a cached public page stale.

Every service that changes what visitors see calls `public_content_changed(page)`. After the
transaction commits, the page gets a fresh random version token; public responses are cached
under keys that include it, so the very next request renders anew. A random token (not a
counter) stays correct even if the cache is flushed between two reads.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

from statuspage.models import Page

KEY = "page-content-version:{page_id}"


def _new_token() -> str:
    return secrets.token_hex(8)


def content_version(page_id: int) -> str:
    return shared_token(KEY.format(page_id=page_id))


def shared_token(key: str) -> str:
    """The random token stored under `key`, made once if missing (racing processes agree)."""
    token = cache.get(key)
    if token is None:
        token = _new_token()
        if not cache.add(key, token, timeout=None):
            token = cache.get(key) or token
    return token


def replace_token(key: str) -> None:
    cache.set(key, _new_token(), timeout=None)


def public_content_changed(page: Page) -> None:
    """Bump now and again after commit: a request that renders between the two (seeing the
    old rows) caches under the in-between version, which the commit's bump makes unreachable."""
    key = KEY.format(page_id=page.pk)
    replace_token(key)
    transaction.on_commit(lambda: replace_token(key))
