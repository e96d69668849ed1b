from django.urls import path

from statuspage.views import accounts

app_name = "accounts"

urlpatterns = [
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.login, name="login"),
    path("logout/", accounts.logout, name="logout"),
    path("password/change/", accounts.password_change, name="password-change"),
    path("password/reset/", accounts.password_reset, name="password-reset"),
    path("password/reset/sent/", accounts.password_reset_sent, name="password-reset-sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        accounts.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path(
        "password/reset/complete/", accounts.password_reset_complete, name="password-reset-complete"
    ),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation-accept"),
]
