import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from statuspage.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_tenant
from statuspage.page_urls import app_url, public_base_url


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo tenant: organisation Acme, page `acme`, an owner and a "
        "responder. Prints one JSON line with the page id, the logins and the API key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (demo passwords!)."
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates logins with a known password; it refuses to run with DEBUG "
                "off. Pass --force if you really mean it."
            )
        demo = seed_tenant()
        line = {
            "page_id": demo.page.public_id,
            "page_slug": demo.page.slug,
            "page_url": public_base_url(demo.page) + "/",
            "console_url": app_url("/console/"),
            "logins": [
                {"email": email, "password": DEMO_PASSWORD, "role": str(role)}
                for email, _name, role in DEMO_LOGINS
            ],
            "api_key": demo.api_key,
        }
        self.stdout.write(json.dumps(line))
