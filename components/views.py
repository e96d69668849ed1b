"""Console screens for components and their groups."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from components import services
from components.forms import (
    ComponentCreateForm,
    ComponentForm,
    ComponentStatusForm,
    GroupForm,
    MoveForm,
)
from components.queries import (
    get_component_for_page,
    get_group_for_page,
    grouped_components,
    recent_status_changes,
)
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error


def _to_list(request):
    return redirect("components:list", request.page.slug)


@page_console()
def component_list(request):
    layout = grouped_components(request.page)
    context = {
        "layout": layout,
        "has_components": any(components for _, components in layout),
        "has_groups": len(layout) > 1,
        "status_form": ComponentStatusForm(),
    }
    return render(request, "console/components/list.html", context)


@page_console(Role.ADMIN)
def component_create(request):
    form = ComponentCreateForm(request.POST or None, page=request.page)
    if request.method == "POST" and form.is_valid():
        try:
            component = services.create_component(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Component “{component.name}” added.")
            return _to_list(request)
    context = {"form": form, "is_new": True}
    return render(
        request, "console/components/form.html", context, status=400 if form.errors else 200
    )


@page_console(Role.ADMIN)
def component_edit(request, component_id):
    component = get_component_for_page(request.page, component_id)
    initial = {**vars(component), "group": component.group.public_id if component.group else None}
    form = ComponentForm(request.POST or None, page=request.page, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_component(
                component, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Component “{component.name}” saved.")
            return _to_list(request)
    context = {"form": form, "component": component}
    return render(
        request, "console/components/form.html", context, status=400 if form.errors else 200
    )


@page_console()
def component_detail(request, component_id):
    component = get_component_for_page(request.page, component_id)
    context = {
        "component": component,
        "claims": list(component.claims.all()),
        "changes": recent_status_changes(component),
        "status_form": ComponentStatusForm(initial={"status": component.baseline_status}),
    }
    return render(request, "console/components/detail.html", context)


@require_POST
@page_console(Role.ADMIN)
def component_delete(request, component_id):
    component = get_component_for_page(request.page, component_id)
    services.delete_component(component, actor=Actor.for_user(request.user))
    messages.success(request, f"Component “{component.name}” deleted.")
    return _to_list(request)


@require_POST
@page_console(Role.RESPONDER)
def component_status(request, component_id):
    component = get_component_for_page(request.page, component_id)
    form = ComponentStatusForm(request.POST)
    if form.is_valid():
        component = services.set_component_status(
            component, actor=Actor.for_user(request.user), status=form.cleaned_data["status"]
        )
        messages.success(
            request, f"{component.name} is now {component.get_status_display().lower()}."
        )
    else:
        messages.error(request, "Choose one of the statuses.")
    if request.POST.get("return_to") == "detail":
        return redirect("components:detail", request.page.slug, component.public_id)
    return _to_list(request)


@require_POST
@page_console(Role.ADMIN)
def component_move(request, component_id):
    component = get_component_for_page(request.page, component_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.move_component(
            component, actor=Actor.for_user(request.user), direction=form.cleaned_data["direction"]
        )
    return _to_list(request)


@page_console(Role.ADMIN)
def group_create(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Group “{group.name}” added.")
            return _to_list(request)
    context = {"form": form, "is_new": True}
    return render(
        request, "console/components/group_form.html", context, status=400 if form.errors else 200
    )


@page_console(Role.ADMIN)
def group_edit(request, group_id):
    group = get_group_for_page(request.page, group_id)
    form = GroupForm(request.POST or None, initial=vars(group))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_group(group, actor=Actor.for_user(request.user), **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Group “{group.name}” saved.")
            return _to_list(request)
    context = {"form": form, "group": group}
    return render(
        request, "console/components/group_form.html", context, status=400 if form.errors else 200
    )


@require_POST
@page_console(Role.ADMIN)
def group_delete(request, group_id):
    group = get_group_for_page(request.page, group_id)
    services.delete_group(group, actor=Actor.for_user(request.user))
    messages.success(request, f"Group “{group.name}” deleted; its components are now ungrouped.")
    return _to_list(request)


@require_POST
@page_console(Role.ADMIN)
def group_move(request, group_id):
    group = get_group_for_page(request.page, group_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.move_group(
            group, actor=Actor.for_user(request.user), direction=form.cleaned_data["direction"]
        )
    return _to_list(request)
