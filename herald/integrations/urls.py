from django.urls import path

from herald.integrations import views

app_name = "integrations"

urlpatterns = [
    path("<str:provider>/callback/", views.oauth_callback, name="callback"),
]
