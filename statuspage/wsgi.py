"""WSGI entry point: gunicorn statuspage.wsgi:application."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

django_application = get_wsgi_application()

# Imported once Django is set up: the fast path reads models' cache entries.
from statuspage.public_cache import PublicFastPath  # noqa: E402

application = PublicFastPath(django_application)
