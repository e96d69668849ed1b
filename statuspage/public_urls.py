"""The root URLconf of a page's public site, served on its own host (or under /s/<slug>/ on the
app host). Every public route lives in the `public` namespace."""

from django.urls import include, path

from statuspage.views import public

public_patterns = [
    path("", public.page_home, name="home"),
    path("logo", public.logo, name="logo"),
]

urlpatterns = [
    path("", include((public_patterns, "public"))),
]
