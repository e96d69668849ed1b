"""The management API's shared parts (base view, body shapes, paging, errors) and its pages.

Statuspage's v1 paths, field names and values, so existing scripts work by changing only the
base URL and the key. Every view is thin: parse (a serializer per resource, which also
documents the body), one service call, serialise.
"""

from __future__ import annotations

import zoneinfo
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.dateparse import parse_datetime
from django_scopes import scope
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from statuspage import services
from statuspage.actors import Actor
from statuspage.api_auth import key_from_header, page_for_key, touch_last_used
from statuspage.api_schema import ApiSchema, resource_request
from statuspage.control_characters import single_line_validator
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.models import Page
from statuspage.page_urls import public_base_url, public_url
from statuspage.public_json import timestamp


class OrganizationAPIView(APIView):
    """Resolves the key before DRF runs and keeps the whole request inside its organisation's
    tenant scope, so no query in a handler can reach another tenant's rows."""

    write_role = Role.ADMIN
    schema = ApiSchema()

    def dispatch(self, request, *args, **kwargs):
        key = key_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        request.api_key = key
        if key is None:
            return super().dispatch(request, *args, **kwargs)
        touch_last_used(key)
        with scope(organization=key.organization_id):
            return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self) -> Actor:
        return Actor.api_key(self.request.auth.name)

    def page(self, page_id: str) -> Page:
        return page_for_key(self.request.auth, page_id)


class Unprocessable(APIException):
    """422 for several fields at once, in the shape a DomainError gets."""

    status_code = http_status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, messages: dict[str, str]):
        first = next(iter(messages.values()))
        super().__init__({"error": first, **{name: [text] for name, text in messages.items()}})


def handle_exception(exc, context):
    """DRF's errors, plus a DomainError as 422 with its message on its field."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"error": exc.message}
        if exc.field:
            body[exc.field] = [exc.message]
        return Response(body, status=http_status.HTTP_422_UNPROCESSABLE_ENTITY)
    return exception_handler(exc, context)


def resource_fields(data, resource: str) -> dict[str, Any]:
    """`{"incident": {...}}` JSON, or form-encoded `incident[name]=…&incident[ids][]=…`."""
    if not isinstance(data, QueryDict):
        inner = data.get(resource, data) if hasattr(data, "get") else {}
        if not isinstance(inner, dict):
            raise ValidationError({resource: ["Send an object."]})
        return inner
    fields: dict[str, Any] = {}
    prefix = f"{resource}["
    for key in data:
        if not key.startswith(prefix):
            continue
        path = [part.rstrip("]") for part in key[len(prefix) :].split("[")]
        if len(path) >= 2 and path[1] == "":
            fields[path[0]] = data.getlist(key)
        elif len(path) == 2:
            fields.setdefault(path[0], {})[path[1]] = data[key]
        else:
            fields[path[0]] = data[key]
    return fields


class ResourceFields(serializers.Serializer):
    """The fields inside `{"<resource>": {...}}`; subclasses name their `resource`."""

    resource = ""


def read_fields(request, fields_class: type[ResourceFields], *, partial=False) -> dict:
    """The body's fields, checked by `fields_class`: only the fields sent (PATCH), or those
    and the defaults (POST). A wrong type or an unknown choice is a 400 per field."""
    data = resource_fields(request.data, fields_class.resource)
    checked = fields_class(data=data, partial=partial)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


def Text(**kwargs) -> serializers.CharField:
    """Text as sent (numbers are taken as text; null and "" are allowed, rules are the
    service's)."""
    options = {"required": False, "allow_null": True, "allow_blank": True,
               "trim_whitespace": False, **kwargs}  # fmt: skip
    return serializers.CharField(**options)


def Line(**kwargs) -> serializers.CharField:
    """A name or title: text as `Text`, on one line without control characters."""
    return Text(validators=[single_line_validator], **kwargs)


def Flag(**kwargs) -> serializers.BooleanField:
    """true/false, also `t`/`f`, `1`/`0`, `yes`/`no` as Statuspage's forms send them; "" and
    null leave the default."""
    return serializers.BooleanField(required=False, allow_null=True, **kwargs)


def Ids(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False, **kwargs)


class Moment(serializers.DateTimeField):
    """ISO 8601 with an explicit offset: a time without a zone would be a guess. "" is none."""

    default_error_messages = {"zone": "Use ISO 8601 with a time zone, e.g. 2026-11-24T10:00Z."}

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, value):
        if value == "":
            return None
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail("zone")
        return parsed


def as_bool(value, default=None):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def paginate(request, items: list) -> list:
    try:
        page = max(1, int(request.query_params.get("page", 1)))
        per_page = min(100, max(1, int(request.query_params.get("per_page", 100))))
    except ValueError as error:
        raise ValidationError({"page": ["page and per_page are whole numbers."]}) from error
    return items[(page - 1) * per_page : page * per_page]


def not_found(what: str) -> NotFound:
    return NotFound(f"No such {what}.")


# --- Pages ----------------------------------------------------------------------------------

# The public page's fixed colours (static/css/public.css, whose variable each one is), in
# Statuspage's order (css_no_data comes last, after the two we vary); a test keeps the two in
# step.
PUBLIC_PALETTE = {
    "css_body_background_color": ("--bg", "#f7f8fa"),
    "css_font_color": ("--text", "#1d2330"),
    "css_light_font_color": ("--muted", "#4b5565"),
    "css_greens": ("--operational", "#067647"),
    "css_yellows": ("--degraded_performance", "#a15c07"),
    "css_oranges": ("--partial_outage", "#c4320a"),
    "css_blues": ("--under_maintenance", "#175cd3"),
    "css_reds": ("--major_outage", "#b42318"),
    "css_border_color": ("--border", "#e3e6eb"),
    "css_no_data": ("--no-data", "#d0d5dd"),
}
FIXED_COLOURS = ("The public page's text and status colours are fixed (each passes WCAG AA "
                 "contrast); css_link_color sets the accent colour.")  # fmt: skip
OPEN_TO_ALL = "Public pages are open to every visitor."
# Why each page field we return cannot be changed with PATCH. A value equal to the one we
# return is accepted (a client may send back the whole object); any other is a 422.
READ_ONLY_PAGE_FIELDS = {
    "id": "Ids are ours to give.",
    "created_at": "Set when the page was created.",
    "updated_at": "Set on every change.",
    "page_description": "Pages have no description: the public page shows its name and status.",
    "headline": "Pages have no headline: the public page shows its name and status.",
    "branding": "There is one layout (basic); the accent colour and logo brand it.",
    "domain": "Add a custom domain in the console (Settings → Custom domain): it is used once "
    "a DNS TXT record proves it is yours.",
    "url": "The page's address follows from its subdomain and verified custom domain.",
    "hidden_from_search": "Public pages are always open to search engines.",
    "allow_incident_subscribers": "Visitors subscribe to the whole page or to components, not "
    "to a single incident.",
    "allow_sms_subscribers": "SMS notifications are not supported.",
    "allow_webhook_subscribers": "Visitors subscribe by email; add webhook subscribers with "
    "POST /pages/{page_id}/subscribers.",
    "notifications_from_email": "Notifications come from this installation's sender address.",
    "notifications_email_footer": "Notification emails have a fixed footer (the links to "
    "manage or cancel the subscription).",
    "activity_score": "Not kept.",
    "twitter_username": "Posting to Twitter is not supported.",
    "viewers_must_be_subscribed": OPEN_TO_ALL,
    "ip_restrictions": f"{OPEN_TO_ALL} IP restrictions are not supported.",
    "city": "Not kept.",
    "state": "Not kept.",
    "country": "Not kept.",
    **dict.fromkeys(PUBLIC_PALETTE, FIXED_COLOURS),
    "css_graph_color": "There are no metric graphs.",
    "favicon_logo": "The favicon is not configurable.",
    "transactional_logo": "Upload the logo in the console (Settings → Logo).",
    "hero_cover": "There is no hero cover image.",
    "email_logo": "Notification emails carry no logo.",
    "twitter_logo": "Posting to Twitter is not supported.",
}
# Statuspage's page field → our Page field, for the ones PATCH changes.
WRITABLE_PAGE_FIELDS = {
    "name": "name",
    "subdomain": "slug",
    "support_url": "support_url",
    "time_zone": "time_zone",
    "allow_page_subscribers": "allow_subscribers",
    "allow_email_subscribers": "allow_subscribers",
    "allow_rss_atom_feeds": "allow_feeds",
    "css_link_color": "accent_color",
    "brand_color": "accent_color",
}


def page_json(page: Page) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return {
        "id": page.public_id,
        "created_at": timestamp(page.created_at, zone),
        "updated_at": timestamp(page.updated_at, zone),
        "name": page.name,
        "page_description": None,
        "headline": None,
        "branding": "basic",
        "subdomain": page.slug,
        "domain": page.custom_domain if page.has_verified_custom_domain else None,
        "url": public_base_url(page),
        "support_url": page.support_url or None,
        "hidden_from_search": False,
        "allow_page_subscribers": page.allow_subscribers,
        "allow_incident_subscribers": False,
        "allow_email_subscribers": page.allow_subscribers,
        "allow_sms_subscribers": False,
        "allow_rss_atom_feeds": page.allow_feeds,
        "allow_webhook_subscribers": False,
        "notifications_from_email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or None,
        "notifications_email_footer": None,
        "activity_score": 0,
        "twitter_username": None,
        "viewers_must_be_subscribed": False,
        "ip_restrictions": None,
        "city": None,
        "state": None,
        "country": None,
        "time_zone": page.time_zone,
        **{name: PUBLIC_PALETTE[name][1] for name in list(PUBLIC_PALETTE)[:-1]},
        "css_graph_color": None,
        "css_link_color": page.accent_color,
        "css_no_data": PUBLIC_PALETTE["css_no_data"][1],
        "favicon_logo": None,
        "transactional_logo": public_url(page, "/logo") if page.logo else None,
        "hero_cover": None,
        "email_logo": None,
        "twitter_logo": None,
        "brand_color": page.accent_color,
    }


def Colour(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


class PageSerializer(serializers.Serializer):
    """Statuspage's page object. Fields we have no equivalent for carry Statuspage's empty
    value (null or false); see docs/api.md."""

    id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField()
    page_description = serializers.CharField(allow_null=True, help_text="Always null.")
    headline = serializers.CharField(allow_null=True, help_text="Always null.")
    branding = serializers.ChoiceField(choices=["basic"])
    subdomain = serializers.CharField(help_text="The page lives at <subdomain>.<our domain>.")
    domain = serializers.CharField(allow_null=True, help_text="The verified custom domain.")
    url = serializers.URLField(help_text="The public page's address.")
    support_url = serializers.URLField(allow_null=True)
    hidden_from_search = serializers.BooleanField(help_text="Always false.")
    allow_page_subscribers = serializers.BooleanField(help_text="Visitors may subscribe.")
    allow_incident_subscribers = serializers.BooleanField(help_text="Always false.")
    allow_email_subscribers = serializers.BooleanField(help_text="Same as allow_page_subscribers.")
    allow_sms_subscribers = serializers.BooleanField(help_text="Always false.")
    allow_rss_atom_feeds = serializers.BooleanField()
    allow_webhook_subscribers = serializers.BooleanField(
        help_text="Always false: visitors subscribe by email; operators add webhooks."
    )
    notifications_from_email = serializers.EmailField(allow_null=True)
    notifications_email_footer = serializers.CharField(allow_null=True, help_text="Always null.")
    activity_score = serializers.IntegerField(help_text="Always 0.")
    twitter_username = serializers.CharField(allow_null=True, help_text="Always null.")
    viewers_must_be_subscribed = serializers.BooleanField(help_text="Always false.")
    ip_restrictions = serializers.CharField(allow_null=True, help_text="Always null.")
    city = serializers.CharField(allow_null=True, help_text="Always null.")
    state = serializers.CharField(allow_null=True, help_text="Always null.")
    country = serializers.CharField(allow_null=True, help_text="Always null.")
    time_zone = serializers.CharField(help_text="An IANA zone, e.g. Europe/Paris.")
    css_body_background_color = Colour()
    css_font_color = Colour()
    css_light_font_color = Colour()
    css_greens = Colour()
    css_yellows = Colour()
    css_oranges = Colour()
    css_blues = Colour()
    css_reds = Colour()
    css_border_color = Colour()
    css_graph_color = Colour(help_text="Always null.")
    css_link_color = Colour(help_text="The accent colour (links, buttons).")
    css_no_data = Colour()
    favicon_logo = serializers.URLField(allow_null=True, help_text="Always null.")
    transactional_logo = serializers.URLField(allow_null=True, help_text="The header logo.")
    hero_cover = serializers.URLField(allow_null=True, help_text="Always null.")
    email_logo = serializers.URLField(allow_null=True, help_text="Always null.")
    twitter_logo = serializers.URLField(allow_null=True, help_text="Always null.")
    brand_color = Colour(help_text="Ours: the accent colour, as css_link_color.")


FIXED = "Only the value GET returns is accepted (see docs/api.md)."


class PageFields(ResourceFields):
    """What PATCH changes; the other fields of the page take only the value they have."""

    resource = "page"
    name = Line(allow_null=False)
    subdomain = Text(allow_null=False)
    support_url = Text(help_text="An http(s) URL; empty or null removes it.")
    time_zone = Text(allow_null=False, help_text="An IANA zone, e.g. Europe/Paris.")
    allow_page_subscribers = serializers.BooleanField(required=False)
    allow_email_subscribers = serializers.BooleanField(
        required=False, help_text="Same switch as allow_page_subscribers."
    )
    allow_rss_atom_feeds = serializers.BooleanField(required=False)
    css_link_color = Text(allow_null=False, help_text="# and six hex digits.")
    brand_color = Text(allow_null=False, help_text="Same as css_link_color.")
    page_description = Text(help_text=FIXED)
    headline = Text(help_text=FIXED)
    branding = Text(help_text=FIXED)
    domain = Text(help_text=FIXED)
    url = Text(help_text=FIXED)
    hidden_from_search = Flag(help_text=FIXED)
    allow_incident_subscribers = Flag(help_text=FIXED)
    allow_sms_subscribers = Flag(help_text=FIXED)
    allow_webhook_subscribers = Flag(help_text=FIXED)
    notifications_from_email = Text(help_text=FIXED)
    notifications_email_footer = Text(help_text=FIXED)
    twitter_username = Text(help_text=FIXED)
    viewers_must_be_subscribed = Flag(help_text=FIXED)
    ip_restrictions = Text(help_text=FIXED)
    city = Text(help_text=FIXED)
    state = Text(help_text=FIXED)
    country = Text(help_text=FIXED)
    css_body_background_color = Text(help_text=FIXED)
    css_font_color = Text(help_text=FIXED)
    css_light_font_color = Text(help_text=FIXED)
    css_greens = Text(help_text=FIXED)
    css_yellows = Text(help_text=FIXED)
    css_oranges = Text(help_text=FIXED)
    css_blues = Text(help_text=FIXED)
    css_reds = Text(help_text=FIXED)
    css_border_color = Text(help_text=FIXED)
    css_graph_color = Text(help_text=FIXED)
    css_no_data = Text(help_text=FIXED)


def _same(sent, current) -> bool:
    if isinstance(sent, str) and isinstance(current, str):
        return sent.casefold() == current.casefold()
    return sent == current


def page_changes(page: Page, request) -> dict:
    """The Page field changes a PATCH asks for; 422 naming every field it cannot honour."""
    sent = resource_fields(request.data, "page")
    checked = PageFields(data=sent, partial=True)
    checked.is_valid(raise_exception=True)
    fields = {**sent, **checked.validated_data}
    current = page_json(page)
    refused: dict[str, str] = {}
    changes: dict[str, Any] = {}
    sent_as: dict[str, str] = {}
    for name, value in fields.items():
        if name in WRITABLE_PAGE_FIELDS:
            target = WRITABLE_PAGE_FIELDS[name]
            value = "" if value is None and target == "support_url" else value
            # Two names for one setting: the one that changes something wins.
            if target not in changes or _same(changes[target], getattr(page, target)):
                changes[target], sent_as[target] = value, name
            elif not _same(value, getattr(page, target)) and not _same(value, changes[target]):
                refused[name] = f"{sent_as[target]} and {name} are one setting: send one value."
        elif name not in current:
            refused[name] = "No such page field."
        elif not _same(value, current[name]):
            refused[name] = READ_ONLY_PAGE_FIELDS[name]
    if refused:
        raise Unprocessable(refused)
    return changes


PAGE_PATCH = resource_request(PageFields, name="PageUpdate")


class PageList(OrganizationAPIView):
    @extend_schema(summary="Pages the key may use", responses={200: PageSerializer(many=True)})
    def get(self, request):
        key = request.auth
        pages = list(key.pages.all()) or list(Page.objects.order_by("name"))
        return Response([page_json(p) for p in paginate(request, pages)])


class PageDetail(OrganizationAPIView):
    @extend_schema(summary="A page", responses={200: PageSerializer})
    def get(self, request, page_id):
        return Response(page_json(self.page(page_id)))

    @extend_schema(summary="Change a page's settings", request=PAGE_PATCH,
                   responses={200: PageSerializer})  # fmt: skip
    def patch(self, request, page_id):
        page = self.page(page_id)
        services.update_page_settings(page, actor=self.actor, **page_changes(page, request))
        return Response(page_json(page))

    put = patch
