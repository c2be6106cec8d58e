"""The geography API: locate points, list areas, fetch one area or grid as GeoJSON.

Geography is public: every endpoint here is open to anonymous callers, including the batch locate,
which is a read sent as POST only because a batch does not fit in a URL.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import locator, selectors
from grids.serializers import (
    CODE_LENGTHS,
    AreaFeatureSerializer,
    AreaFilterSerializer,
    AreaListItemSerializer,
    GridFeatureSerializer,
    LocateBatchInputSerializer,
    LocateBatchOutputSerializer,
    LocateQuerySerializer,
    LocationSerializer,
    NotFoundSerializer,
)

NOT_LOCATED = _("该位置不在任何网格内，也不在网格 %(meters)d 米范围内。")


@extend_schema(
    summary="Locate one point",
    description=(
        "The grid containing the point and its community, street, district and city. A point in no grid "
        "but within `OUTSIDE_TOLERANCE_M` of one is placed in the nearest grid with `outside: true`; "
        "farther away the answer is 404. `near_boundary` marks points close to another street or district."
    ),
    parameters=[LocateQuerySerializer],
    responses={
        200: LocationSerializer,
        400: OpenApiResponse(description="Missing or invalid lon, lat or crs, with field errors."),
        404: OpenApiResponse(NotFoundSerializer, description="The point is not in or near any grid."),
    },
    tags=["geography"],
)
class LocateApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        query = LocateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = locator.locate(**query.validated_data)
        if found is None:
            return Response({"detail": NOT_LOCATED % {"meters": settings.OUTSIDE_TOLERANCE_M}}, status=404)
        return Response(LocationSerializer(found).data)


@extend_schema(
    summary="Locate many points",
    description=(
        'Body: `{"points": [{"lon": …, "lat": …}, …], "crs": "wgs84"}`, at most `LOCATE_BATCH_MAX` points '
        "(10,000 by default). Results come back in the same order, `null` where a point is in no grid "
        "and not near one. One bad point rejects the batch with errors keyed by its index."
    ),
    request=LocateBatchInputSerializer,
    responses={
        200: LocateBatchOutputSerializer,
        400: OpenApiResponse(description="Malformed or oversized batch, with errors per point index."),
    },
    examples=[
        OpenApiExample(
            "Two points from AMap",
            value={"points": [{"lon": 106.7135, "lat": 26.5783}, {"lon": 106.6302, "lat": 26.6468}], "crs": "gcj02"},
            request_only=True,
        )
    ],
    tags=["geography"],
)
class LocateBatchApi(APIView):
    permission_classes = [AllowAny]
    # A read sent as POST: the write limits (dispatch/throttles.py) are not for it.
    throttle_classes: list = []

    def post(self, request):
        body = LocateBatchInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lons, lats = body.validated_data["points"]
        results = locator.locate_many(lons, lats, crs=body.validated_data["crs"])
        return Response(LocateBatchOutputSerializer(results).data)


@extend_schema(
    summary="List areas and grids",
    description=(
        "Codes, names, levels and parents, without boundaries, ordered by code and paginated. "
        "`level=grid` lists grids; `parent` set to a community code lists that community's grids."
    ),
    parameters=[AreaFilterSerializer],
    tags=["geography"],
)
class AreaListApi(ListAPIView):
    serializer_class = AreaListItemSerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        filters = AreaFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        level, parent = filters.validated_data.get("level"), filters.validated_data.get("parent")
        if level == "grid" or (level is None and parent and len(parent) == 12):
            if parent and len(parent) != 12:
                # Grids hang off communities only; a district or street parent has none directly.
                return selectors.grid_list(community=parent).none()
            return selectors.grid_list(community=parent)
        return selectors.area_list(level=level, parent=parent)


@extend_schema(
    summary="One area or grid as a GeoJSON Feature",
    description=(
        "A 6-, 9- or 12-digit code is a city, district, street or community; a 15-digit code is a grid. "
        "The geometry is the boundary in WGS-84."
    ),
    responses={
        200: AreaFeatureSerializer,
        404: OpenApiResponse(NotFoundSerializer, description="No area or grid has this code."),
    },
    tags=["geography"],
)
class AreaDetailApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request, code: str):
        found = None
        if code.isascii() and code.isdigit() and len(code) in CODE_LENGTHS:
            found = selectors.grid_get(code=code) if len(code) == 15 else selectors.area_get(code=code)
        if found is None:
            return Response({"detail": _("没有代码为 %(code)s 的区划或网格。") % {"code": code}}, status=404)
        serializer = GridFeatureSerializer if len(code) == 15 else AreaFeatureSerializer
        return Response(serializer(found).data)
