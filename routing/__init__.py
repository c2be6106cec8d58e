"""Routing: the category catalogue, the responsibility rules and the router that picks who leads a case."""
