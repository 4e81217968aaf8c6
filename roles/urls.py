from django.urls import path

from roles.apis import (
    CertificationListApi,
    JobPostingDetailApi,
    JobPostingListApi,
    JobPostingTeaserApi,
    RoleDetailApi,
    RoleListApi,
)

urlpatterns = [
    path("roles/", RoleListApi.as_view(), name="role-list"),
    path("roles/<slug:slug>/", RoleDetailApi.as_view(), name="role-detail"),
    path("certifications/", CertificationListApi.as_view(), name="certification-list"),
    path("postings/", JobPostingListApi.as_view(), name="posting-list"),
    path("postings/<int:pk>/", JobPostingDetailApi.as_view(), name="posting-detail"),
    path("postings/<int:pk>/teaser/", JobPostingTeaserApi.as_view(), name="posting-teaser"),
]
