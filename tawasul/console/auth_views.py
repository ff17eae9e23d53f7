"""Staff sign-in, sign-out and password management for the console.

Django's own auth views, with console templates and addresses; django-axes
(settings) counts failed sign-ins and answers a locked-out attempt with the
`console/locked.html` page.
"""

from __future__ import annotations

from django.contrib.auth import views as auth
from django.urls import URLPattern, path, reverse_lazy

from tawasul.console.access import staff_required

urlpatterns: list[URLPattern] = [
    path(
        "login/",
        auth.LoginView.as_view(
            template_name="console/login.html",
            redirect_authenticated_user=True,
            next_page=reverse_lazy("console:home"),
        ),
        name="login",
    ),
    path("logout/", auth.LogoutView.as_view(next_page="console:login"), name="logout"),
    path(
        "password/",
        staff_required(
            auth.PasswordChangeView.as_view(
                template_name="console/password_change.html",
                success_url=reverse_lazy("console:password_change_done"),
            )
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        staff_required(
            auth.PasswordChangeDoneView.as_view(template_name="console/password_change_done.html")
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth.PasswordResetView.as_view(
            template_name="console/password_reset.html",
            email_template_name="console/password_reset_email.html",
            subject_template_name="console/password_reset_subject.html",
            success_url=reverse_lazy("console:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth.PasswordResetDoneView.as_view(template_name="console/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(
            template_name="console/password_reset_confirm.html",
            success_url=reverse_lazy("console:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth.PasswordResetCompleteView.as_view(
            template_name="console/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
