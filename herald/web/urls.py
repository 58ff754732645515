from django.contrib.auth import views as auth_views
from django.urls import path

from herald.web import views

app_name = "web"

urlpatterns = [
    # routes:dashboard
    path("", views.dashboard, name="home"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<uuid:campaign_id>/trend/", views.campaign_trend, name="campaign_trend"),
    path(
        "campaigns/<uuid:campaign_id>/platforms/",
        views.campaign_platforms,
        name="campaign_platforms",
    ),
    # routes:builder
    path("campaigns/new/", views.builder_new, name="builder_new"),
    path(
        "campaigns/<uuid:campaign_id>/build/<slug:step>/",
        views.builder_step,
        name="builder_step",
    ),
    path("campaigns/<uuid:campaign_id>/studio/", views.creative_studio, name="creative_studio"),
    path(
        "campaigns/<uuid:campaign_id>/studio/preview/",
        views.creative_preview,
        name="creative_preview",
    ),
    path(
        "campaigns/<uuid:campaign_id>/studio/upload/",
        views.creative_upload,
        name="creative_upload",
    ),
    # routes:settings
    path("settings/", views.settings_page, name="settings"),
    path("settings/organization/", views.settings_organization, name="settings_organization"),
    path(
        "settings/organization/delete/",
        views.settings_organization_delete,
        name="settings_organization_delete",
    ),
    path("settings/members/", views.settings_member_add, name="settings_member_add"),
    path(
        "settings/members/<uuid:membership_id>/role/",
        views.settings_member_role,
        name="settings_member_role",
    ),
    path(
        "settings/members/<uuid:membership_id>/remove/",
        views.settings_member_remove,
        name="settings_member_remove",
    ),
    path("settings/api-keys/", views.settings_api_key_create, name="settings_api_key_create"),
    path(
        "settings/api-keys/<uuid:api_key_id>/revoke/",
        views.settings_api_key_revoke,
        name="settings_api_key_revoke",
    ),
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
