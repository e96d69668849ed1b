"""The content version: in the database, bumped in the writer's transaction, mirrored forward
only, and reconciled when a mirror update was lost."""

import json

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from statuspage import publishing
from statuspage.jobs import reconcile_content_versions_job
from statuspage.models import Page

pytestmark = pytest.mark.django_db(transaction=True)


def stored(page) -> tuple[int, bool]:
    row = Page.objects.with_scopes_disabled().filter(pk=page.pk)
    return row.values_list("content_version", "is_version_mirrored").get()


def test_a_write_bumps_the_database_version_and_mirrors_it_on_commit(page):
    before = publishing.content_version(page.pk)
    with transaction.atomic():
        publishing.public_content_changed(page)
        inside, mirrored = stored(page)
        assert inside > before and mirrored is False
        assert cache.get(publishing.KEY.format(page_id=page.pk)) is None  # readers ask the db
    assert stored(page) == (inside, True)
    assert cache.get(publishing.KEY.format(page_id=page.pk)) == inside
    assert publishing.content_version(page.pk) == inside


def test_a_rolled_back_write_leaves_the_version(page):
    before = publishing.content_version(page.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        publishing.public_content_changed(page)
        raise RuntimeError
    assert publishing.content_version(page.pk) == before == stored(page)[0]


def test_the_mirror_only_moves_forward(page):
    key = publishing.KEY.format(page_id=page.pk)
    publishing._mirror(page.pk, 50)
    publishing._mirror(page.pk, 40)  # a late writer's older value
    assert cache.get(key) == 50


def test_a_missing_mirror_is_filled_from_the_database(page):
    version = stored(page)[0]
    cache.clear()  # Redis restarted empty
    assert publishing.content_version(page.pk) == version
    assert cache.get(publishing.KEY.format(page_id=page.pk)) == version


def test_reconcile_pushes_versions_whose_mirror_update_was_lost(page, other_page):
    key = publishing.KEY.format(page_id=page.pk)
    cache.set(key, stored(page)[0])  # the mirror as it was before the outage
    with transaction.atomic():
        publishing.public_content_changed(page)
        version = stored(page)[0]
    cache.set(key, 1)  # a partition healed with old data: the commit's mirror update was lost
    Page.objects.with_scopes_disabled().filter(pk=page.pk).update(is_version_mirrored=False)
    assert reconcile_content_versions_job() == 1
    assert (cache.get(key), stored(page)) == (version, (version, True))
    assert reconcile_content_versions_job() == 0


def test_readiness_names_each_dependency(db):
    response = Client().get("/healthz/ready")
    assert (response.status_code, json.loads(response.content)) == (
        200,
        {
            "status": "ok",
            "checks": {
                "database": {"status": "ok"},
                "cache": {"status": "ok", "backend": "LocMemCache"},
                "queue": {"status": "ok", "mode": "in-process"},
            },
        },
    )


def test_liveness_asks_no_dependency(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
