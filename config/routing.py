"""Websocket routes: one live endpoint (protocol in docs/live.md, "Live protocol")."""

from django.urls import path

from dispatch.live.consumer import LiveConsumer

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]
