"""Management API for an incident's postmortem (Statuspage v1: get, put, publish, revert)."""

import zoneinfo

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.response import Response

from incidents.api import incident_or_404
from postmortems import services
from postmortems.queries import find_postmortem
from statuspage.api import (
    Flag,
    OrganizationAPIView,
    ResourceFields,
    Text,
    Unprocessable,
    not_found,
    read_fields,
)
from statuspage.api_schema import resource_request
from statuspage.enums import Role
from statuspage.public_json import timestamp


class PostmortemSerializer(serializers.Serializer):
    preview_key = serializers.CharField(allow_null=True, help_text="Always null.")
    title = serializers.CharField()
    body = serializers.CharField(help_text="The whole report, Markdown.")
    body_updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    notify_subscribers = serializers.BooleanField(help_text="Always false.")


class PostmortemFields(ResourceFields):
    resource = "postmortem"
    title = Text(help_text="Defaults to the incident's name.")
    body_draft = Text(help_text="The summary; the console's other sections are kept.")
    body = Text(help_text="Same as body_draft.")


class PublishFields(ResourceFields):
    """Publishing never notifies anyone: only false (or nothing) is accepted."""

    resource = "postmortem"
    notify_subscribers = Flag()
    notify_twitter = Flag()
    custom_tweet = Text()


def postmortem_json(postmortem, page) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return {
        "preview_key": None,
        "title": postmortem.title,
        "body": postmortem.body,
        "body_updated_at": timestamp(postmortem.updated_at, zone),
        "published_at": timestamp(postmortem.published_at, zone),
        "notify_subscribers": False,
    }


def postmortem_or_404(page, incident_id):
    postmortem = find_postmortem(incident_or_404(page, incident_id))
    if postmortem is None:
        raise not_found("postmortem")
    return postmortem


class PostmortemView(OrganizationAPIView):
    write_role = Role.RESPONDER

    @extend_schema(summary="An incident's postmortem", responses={200: PostmortemSerializer})
    def get(self, request, page_id, incident_id):
        page = self.page(page_id)
        return Response(postmortem_json(postmortem_or_404(page, incident_id), page))

    @extend_schema(summary="Write the postmortem (once the incident is resolved)",
                   request=resource_request(PostmortemFields, name="PostmortemWrite"),
                   responses={200: PostmortemSerializer})  # fmt: skip
    def put(self, request, page_id, incident_id):
        """`postmortem[body_draft]` becomes the summary; `title` is optional."""
        page = self.page(page_id)
        incident = incident_or_404(page, incident_id)
        fields = read_fields(request, PostmortemFields, partial=True)
        existing = find_postmortem(incident)
        sections = {
            "summary": existing.summary, "impact": existing.impact,
            "root_cause": existing.root_cause, "resolution": existing.resolution,
            "corrective_actions": existing.corrective_actions,
            "show_action_items": existing.show_action_items,
            "timeline": [(e.at, e.description) for e in existing.timeline.all()],
        } if existing else {}  # fmt: skip
        summary = fields.get("body_draft", fields.get("body"))
        if summary is not None:
            sections["summary"] = summary
        postmortem = services.save_postmortem(
            incident,
            actor=self.actor,
            title=fields.get("title") or (existing.title if existing else incident.name),
            **sections,
        )
        return Response(postmortem_json(postmortem, page))

    patch = put

    @extend_schema(summary="Delete the postmortem", responses={204: None})
    def delete(self, request, page_id, incident_id):
        page = self.page(page_id)
        postmortem = postmortem_or_404(page, incident_id)
        services.unpublish_postmortem(postmortem, actor=self.actor)
        postmortem.delete()
        return Response(status=http_status.HTTP_204_NO_CONTENT)


class PostmortemPublish(OrganizationAPIView):
    write_role = Role.RESPONDER

    @extend_schema(summary="Publish the postmortem (nobody is notified)",
                   request=resource_request(PublishFields, name="PostmortemPublish"),
                   responses={200: PostmortemSerializer})  # fmt: skip
    def put(self, request, page_id, incident_id):
        page = self.page(page_id)
        postmortem = postmortem_or_404(page, incident_id)
        fields = read_fields(request, PublishFields, partial=True)
        refused = {
            name: "Publishing a postmortem notifies nobody here; send false."
            for name in ("notify_subscribers", "notify_twitter") if fields.get(name)
        }  # fmt: skip
        if fields.get("custom_tweet"):
            refused["custom_tweet"] = "Posting to Twitter is not supported."
        if refused:
            raise Unprocessable(refused)
        postmortem = services.publish_postmortem(postmortem, actor=self.actor)
        return Response(postmortem_json(postmortem, page))

    post = put


class PostmortemRevert(OrganizationAPIView):
    write_role = Role.RESPONDER

    @extend_schema(summary="Take the postmortem back to a draft", request=None,
                   responses={200: PostmortemSerializer})  # fmt: skip
    def put(self, request, page_id, incident_id):
        page = self.page(page_id)
        postmortem = services.unpublish_postmortem(
            postmortem_or_404(page, incident_id), actor=self.actor
        )
        return Response(postmortem_json(postmortem, page))

    post = put
