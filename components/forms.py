from django import forms

from components.enums import ComponentStatus
from components.models import ComponentGroup
from statuspage.control_characters import SingleLineField


class ComponentForm(forms.Form):
    name = SingleLineField(max_length=255)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to visitors under the name.",
    )  # fmt: skip
    group = forms.ModelChoiceField(
        queryset=ComponentGroup.objects.none(), required=False, empty_label="No group"
    )
    showcase = forms.BooleanField(
        required=False, initial=True, label="Show 90-day uptime on the public page"
    )
    only_show_if_degraded = forms.BooleanField(
        required=False, label="Only show this component when it is not operational"
    )
    start_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Uptime is not shown or counted before this day.",
    )

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = ComponentGroup.objects.filter(page=page)
        self.fields["group"].to_field_name = "public_id"


class ComponentCreateForm(ComponentForm):
    status = forms.ChoiceField(choices=ComponentStatus.choices, initial="operational")


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)


class GroupForm(forms.Form):
    name = SingleLineField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_collapsed = forms.BooleanField(
        required=False, label="Collapsed by default on the public page"
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
