"""Websocket routes. The live endpoint (/ws/live/) arrives with the cases work."""

websocket_urlpatterns: list = []
