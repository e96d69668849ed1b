from django.urls import path

from statuspage.views import api_keys, audit, console, domains, members

app_name = "console"

urlpatterns = [
    path("", console.home, name="home"),
    path("pages/new/", console.page_create, name="page-create"),
    path("<slug:page_slug>/", console.page_dashboard, name="page-dashboard"),
    path("<slug:page_slug>/settings/", console.page_settings, name="page-settings"),
    path("<slug:page_slug>/settings/logo/", console.page_logo, name="page-logo"),
    path("<slug:page_slug>/settings/delete/", console.page_delete, name="page-delete"),
    path("<slug:page_slug>/embed/", console.embed, name="embed"),
    path("<slug:page_slug>/domain/", domains.domain, name="domain"),
    path("<slug:page_slug>/domain/verify/", domains.domain_verify, name="domain-verify"),
    path("<slug:page_slug>/domain/remove/", domains.domain_remove, name="domain-remove"),
    path("<slug:page_slug>/team/", members.member_list, name="members"),
    path("<slug:page_slug>/team/invite/", members.member_invite, name="member-invite"),
    path("<slug:page_slug>/team/<pid:user_id>/role/", members.member_role, name="member-role"),
    path(
        "<slug:page_slug>/team/<pid:user_id>/remove/",
        members.member_remove,
        name="member-remove",
    ),
    path(
        "<slug:page_slug>/team/invitations/<pid:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation-revoke",
    ),
    path("<slug:page_slug>/organization/", members.organization_settings, name="organization"),
    path(
        "<slug:page_slug>/organization/delete/",
        members.organization_delete,
        name="organization-delete",
    ),
    path("<slug:page_slug>/audit/", audit.audit_log, name="audit-log"),
    path("<slug:page_slug>/api-keys/", api_keys.api_key_list, name="api-keys"),
    path(
        "<slug:page_slug>/api-keys/<pid:key_id>/revoke/",
        api_keys.api_key_revoke,
        name="api-key-revoke",
    ),
]
