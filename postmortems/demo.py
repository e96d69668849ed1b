"""Demo postmortem for `seed_demo`: the API outage gets a published report and action items."""

import datetime

from incidents.models import Incident
from postmortems import services
from postmortems.models import Postmortem
from postmortems.queries import default_timeline
from statuspage.actors import Actor
from statuspage.models import Page, User


def seed(page: Page, actor: Actor, owner: User) -> None:
    incident = Incident.objects.filter(page=page, name="API outage").first()
    if incident is None or Postmortem.objects.filter(incident=incident).exists():
        return
    postmortem = services.save_postmortem(
        incident,
        actor=actor,
        title="Post-Incident Report: API outage",
        summary="For 27 minutes the API answered most requests with errors.",
        impact="About 80% of API requests failed; the dashboard could not load data.",
        root_cause="A configuration change sent traffic to a load balancer pool with no "
        "healthy members.",
        resolution="The change was rolled back and the pool refilled.",
        corrective_actions="Configuration changes now roll out region by region with health "
        "checks between steps.",
        timeline=[*default_timeline(incident),
                  (incident.started_at + datetime.timedelta(minutes=20), "Rollback started")],
    )  # fmt: skip
    services.publish_postmortem(postmortem, actor=actor)
    due = incident.started_at.date() + datetime.timedelta(days=30)
    for description, done in [("Roll configuration out region by region", True),
                              ("Alert on empty load balancer pools", False)]:  # fmt: skip
        item = services.add_action_item(postmortem, actor=actor, description=description,
                                        owner=owner, due_date=due)  # fmt: skip
        if done:
            services.set_action_item_done(item, actor=actor, done=True)
