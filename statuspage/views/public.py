"""The public site. Until the public-site issue fills it, the home page names the page."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import http_date
from django.views.decorators.http import require_safe


@require_safe
def page_home(request):
    return render(request, "public/home.html", {"page": request.page})


@require_safe
def logo(request):
    page = request.page
    if not page.logo:
        raise Http404("No logo.")
    response = HttpResponse(bytes(page.logo), content_type=page.logo_content_type)
    response["Cache-Control"] = "public, max-age=300"
    response["Last-Modified"] = http_date(page.updated_at.timestamp())
    return response
