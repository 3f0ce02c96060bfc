"""The app's URLs plus Django admin's changelist for Agno's table with a default ModelAdmin.

A separate AdminSite, so what is measured is the stock changelist and never the app's own admin.
"""

from django.contrib import admin
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns
from sessions_ui.models import AgnoSession


class DefaultSessionAdmin(admin.ModelAdmin):
    list_per_page = 50  # the page size of our list and of the Agno query; everything else is the default


default_admin = admin.AdminSite(name="bench_admin")
default_admin.register(AgnoSession, DefaultSessionAdmin)

urlpatterns = [path("bench-admin/", default_admin.urls), *app_urlpatterns]
