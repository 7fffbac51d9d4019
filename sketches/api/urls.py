"""Paths are a contract existing clients rely on; a trailing slash is tolerated either way."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^upload/presigned-url/?$", views.PresignView.as_view(), name="api-presign"),
    re_path(r"^upload/confirm/?$", views.ConfirmView.as_view(), name="api-confirm"),
    re_path(r"^upload/local/?$", views.local_upload, name="api-local-upload"),
    re_path(r"^upload/usage/?$", views.StorageUsageView.as_view(), name="api-storage-usage"),
    re_path(r"^upload/download-url/(?P<key>.+)$", views.DownloadUrlView.as_view(), name="api-download-url"),
    re_path(r"^sketch/?$", views.SketchListView.as_view(), name="api-sketch-list"),
    re_path(r"^sketch/create/?$", views.SketchCreateView.as_view(), name="api-sketch-create"),
    re_path(r"^sketch/styles/available/?$", views.StylesView.as_view(), name="api-styles"),
    re_path(r"^sketch/task/(?P<task_id>[^/]+)/?$", views.TaskView.as_view(), name="api-task"),
    re_path(r"^sketch/(?P<sketch_id>[^/]+)/share/?$", views.ShareListView.as_view(), name="api-share-list"),
    re_path(
        r"^sketch/(?P<sketch_id>[^/]+)/share/(?P<link_id>[^/]+)/?$", views.ShareDetailView.as_view(), name="api-share-detail"
    ),
    re_path(r"^sketch/(?P<sketch_id>[^/]+)/?$", views.SketchDetailView.as_view(), name="api-sketch-detail"),
]
