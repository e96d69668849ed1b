"""The public content version: what makes a cached public page stale.

The version is `Page.content_version`, a number in PostgreSQL. Every service that changes
what visitors see calls `public_content_changed(page)`, which raises it by a random step with
an UPDATE in the writer's own transaction, so the version and the rows it stands for commit
together: a request that reads the version before the commit renders the old rows under the
old version, and every request after the commit reads the new one. Public responses are
cached under keys holding it, so nothing stale is served and nothing needs purging.

Redis mirrors the version (`page-version:<id>`) so a warm hit needs no database. The mirror
only moves forward (set-if-greater), whatever order writers' updates arrive in. Readers that
find no mirror (Redis restarted empty, or unreachable) read the database. A write whose mirror
update failed leaves `Page.is_version_mirrored` False; `reconcile_mirrors` pushes those
versions when Redis is back (a partition that healed with its old data still there): on the
cache's recovery, before the call that found it up, and from a periodic job. With PostgreSQL
down as well, each process answers with the last version it saw of the page.

Random steps (and a random start) keep a (page, version) pair from naming two contents when
versions move back (a database restored from a backup, a test's rolled-back page). After such
a restore, flush the cache: its mirrors may hold versions from after the backup.
"""

from __future__ import annotations

import logging
import secrets
import threading

from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import connection, connections, transaction

from statuspage.models import Page

logger = logging.getLogger(__name__)

KEY = "page-version:{page_id}"
# How long the call that found Redis back waits for the reconcile (in its own thread).
RECONCILE_WAIT_SECONDS = 0.5

STEP = 2**20  # from a start below 2**40: 2**33 writes to a page before Lua loses exactness
# One statement, so the new value comes back without a second query (RETURNING: PostgreSQL,
# SQLite 3.35+).
BUMP_SQL = (
    "UPDATE {table} SET content_version = content_version + %s, is_version_mirrored = %s"
    " WHERE id = %s RETURNING content_version"
)

_last_known: dict[int, int] = {}  # page id → version this process last saw


def content_version(page_id: int) -> int:
    """The page's current version: the mirror, else the database (refilling the mirror), else
    — the database down too — the last one this process saw. Raises the database's error
    when there is none."""
    version = cache.get(KEY.format(page_id=page_id))
    if version is None:
        version = _version_from_database(page_id)
        _mirror(page_id, version)
    _last_known[page_id] = version
    return version


def _version_from_database(page_id: int) -> int:
    try:
        pages = Page.objects.with_scopes_disabled().filter(pk=page_id)
        found = pages.values_list("content_version", flat=True).first()
    except DatabaseError:
        if page_id in _last_known:
            return _last_known[page_id]
        raise
    return found or 0  # 0: no such page (it was deleted); nothing is cached under it


def _mirror(page_id: int, version: int) -> bool:
    """Make the mirror hold at least `version`. False when the cache could not be reached."""
    key = KEY.format(page_id=page_id)
    set_max = getattr(cache, "set_max", None)
    if set_max is not None:  # statuspage.cache_backend: atomic
        return set_max(key, version)
    current = cache.get(key)  # development and test caches: one process, or near enough
    if current is None or current < version:
        cache.set(key, version, timeout=None)
    return True


def public_content_changed(page: Page) -> None:
    """Bump the page's version inside the caller's transaction (locking the page row until it
    commits), drop the mirror now, so that readers ask the database meanwhile (other
    transactions still see the old version; this one the new), and mirror it once committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            BUMP_SQL.format(table=connection.ops.quote_name(Page._meta.db_table)),
            [secrets.randbelow(STEP) + 1, False, page.pk],
        )
        (version,) = cursor.fetchone()
    page.content_version = version
    page.is_version_mirrored = False
    cache.delete(KEY.format(page_id=page.pk))
    transaction.on_commit(lambda: _mirror_committed(page.pk, version))


def _mirror_committed(page_id: int, version: int) -> None:
    _last_known[page_id] = max(version, _last_known.get(page_id, 0))
    if not _mirror(page_id, version):
        return  # still marked unmirrored: reconcile_mirrors pushes it when Redis is back
    try:
        _mark_mirrored(page_id, version)
    except DatabaseError:
        logger.warning("could not mark page %s version %s mirrored", page_id, version)


def _mark_mirrored(page_id: int, version: int) -> None:
    pages = Page.objects.with_scopes_disabled().filter(pk=page_id, content_version=version)
    pages.update(is_version_mirrored=True)


def reconcile_mirrors() -> int:
    """Push every version whose mirror update failed to the mirror; returns how many were
    pushed. Idempotent (the mirror only moves forward); the periodic job and the recovery
    hook both call it."""
    pages = Page.objects.with_scopes_disabled().filter(is_version_mirrored=False)
    pushed = 0
    for page_id, version in pages.values_list("pk", "content_version"):
        if not _mirror(page_id, version):
            break  # the cache is gone again; the next run continues
        _mark_mirrored(page_id, version)
        pushed += 1
    if pushed:
        logger.info("reconciled the content version of %d page(s)", pushed)
    return pushed


def reconcile_after_outage() -> None:
    """Cache recovery hook (settings.CACHES OPTIONS). The caller may be anywhere, inside a
    transaction or the WSGI fast path, so the work runs in a thread with its own database
    connection; the caller waits for it a moment, so that its own read sees the result."""
    worker = threading.Thread(target=_reconcile_in_thread, name="reconcile-versions", daemon=True)
    worker.start()
    worker.join(RECONCILE_WAIT_SECONDS)


def _reconcile_in_thread() -> None:
    try:
        reconcile_mirrors()
    except Exception:
        logger.exception("reconciling content versions failed; the periodic job retries")
    finally:
        connections.close_all()


# --- Shared random tokens (the host map's generation) --------------------------------------


def _new_token() -> str:
    return secrets.token_hex(8)


def shared_token(key: str) -> str:
    """The random token stored under `key`, made once if missing (racing processes agree)."""
    token = cache.get(key)
    if token is None:
        token = _new_token()
        if not cache.add(key, token, timeout=None):
            token = cache.get(key) or token
    return token


def replace_token(key: str) -> bool:
    """False when the cache could not be reached (the resilient backend says so)."""
    return cache.set(key, _new_token(), timeout=None) is not False
