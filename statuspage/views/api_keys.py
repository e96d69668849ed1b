"""Console screens for the organisation's API keys (admins)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from statuspage import services
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from statuspage.models import ApiKey, Page


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Terraform”.")
    access = forms.ChoiceField(choices=ApiKey.Access.choices, initial=ApiKey.Access.RESPONDER)
    can_read_personal_data = forms.BooleanField(
        required=False, label="Personal data",
        help_text="Let a read-only or responder key read subscribers' email addresses and "
        "webhook URLs. Admin keys always can.",
    )  # fmt: skip
    pages = forms.ModelMultipleChoiceField(
        queryset=Page.objects.none(), required=False, to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple, help_text="None ticked: every page.",
    )  # fmt: skip

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pages"].queryset = Page.objects.filter(organization=organization)


@page_console(Role.ADMIN)
def api_key_list(request):
    form = ApiKeyForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            key, raw = services.create_api_key(
                request.organization, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Key “{key.name}” created. Copy it now, it is not shown "
                             f"again: {raw}")  # fmt: skip
            return redirect("console:api-keys", request.page.slug)
    keys = ApiKey.objects.filter(organization=request.organization).prefetch_related("pages")
    context = {"form": form, "keys": keys.order_by("-created_at")}
    return render(request, "console/api_keys.html", context, status=400 if form.errors else 200)


@require_POST
@page_console(Role.ADMIN)
def api_key_revoke(request, key_id):
    key = ApiKey.objects.filter(organization=request.organization, public_id=key_id).first()
    if key is None:
        raise Http404("No such key.")
    services.revoke_api_key(key, actor=Actor.for_user(request.user))
    messages.success(request, f"Key “{key.name}” revoked.")
    return redirect("console:api-keys", request.page.slug)
