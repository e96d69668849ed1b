"""URLs of a page's public site, served on its own host (or under /s/<slug>/ on the app host)."""

from django.urls import path

from statuspage.views import public

app_name = "public"

urlpatterns = [
    path("", public.page_home, name="home"),
    path("logo", public.logo, name="logo"),
]
