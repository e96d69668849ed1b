from django import forms

from components.models import Component
from statuspage.forms import FilterForm
from subscribers.addresses import validate_subscriber_email
from subscribers.enums import SubscriberState


class ComponentChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.name


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Email address", validators=[validate_subscriber_email],
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))  # fmt: skip
    components = ComponentChoiceField(
        queryset=Component.objects.none(), required=False, to_field_name="public_id",
        label="Only these components (leave empty for everything)",
    )  # fmt: skip
    # A field people never see: bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = Component.objects.filter(page=page).order_by(
            "group__position", "position"
        )

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class ManageForm(forms.Form):
    components = ComponentChoiceField(
        queryset=Component.objects.none(), required=False, to_field_name="public_id",
        label="Only these components (leave all unticked for everything)",
    )  # fmt: skip

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = Component.objects.filter(page=page)


class AddSubscriberForm(forms.Form):
    email = forms.EmailField(validators=[validate_subscriber_email])
    components = ComponentChoiceField(queryset=Component.objects.none(), required=False,
                                      to_field_name="public_id")  # fmt: skip
    skip_confirmation = forms.BooleanField(
        required=False, label="Skip the confirmation email (they agreed elsewhere)"
    )

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = Component.objects.filter(page=page)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV: email, then component names separated by “;” "
                           "(empty for everything). At most 50,000 rows.")  # fmt: skip
    send_confirmation = forms.BooleanField(
        required=False, initial=True,
        label="Ask each address to confirm (untick only if they agreed elsewhere)",
    )  # fmt: skip


class AddWebhookForm(forms.Form):
    endpoint = forms.URLField(assume_scheme="https", max_length=500,
                              help_text="We POST JSON for every incident update and component "
                              "status change, signed with HMAC-SHA256 in the X-Status-Signature "
                              "header. First comes a challenge: answer with its token to "
                              "confirm.")  # fmt: skip
    components = ComponentChoiceField(queryset=Component.objects.none(), required=False,
                                      to_field_name="public_id")  # fmt: skip
    skip_confirmation = forms.BooleanField(
        required=False, label="Skip the challenge (I vouch for this endpoint)"
    )

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = Component.objects.filter(page=page)


class SubscriberFilterForm(FilterForm):
    state = forms.ChoiceField(required=False, choices=[("", ""), *SubscriberState.choices])
    q = forms.CharField(required=False, max_length=200)
