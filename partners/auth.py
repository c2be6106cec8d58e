"""Signing in: the API token endpoint, login throttling, and what lands in the security log.

Throttling is django-axes (AxesBackend in front of ModelBackend), so the login page, the admin login
and the token endpoint count failures in one place. Two counters, either of which locks:

- per username: `LOGIN_FAILURE_LIMIT` wrong passwords (5) lock that name for `LOGIN_COOLOFF_MINUTES`;
- per client address: `LOGIN_IP_FAILURE_LIMIT` (50) — higher, because a whole hotline centre may sit
  behind one address, and a few agents' typos must not lock out the others.

A locked request is answered 429 with `Retry-After`, JSON for the API and a page for people, even when
the password is right. Every lockout is a `SecurityEvent`; an admin unlocks by deleting the name's
rows under 访问尝试 in the admin, which logs the unlock with the admin's name (`manage.py
axes_reset_username NAME` works too, unlogged: whoever runs it already has the database).
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.models import SecurityEvent
from partners.services import security_event_record


class ThrottlingBackend(AxesStandaloneBackend):
    """Axes' check in front of ModelBackend, for every authenticate() that comes with a request.

    Every door people sign in through passes its request (login page, admin, token endpoint); a call
    without one (a test client's login, a management command) has no address to count and is let
    through to ModelBackend instead of raising.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class FailureHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate, higher limit for failures from one address.

    Axes compares one number with one limit; the address's count is scaled so that reaching
    LOGIN_IP_FAILURE_LIMIT weighs the same as reaching LOGIN_FAILURE_LIMIT for one name.
    """

    def get_failures(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        recent = AccessAttempt.objects.all()
        cool_off = get_cool_off(request)
        if cool_off:
            recent = recent.filter(attempt_time__gte=request.axes_attempt_time - cool_off)
        by_name = 0
        if username:
            by_name = recent.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
        by_address = recent.filter(ip_address=request.axes_ip_address).aggregate(n=Sum("failures_since_start"))["n"]
        scaled = (by_address or 0) * settings.LOGIN_FAILURE_LIMIT // settings.LOGIN_IP_FAILURE_LIMIT
        return max(by_name, scaled)


def retry_after_seconds(request) -> int:
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds())) if cool_off else 3600


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429 with Retry-After: JSON on /api/, the site's page elsewhere (AXES_LOCKOUT_CALLABLE)."""
    seconds = retry_after_seconds(request)
    minutes = max(1, math.ceil(seconds / 60))
    message = _("登录失败次数过多，已暂时锁定。请 %(n)d 分钟后再试，或请管理员解锁。") % {"n": minutes}
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message}, status=status.HTTP_429_TOO_MANY_REQUESTS, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


@extend_schema(
    summary="Obtain an API token",
    description=(
        "Username and password in, the user's token out (created on first use). Wrong passwords are "
        "counted per username and per client address; past the limit the answer is 429 with Retry-After, "
        "even for the right password, until the lock expires or an admin lifts it."
    ),
    request=TokenRequestSerializer,
    responses={
        200: TokenResponseSerializer,
        400: OpenApiResponse(description="Missing fields or wrong username/password, with field errors."),
        429: OpenApiResponse(DetailSerializer, description="Too many failed attempts; see Retry-After."),
    },
    tags=["auth"],
)
class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Axes keeps its flags on Django's request, which the middleware reads on the way out.
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=body.validated_data["username"],
            password=body.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"non_field_errors": [_("用户名或密码错误。")]})
        token, created = Token.objects.get_or_create(user=user)
        # A sign-in like the login page's: last_login, axes' reset and the security log's "login" line.
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        if created:
            security_event_record(kind=SecurityEvent.Kind.TOKEN_CREATED, user=user, request=django_request)
        return Response({"token": token.key})


# --- the security log's receivers (connected in PartnersConfig.ready) -----------------------------


def _on_logged_in(sender, request, user, **kwargs) -> None:
    security_event_record(kind=SecurityEvent.Kind.LOGIN, user=user, request=request)


def _on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        security_event_record(kind=SecurityEvent.Kind.LOGOUT, user=user, request=request)


def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is not None and getattr(request, "axes_locked_out", False):
        return  # logged once as the lockout, not again as a failure
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        username=str((credentials or {}).get("username", ""))[:150],
        request=request,
    )


def _on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    security_event_record(
        kind=SecurityEvent.Kind.LOCKOUT,
        username=username or "",
        request=request,
        detail={"ip_address": ip_address, "retry_after": retry_after_seconds(request) if request else None},
    )


def connect_receivers() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid="partners.security.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="partners.security.logged_out")
    user_login_failed.connect(_on_login_failed, dispatch_uid="partners.security.login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="partners.security.locked_out")
