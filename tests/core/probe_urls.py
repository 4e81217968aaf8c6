"""A URLconf for the error-format tests: the real project plus a few probe endpoints that
fail on purpose (the real endpoints are tested in their own apps)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework import authentication, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as project_urls


class ProbeBearerAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> None:
        return None

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class ProbeInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField()
    count = serializers.IntegerField(min_value=1)


class ProbeEchoApi(APIView):
    permission_classes = (permissions.AllowAny,)

    def post(self, request: Request) -> Response:
        serializer = ProbeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class ProbeAuthApi(APIView):
    authentication_classes = (ProbeBearerAuthentication,)
    permission_classes = (permissions.IsAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({})


class ProbeForbiddenApi(APIView):
    permission_classes = (permissions.AllowAny,)

    def get(self, request: Request) -> Response:
        raise PermissionDenied("secret reason")


class ProbeCrashApi(APIView):
    permission_classes = (permissions.AllowAny,)

    def get(self, request: Request) -> Response:
        raise RuntimeError("SELECT password FROM secrets -- must never leak")


def probe_plain_crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("Traceback: must never leak")


urlpatterns = [
    path("api/v1/probe/echo/", ProbeEchoApi.as_view()),
    path("api/v1/probe/auth/", ProbeAuthApi.as_view()),
    path("api/v1/probe/forbidden/", ProbeForbiddenApi.as_view()),
    path("api/v1/probe/crash/", ProbeCrashApi.as_view()),
    path("api/v1/probe/plain-crash/", probe_plain_crash),
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
