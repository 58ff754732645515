from django.contrib.auth import views as auth_views
from django.urls import path

from herald.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/<uuid:campaign_id>/", views.campaign_detail, name="campaign_detail"),
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
