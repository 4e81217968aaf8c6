from django.urls import include, path

from bench.views import NaiveLeadViewSet
from config.urls import handler400, handler403, handler404, handler500

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/naive-leads/", NaiveLeadViewSet.as_view({"post": "create"}), name="bench-naive-leads"),
    path("", include("config.urls")),
]
