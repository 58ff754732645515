from django.urls import path

from herald.tracking import views

app_name = "tracking"

urlpatterns = [
    path("i", views.impression, name="impression"),
    path("c/<str:token>", views.click, name="click"),
    path("e", views.engagement, name="engagement"),
    path("batch", views.batch, name="batch"),
    path("o/<uuid:organization_id>/conversions", views.conversions, name="conversions"),
]
