"""Atom and RSS feeds of a page's incidents and maintenance (Django's syndication framework)."""

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from incidents.models import Incident
from incidents.queries import PUBLISHED, with_timeline
from postmortems.queries import published_postmortems
from statuspage.page_urls import public_base_url

FEED_SIZE = 50


class HistoryFeed(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request):
        page = request.page
        if not page.allow_feeds:
            raise Http404("Feeds are off for this page.")
        return page

    def title(self, page):
        return f"{page.name} status"

    def link(self, page):
        return public_base_url(page) + "/"

    def description(self, page):
        return f"Incidents and scheduled maintenance of {page.name}."

    def items(self, page):
        incidents = list(
            with_timeline(
                Incident.objects.filter(PUBLISHED, page=page).select_related("page"),
                responders=False,
            ).order_by("-updated_at", "-id")[:FEED_SIZE]
        )
        postmortems = published_postmortems(i.pk for i in incidents)
        for incident in incidents:
            incident.published_postmortem = postmortems.get(incident.pk)
        return incidents

    def item_title(self, incident):
        return incident.name

    def item_link(self, incident):
        return f"{public_base_url(incident.page)}/incidents/{incident.public_id}"

    def item_guid(self, incident):
        return self.item_link(incident)

    def item_description(self, incident):
        postmortem = getattr(incident, "published_postmortem", None)
        if postmortem is not None:  # the postmortem is the incident's latest word
            return f"<p><strong>Postmortem: {postmortem.title}</strong></p>{postmortem.body_html}"
        latest = next(iter(incident.updates.all()), None)
        if latest is None:
            return ""
        return f"<p><strong>{latest.get_status_display()}</strong></p>{latest.body_html}"

    def item_pubdate(self, incident):
        return incident.started_at

    def item_updateddate(self, incident):
        postmortem = getattr(incident, "published_postmortem", None)
        if postmortem is not None:
            return postmortem.updated_at
        latest = next(iter(incident.updates.all()), None)
        return latest.display_at if latest else incident.updated_at


class AtomHistoryFeed(HistoryFeed):
    feed_type = Atom1Feed
    subtitle = HistoryFeed.description
