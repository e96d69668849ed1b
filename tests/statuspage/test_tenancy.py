import pytest
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from statuspage.models import AuditEntry, Invitation, Membership, Page

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Page, Membership, Invitation, AuditEntry])
def test_a_tenant_query_outside_a_scope_raises(model, page):
    with pytest.raises(ScopeError):
        list(model.objects.all())


def test_a_scope_sees_only_its_organisation(page, other_page):
    with scope(organization=page.organization_id):
        assert list(Page.objects.all()) == [page]
    with scope(organization=other_page.organization_id):
        assert list(Page.objects.all()) == [other_page]
