"""URLs of the app host: accounts, the console, the API and internal endpoints.

Public pages have their own URLconf (statuspage.public_urls), chosen by statuspage.hosts.
"""

from django.urls import include, path

from incidents import intake_views
from statuspage.views import internal, root

urlpatterns = [
    path("", root.home, name="home"),
    path("healthz", internal.health, name="health"),
    path("healthz/ready", internal.readiness, name="readiness"),
    path("internal/tls-ask", internal.tls_ask, name="tls-ask"),
    path("accounts/", include("statuspage.account_urls")),
    path("api/v1/", include("statuspage.api_urls")),
    path("integrations/<slug:kind>/<slug:token>", intake_views.receive, name="integration-receive"),
    path("console/", include("statuspage.console_urls")),
    path("console/<slug:page_slug>/components/", include("components.urls")),
    path("console/<slug:page_slug>/incidents/", include("incidents.urls")),
    path("console/<slug:page_slug>/subscribers/", include("subscribers.urls")),
    path("console/<slug:page_slug>/postmortems/", include("postmortems.urls")),
]

# With the database unreachable: a plain 503 (console, API, intake) or a page's last good copy.
handler500 = "statuspage.views.errors.server_error"
