from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from consultations import pages
from core.views import healthz, sms_twilio_status
from leads.candidates.line_webhook import line_webhook
from roles import pages as role_pages

api_v1 = [
    path("", include("roles.urls")),
    path("", include("leads.urls")),
    path("", include("consultations.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Providers calling back (signed by them): LINE's webhook, Twilio's SMS status.
    path("line/webhook", line_webhook, name="line-webhook"),
    path("sms/twilio/status", sms_twilio_status, name="sms-twilio-status"),
    # The candidates' pages (links in partner answers and in emails: SITE_URL + path).
    path("book/", pages.book_direct, name="book-direct"),
    path("book/held/<uuid:booking_id>", pages.book_held, name="book-held"),
    path("book/<str:token>", pages.book, name="book"),
    path("consultations/confirm/<str:token>", pages.confirm, name="consultation-confirm"),
    path("consultations/<str:token>", pages.manage, name="consultation-manage"),
    # The public catalogue and the privacy policy the booking page links to.
    path("roles/", role_pages.role_index, name="role-index"),
    path("roles/<slug:slug>/", role_pages.role_page, name="role-page"),
    path(
        "privacy/",
        TemplateView.as_view(
            template_name="pages/privacy.html",
            extra_context={"privacy_policy_version": settings.PRIVACY_POLICY_VERSION},
        ),
        name="privacy-policy",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "v1"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
