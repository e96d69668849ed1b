"""factory_boy factories. Every tenant-owned row takes its organisation from its parent."""

import factory
from django_scopes import scopes_disabled

from statuspage.enums import Role
from statuspage.models import Invitation, Membership, Organization, Page, User

PASSWORD = "correct-horse-battery-staple"


class ScopesDisabledFactory(factory.django.DjangoModelFactory):
    """Test data is created outside any tenant scope, on purpose."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    # Not Faker's random names: now and then one came close enough to a test's password that
    # the validators added "too similar to the name" where a test expects only "too common".
    name = factory.Sequence(lambda n: f"Ada Lovelace {n}")
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")


class PageFactory(ScopesDisabledFactory):
    class Meta:
        model = Page

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Page {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")


class MembershipFactory(ScopesDisabledFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class InvitationFactory(ScopesDisabledFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.RESPONDER
