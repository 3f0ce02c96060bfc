from django.urls import path

from sessions_ui import views

app_name = "sessions_ui"

urlpatterns = [
    path("", views.session_list, name="list"),
]
