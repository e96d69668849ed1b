"""WSGI entry point: gunicorn statuspage.wsgi:application."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

from statuspage.public_cache import PublicFastPath

application = PublicFastPath(get_wsgi_application())
