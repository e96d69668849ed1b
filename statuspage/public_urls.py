"""The root URLconf of a page's public site, served on its own host (or under /s/<slug>/ on the
app host). Every public route lives in the `public` namespace."""

from django.urls import include, path

from statuspage.feeds import AtomHistoryFeed, HistoryFeed
from statuspage.public_cache import cache_publicly
from statuspage.views import public, public_api
from subscribers import public_views as subscriptions

public_patterns = [
    path("", public.page_home, name="home"),
    path("incidents/<pid:incident_id>", public.incident_detail, name="incident"),
    path(
        "incidents/<pid:incident_id>/postmortem",
        public.incident_postmortem,
        name="incident-postmortem",
    ),
    path("history", public.history, name="history"),
    path("history.rss", cache_publicly(max_age=60)(HistoryFeed()), name="feed-rss"),
    path("history.atom", cache_publicly(max_age=60)(AtomHistoryFeed()), name="feed-atom"),
    path("badge.svg", public.badge, name="badge"),
    path("embed.js", public.embed_script, name="embed-script"),
    path("embed", public.embed_frame, name="embed"),
    path("logo", public.logo, name="logo"),
    path("subscribe", subscriptions.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>", subscriptions.confirm, name="subscribe-confirm"),
    path("subscribe/manage/<str:token>", subscriptions.manage, name="subscribe-manage"),
    path("subscribe/unsubscribe/<str:token>", subscriptions.unsubscribe, name="unsubscribe"),
    path("api/v2/summary.json", public_api.summary, name="api-summary"),
    path("api/v2/status.json", public_api.status, name="api-status"),
    path("api/v2/components.json", public_api.components, name="api-components"),
    path("api/v2/incidents.json", public_api.incidents, name="api-incidents"),
    path(
        "api/v2/incidents/unresolved.json",
        public_api.incidents_unresolved,
        name="api-incidents-unresolved",
    ),
    path(
        "api/v2/scheduled-maintenances.json",
        public_api.scheduled_maintenances,
        name="api-maintenances",
    ),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        public_api.scheduled_maintenances_upcoming,
        name="api-maintenances-upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        public_api.scheduled_maintenances_active,
        name="api-maintenances-active",
    ),
]

urlpatterns = [
    path("", include((public_patterns, "public"))),
]

handler404 = "statuspage.views.public.not_found"
handler500 = "statuspage.views.errors.server_error"
