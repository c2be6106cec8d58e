"""Unit evaluation (三率) for a period: GET /api/v1/stats/units/?from=YYYY-MM-DD&to=YYYY-MM-DD.

Without `from` and `to`, the city's configured period up to today. Supervisors and dispatchers see
every unit; other unit members see only their own units; anyone else is refused (403). Formulas:
dispatch/evaluation/ and docs/evaluation.md.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.evaluation.config import evaluation_config, local_today
from dispatch.evaluation.selectors import evaluate_units
from dispatch.selectors import roles_of
from dispatch.serializers_stats import UnitStatsOutput, UnitStatsQuery


class UnitStatsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="stats_units",
        parameters=[UnitStatsQuery],
        responses={
            200: UnitStatsOutput,
            400: OpenApiResponse(description="字段错误 {field: [message]}"),
            403: OpenApiResponse(description="只有督办人员、调度员和单位成员可以查看"),
        },
    )
    def get(self, request):
        query = UnitStatsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        roles = roles_of(request.user)
        if roles.superuser or roles.supervisor or roles.is_dispatcher:
            allowed = None
        elif roles.member_units:
            allowed = set(roles.member_units)
        else:
            raise PermissionDenied(_("只有督办人员、调度员和单位成员可以查看单位考评。"))
        unit_ids = allowed
        if "unit" in params:
            if allowed is not None and params["unit"] not in allowed:
                raise PermissionDenied(_("只能查看本单位的考评。"))
            unit_ids = {params["unit"]}
        config = evaluation_config(city_code=params.get("city"))
        if "from" in params:
            date_from, date_to = params["from"], params["to"]
        else:
            date_from, date_to = config.default_period(local_today())
        evaluations = evaluate_units(date_from=date_from, date_to=date_to, unit_ids=unit_ids, config=config)
        body = {"from": date_from, "to": date_to, **config.as_dict(), "units": evaluations}
        return Response(UnitStatsOutput(body).data)
