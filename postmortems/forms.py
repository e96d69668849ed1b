from django import forms

from incidents.forms import PageDateTimeField, page_zone
from statuspage.forms import FilterForm
from statuspage.models import User


class PostmortemForm(forms.Form):
    title = forms.CharField(max_length=255)
    summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One paragraph for executives. Markdown.",
    )
    impact = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who and what was affected, for how long.",
    )
    root_cause = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    corrective_actions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What will prevent a repeat.",
    )
    show_action_items = forms.BooleanField(
        required=False, initial=True, label="Show the action items (without owners) publicly"
    )


class TimelineEntryForm(forms.Form):
    at = PageDateTimeField(label="Time", required=False)
    description = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, page=None, **kwargs):
        super().__init__(*args, **kwargs)
        if page is not None:
            self.fields["at"].zone = page_zone(page)

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("at")) != bool(cleaned.get("description", "").strip()):
            raise forms.ValidationError("Give both a time and a description, or neither.")
        return cleaned


TimelineFormSet = forms.formset_factory(TimelineEntryForm, extra=2, can_delete=True)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name or obj.email


class ActionItemForm(forms.Form):
    description = forms.CharField(max_length=500)
    owner = OwnerChoiceField(
        queryset=User.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="No owner",
    )
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            memberships__organization=organization
        ).order_by("name")


class ActionItemFilterForm(FilterForm):
    state = forms.ChoiceField(
        required=False, initial="open",
        choices=[(s, s) for s in ("open", "overdue", "done", "all")],
    )  # fmt: skip
    owner = forms.CharField(required=False, max_length=32)
