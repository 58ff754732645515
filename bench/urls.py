"""The project's URLs plus the benchmark's own: the naive baselines and a ping."""

from django.urls import include, path

from bench import baseline_views

urlpatterns = [
    path("bench/ping", baseline_views.ping),
    path("bench/baseline-beacon", baseline_views.baseline_beacon),
    path("bench/baseline-batch", baseline_views.baseline_batch),
    path("", include("config.urls")),
]
