"""Websocket routes: one live endpoint (DESIGN §7, docs/cases.md "Live protocol")."""

from django.urls import path

from dispatch.consumers import LiveConsumer

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]
