import factory

from components.models import Component, ComponentGroup
from tests.factories import PageFactory, ScopesDisabledFactory


class ComponentGroupFactory(ScopesDisabledFactory):
    class Meta:
        model = ComponentGroup

    page = factory.SubFactory(PageFactory)
    organization = factory.SelfAttribute("page.organization")
    name = factory.Sequence(lambda n: f"Group {n}")
    position = factory.Sequence(lambda n: n)


class ComponentFactory(ScopesDisabledFactory):
    class Meta:
        model = Component

    page = factory.SubFactory(PageFactory)
    organization = factory.SelfAttribute("page.organization")
    name = factory.Sequence(lambda n: f"Component {n}")
    position = factory.Sequence(lambda n: n)
