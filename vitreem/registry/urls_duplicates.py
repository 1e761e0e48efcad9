"""The duplicate review queue; included by the registry's URLs at /registry/duplicates/."""

from django.urls import path

from . import views_duplicates as views

app_name = "duplicates"
urlpatterns = [
    path("", views.duplicate_list, name="list"),
    path("check/", views.duplicate_check, name="check"),
    path("<int:pk>/", views.duplicate_detail, name="detail"),
    path("<int:pk>/merge/", views.duplicate_merge, name="merge"),
    path("<int:pk>/distinct/", views.duplicate_distinct, name="distinct"),
]
