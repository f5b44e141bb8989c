"""The peer site's URLs: django-helpdesk at the root (its API under /api/)."""

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
