"""GeoReport v2 routes: every resource with a .json or .xml suffix, as the spec writes them."""

from django.urls import re_path

from hotline.open311 import views

FORMAT = r"\.(?P<format>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.DiscoveryView.as_view(), name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.ServiceListView.as_view(), name="open311-services"),
    re_path(
        r"^services/(?P<service_code>[^/]+?)" + FORMAT, views.ServiceDefinitionView.as_view(), name="open311-service"
    ),
    re_path(r"^requests" + FORMAT, views.RequestsView.as_view(), name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FORMAT, views.RequestDetailView.as_view(), name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FORMAT, views.TokenView.as_view(), name="open311-token"),
    re_path(r"^.*?(?:\.(?P<format>json|xml))?$", views.NotFoundView.as_view(), name="open311-not-found"),
]
