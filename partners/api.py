"""The organisations directory: government units and partner organisations, read-only."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated

from partners import selectors
from partners.serializers import OrganizationFilterSerializer, OrganizationSerializer


@extend_schema(
    summary="List government units and partner organisations",
    description=(
        "Units (处置单位) come first, then partners (协作单位). `area` keeps units whose territory is that "
        "area or inside it, and partners whose service area intersects it. A filter that applies to one "
        "kind only (`level`, a department `type`) leaves the other kind out."
    ),
    parameters=[OrganizationFilterSerializer],
    tags=["organizations"],
)
class OrganizationListApi(ListAPIView):
    serializer_class = OrganizationSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        filters = OrganizationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.organisation_list(**filters.validated_data)
