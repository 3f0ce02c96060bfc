from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from sessions_ui.sources import all_sources

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sessions_ui:list", permanent=False)),
    # Django's login, logout and password change; not its password reset, which anyone could use to
    # have mail sent (and which fails without a mail server). An administrator resets passwords.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("sessions/", include("sessions_ui.urls")),
    # The other sources: the same pages in their own URL namespace (sessions_ui.sources.SourceMiddleware).
    *(
        path(f"sources/{source.id}/sessions/", include("sessions_ui.urls", namespace=source.namespace))
        for source in all_sources()
        if not source.is_default
    ),
]
