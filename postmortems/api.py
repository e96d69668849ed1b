"""Management API for an incident's postmortem (Statuspage v1: get, put, publish, revert)."""

import zoneinfo

from rest_framework import status as http_status
from rest_framework.response import Response

from incidents.api import incident_or_404
from postmortems import services
from postmortems.queries import find_postmortem
from statuspage.api import OrganizationAPIView, not_found, resource_fields
from statuspage.enums import Role
from statuspage.public_json import timestamp


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


class PostmortemView(OrganizationAPIView):
    write_role = Role.RESPONDER

    def _postmortem(self, page, incident_id):
        postmortem = find_postmortem(incident_or_404(page, incident_id))
        if postmortem is None:
            raise not_found("postmortem")
        return postmortem

    def get(self, request, page_id, incident_id):
        page = self.page(page_id)
        return Response(postmortem_json(self._postmortem(page, incident_id), page))

    def put(self, request, page_id, incident_id):
        """`postmortem[body_draft]` becomes the summary; `title` is optional."""
        page = self.page(page_id)
        incident = incident_or_404(page, incident_id)
        fields = resource_fields(request.data, "postmortem")
        existing = find_postmortem(incident)
        summary = existing.summary if existing else ""
        postmortem = services.save_postmortem(
            incident,
            actor=self.actor,
            title=fields.get("title") or (existing.title if existing else incident.name),
            summary=fields.get("body_draft", fields.get("body", summary)),
            timeline=[(e.at, e.description) for e in existing.timeline.all()] if existing else [],
        )
        return Response(postmortem_json(postmortem, page))

    patch = put

    def delete(self, request, page_id, incident_id):
        page = self.page(page_id)
        postmortem = self._postmortem(page, incident_id)
        services.unpublish_postmortem(postmortem, actor=self.actor)
        postmortem.delete()
        return Response(status=http_status.HTTP_204_NO_CONTENT)


class PostmortemPublish(PostmortemView):
    def put(self, request, page_id, incident_id):
        page = self.page(page_id)
        postmortem = services.publish_postmortem(
            self._postmortem(page, incident_id), actor=self.actor
        )
        return Response(postmortem_json(postmortem, page))

    post = put


class PostmortemRevert(PostmortemView):
    def put(self, request, page_id, incident_id):
        page = self.page(page_id)
        postmortem = services.unpublish_postmortem(
            self._postmortem(page, incident_id), actor=self.actor
        )
        return Response(postmortem_json(postmortem, page))

    post = put
