from django.contrib.auth import views as auth_views
from django.urls import path

from herald.web import views

app_name = "web"

urlpatterns = [
    # routes:dashboard
    path("", views.home, name="home"),
    # routes:builder
    # routes:settings
    path("campaigns/<uuid:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path(
        "campaigns/<uuid:campaign_id>/actions/<slug:action>/",
        views.campaign_action,
        name="campaign_action",
    ),
    path(
        "campaigns/<uuid:campaign_id>/accounts/", views.campaign_accounts, name="campaign_accounts"
    ),
    path("connections/", views.connections, name="connections"),
    path(
        "connections/<uuid:connection_id>/<slug:action>/",
        views.connection_action,
        name="connection_action",
    ),
    path("organization/switch/", views.switch_organization, name="switch_organization"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
