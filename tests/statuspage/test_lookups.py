"""`field__any`: the same rows as `field__in`, with the list as one parameter on PostgreSQL."""

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from statuspage.lookups import any_of_sql
from statuspage.models import Page

pytestmark = pytest.mark.django_db


def test_any_matches_in_for_lists_empty_lists_and_subqueries(page, other_page):
    ids = [page.pk, other_page.pk, 10**9]
    with scopes_disabled():
        pages = Page.objects.order_by("pk")
        assert list(pages.filter(pk__any=ids)) == list(pages.filter(pk__in=ids))
        assert list(pages.filter(pk__any=[page.pk])) == [page]
        assert list(pages.filter(pk__any=[])) == []
        assert list(pages.filter(pk__any=[None, page.pk])) == [page]
        subquery = Page.objects.filter(pk=other_page.pk).values("pk")
        assert list(pages.filter(pk__any=subquery)) == [other_page]
        assert list(pages.filter(slug__any=[page.slug])) == [page]


def test_any_is_one_array_parameter_on_postgresql(page):
    with scopes_disabled():
        sql, params = Page.objects.filter(pk__any=[1, 2, 3]).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s)" in sql and params == ([1, 2, 3],)
    else:
        assert "IN (%s, %s, %s)" in sql


def test_hand_written_sql_gets_the_same_test(page, other_page):
    fragment, params = any_of_sql("id", [page.pk], connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM statuspage_page WHERE {fragment}", params)
        assert cursor.fetchall() == [(page.pk,)]
        fragment, params = any_of_sql("id", [], connection.vendor)
        cursor.execute(f"SELECT id FROM statuspage_page WHERE {fragment}", params)
        assert cursor.fetchall() == []
