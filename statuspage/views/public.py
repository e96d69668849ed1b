"""The public site. Until the public-site issue fills it, the home page names the page."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from statuspage.public_cache import cache_publicly


@require_safe
@cache_publicly()
def page_home(request):
    return render(request, "public/home.html", {"page": request.page})


@require_safe
@cache_publicly(max_age=300)
def logo(request):
    page = request.page
    if not page.logo:
        raise Http404("No logo.")
    response = HttpResponse(bytes(page.logo), content_type=page.logo_content_type)
    response["Last-Modified"] = http_date(page.updated_at.timestamp())
    return response
