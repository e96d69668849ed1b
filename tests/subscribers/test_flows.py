import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django_scopes import scope, scopes_disabled

from subscribers import services
from subscribers.models import Delivery, EventBacklog, Subscriber
from subscribers.queries import delivery_stats
from tests.component_factories import ComponentFactory
from tests.conftest import BASE_DOMAIN
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db


def link_in(message, kind):
    return re.search(
        rf"http://acme\.{re.escape(BASE_DOMAIN)}(/subscribe/{kind}/\S+)", message.body
    )[1]


def test_subscribe_confirm_notify_manage_unsubscribe(
    public_client, page, django_capture_on_commit_callbacks
):
    api = ComponentFactory(page=page, name="API")
    with django_capture_on_commit_callbacks(execute=True):
        response = public_client.post("/subscribe", {"email": "Reader@Example.test"})
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    assert [m.to for m in mail.outbox] == [["reader@example.test"]]
    assert mail.outbox[0].subject == "Confirm your subscription to Acme Cloud status"
    confirm = link_in(mail.outbox[0], "confirm")

    fresh = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}")
    response = fresh.get(confirm)
    assert response.status_code == 200 and b"You're subscribed" in response.content

    with django_capture_on_commit_callbacks(execute=True):
        open_incident(page, name="API errors", body="Looking", component_statuses={api: None})
    notice = mail.outbox[-1]
    assert notice.to == ["reader@example.test"]
    assert notice.subject == "[Acme Cloud] API errors — Investigating"
    assert notice.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = link_in(notice, "unsubscribe")
    assert notice.extra_headers["List-Unsubscribe"].startswith(
        f"<http://acme.{BASE_DOMAIN}{unsubscribe}>"
    )
    html = notice.alternatives[0][0]
    assert "%%" not in html and "%%" not in notice.body

    manage = link_in(notice, "manage")
    assert fresh.get(manage).status_code == 200
    fresh.post(manage, {"components": [api.public_id]})
    with scopes_disabled():
        subscriber = Subscriber.objects.get(email="reader@example.test")
        assert list(subscriber.components.all()) == [api]

    # A link scanner's GET does nothing; a cookie-less POST (RFC 8058) unsubscribes, no redirect.
    assert Client(HTTP_HOST=f"acme.{BASE_DOMAIN}").get(unsubscribe).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None
    one_click = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}", enforce_csrf_checks=True)
    response = one_click.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None


def test_the_answer_is_the_same_for_new_pending_and_confirmed(public_client, page):
    answers = []
    for _ in range(2):
        answers.append(public_client.post("/subscribe", {"email": "a@example.test"}).content)
    with scopes_disabled():
        Subscriber.objects.filter(email="a@example.test").update(confirmed_at="2026-01-01T00:00Z")
    answers.append(public_client.post("/subscribe", {"email": "a@example.test"}).content)
    assert answers[0] == answers[1] == answers[2]


def test_confirmation_is_resent_at_most_every_few_minutes(page, django_capture_on_commit_callbacks):
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        services.subscribe(page, email="a@example.test")
        services.subscribe(page, email="a@example.test")
    assert len(mail.outbox) == 1


def test_honeypot_and_rate_limits(public_client, page):
    response = public_client.post("/subscribe", {"email": "bot@example.test", "website": "x"})
    assert response.status_code == 200
    with scopes_disabled():
        assert Subscriber.objects.filter(email="bot@example.test").exists() is False
    statuses = [
        public_client.post("/subscribe", {"email": "same@example.test"}).status_code
        for _ in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 200, 429]


def test_bad_email_is_a_400_with_the_input_kept(public_client, page):
    response = public_client.post("/subscribe", {"email": "not-an-email"})
    assert response.status_code == 400
    assert b'value="not-an-email"' in response.content


def test_forged_links_are_404(public_client, page):
    assert public_client.get("/subscribe/confirm/forged").status_code == 404
    assert public_client.post("/subscribe/unsubscribe/forged").status_code == 404


def confirmed(page, email, components=()):
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.create(
            organization=page.organization, page=page, email=email, confirmed_at="2026-01-01T00:00Z"
        )
        subscriber.components.set(components)
    return subscriber


def fanned_out_with_jobs_lost(page, settings):
    """A new incident's update, fanned out while no queue listens: its send jobs are lost, and
    the test sends (or sweeps) by hand. Returns the update and its rows' ids, in key order."""
    incident = open_incident(page)
    settings.JOBS_RUN_IN_PROCESS = False
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}  # nothing listens: lost
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        services.fan_out_update(update)
        ids = sorted(Delivery.objects.filter(update=update).values_list("pk", flat=True))
    return update, ids


def after_the_lease(settings):
    lease = datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1)
    return time_machine.travel(datetime.datetime.now(datetime.UTC) + lease)


def test_fan_out_picks_interested_confirmed_subscribers_once(page):
    api, web = ComponentFactory(page=page, name="API"), ComponentFactory(page=page, name="Web")
    confirmed(page, "all@example.test")
    confirmed(page, "api@example.test", [api])
    confirmed(page, "web@example.test", [web])
    gone = confirmed(page, "gone@example.test")
    with scope(organization=page.organization_id):
        Subscriber.objects.filter(pk=gone.pk).update(unsubscribed_at="2026-02-01T00:00Z")
        Subscriber.objects.create(
            organization=page.organization, page=page, email="pending@example.test"
        )
    incident = open_incident(page, component_statuses={api: None})
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        assert services.fan_out_update(update) == 2
        assert services.fan_out_update(update) == 0
        update.refresh_from_db()
        assert update.fanned_out_at is not None
        assert Delivery.objects.filter(update=update, status="sent").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["all@example.test", "api@example.test"]


def test_updates_without_notify_send_nothing(page):
    confirmed(page, "all@example.test")
    incident = open_incident(page, deliver_notifications=False)
    with scope(organization=page.organization_id):
        assert services.fan_out_update(incident.updates.get()) == 0
    assert mail.outbox == []


def test_sweep_fans_out_what_the_queue_missed(page):
    import datetime

    import time_machine

    confirmed(page, "all@example.test")
    open_incident(page)  # on-commit never ran in this test: as if Redis was down
    assert mail.outbox == []
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)):
        assert services.sweep()["fan_outs"] == 1
    assert [m.to for m in mail.outbox] == [["all@example.test"]]
    assert services.sweep() == {
        "fan_outs": 0,
        "component_fan_outs": 0,
        "send_jobs": 0,
        "released": 0,
    }


def test_who_leaves_between_fan_out_and_sending_is_not_emailed(page, settings):
    stays = confirmed(page, "stays@example.test")
    leaves = confirmed(page, "leaves@example.test")
    quarantined = confirmed(page, "bounces@example.test")
    incident = open_incident(page)
    settings.JOBS_RUN_IN_PROCESS = False
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}  # nothing listens: lost
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        assert services.fan_out_update(update) == 3
        services.unsubscribe(Subscriber.objects.get(pk=leaves.pk))
        Subscriber.objects.filter(pk=quarantined.pk).update(quarantined_at="2026-02-01T00:00Z")
        ids = list(Delivery.objects.filter(update=update).values_list("pk", flat=True))
        assert services.send_deliveries(ids, page.organization_id) == {
            "sent": 1,
            "failed": 0,
            "retry": 0,
        }
        states = dict(Delivery.objects.filter(update=update).values_list("subscriber_id", "status"))
        stats = delivery_stats([update.pk])[update.pk]
    assert [m.to for m in mail.outbox] == [["stays@example.test"]]
    assert states == {stays.pk: "sent", leaves.pk: "withdrawn", quarantined.pk: "withdrawn"}
    assert stats == {"queued": 0, "sent": 1, "failed": 0, "withdrawn": 2}
    assert services.sweep()["send_jobs"] == 0  # withdrawn rows are done, not retried


def test_a_claim_holds_rows_for_the_lease_and_only_in_their_organisation(
    page, other_page, settings
):
    for n in range(3):
        confirmed(page, f"r{n}@example.test")
    _, ids = fanned_out_with_jobs_lost(page, settings)
    assert len(ids) == 3
    assert services._claim(ids, other_page.organization_id)[0] == []  # another tenant's job
    assert [d.pk for d in services._claim(ids, page.organization_id)[0]] == ids
    assert services._claim(ids, page.organization_id)[0] == []  # held: nobody else takes them
    with scopes_disabled():
        rows = Delivery.objects.filter(pk__in=ids)
        # The claim leaves the status (no indexed column changes): the lease is claimed_at.
        assert {(r.status, r.claimed_at is not None) for r in rows} == {("pending", True)}
    with after_the_lease(settings):
        assert services.sweep()["send_jobs"] == 1  # the worker died: the sweep hands them on
        assert [d.pk for d in services._claim(ids, page.organization_id)[0]] == ids


def test_an_event_stays_in_the_sweeps_backlog_until_no_row_is_pending(page, settings):
    for n in range(2):
        confirmed(page, f"b{n}@example.test")
    update, (first, second) = fanned_out_with_jobs_lost(page, settings)
    with scope(organization=page.organization_id):
        assert list(EventBacklog.objects.values_list("update_id", flat=True)) == [update.pk]
        services.send_deliveries([first], page.organization_id)
    with after_the_lease(settings):
        assert services.sweep()["send_jobs"] == 1  # the lost job's row is found and handed on
        with scope(organization=page.organization_id):
            assert EventBacklog.objects.count() == 1
            services.send_deliveries([second], page.organization_id)
        assert services.sweep()["send_jobs"] == 0
        with scope(organization=page.organization_id):
            assert EventBacklog.objects.count() == 0  # every row final: no longer looked at
    assert sorted(m.to[0] for m in mail.outbox) == ["b0@example.test", "b1@example.test"]


def test_rows_whose_subscriber_or_update_vanished_are_withdrawn_not_sent(page, settings):
    # The delivery keys carry no database constraint: a subscriber or update deleted while
    # the fan-out was writing its rows can leave one behind, which the send path withdraws.
    stays = confirmed(page, "stays@example.test")
    removed = confirmed(page, "removed@example.test")
    update, ids = fanned_out_with_jobs_lost(page, settings)
    with scope(organization=page.organization_id):
        Subscriber.objects.filter(pk=removed.pk)._raw_delete("default")  # no cascade: a race
        assert services.send_deliveries(ids, page.organization_id)["sent"] == 1
        states = dict(Delivery.objects.filter(update=update).values_list("subscriber_id", "status"))
        assert states == {stays.pk: "sent", removed.pk: "withdrawn"}
        orphan = Delivery.objects.create(organization=page.organization, update_id=10**9,
                                         subscriber=stays)  # fmt: skip
        assert services.send_deliveries([orphan.pk], page.organization_id)["sent"] == 0
        orphan.refresh_from_db()
    assert orphan.status == "withdrawn"
    assert [m.to for m in mail.outbox] == [["stays@example.test"]]


def test_send_jobs_share_one_prepared_message_until_the_update_is_edited(page):
    from incidents.services import edit_incident_update
    from statuspage.actors import Actor
    from subscribers.emails import prepare_update

    incident = open_incident(page, body="First words")
    with scope(organization=page.organization_id):
        update = incident.updates.select_related("incident__page").get()
        first = prepare_update(update)
        assert prepare_update(update).literals == first.literals  # from the cache
        edit_incident_update(update, actor=Actor.system("tests"), body="Better words")
        update = incident.updates.select_related("incident__page").get()
        edited = b"".join(prepare_update(update).literals)
    assert b"First words" in b"".join(first.literals)
    assert b"Better words" in edited and b"First words" not in edited


def test_subscribe_limit_is_per_page_and_client_behind_the_proxy(page, other_page, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    def visitor(host_page, address, spoofed):
        return Client(
            HTTP_HOST=f"{host_page.slug}.{BASE_DOMAIN}",
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, {address}",
        )

    statuses = [
        visitor(page, "198.51.100.7", f"192.0.2.{n}")
        .post("/subscribe", {"email": f"reader{n}@example.test"})
        .status_code
        for n in range(21)
    ]
    assert statuses == [200] * 20 + [429]
    # Another visitor of the same page, and the same visitor on another page, are not limited.
    another = visitor(page, "198.51.100.8", "198.51.100.7")
    assert another.post("/subscribe", {"email": "x@example.test"}).status_code == 200
    elsewhere = visitor(other_page, "198.51.100.7", "")
    assert elsewhere.post("/subscribe", {"email": "x@example.test"}).status_code == 200
