"""Input and output of the unit evaluation endpoint (GET /api/v1/stats/units/)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from dispatch.evaluation.scores import COUNTS, RATES

# Longest period one request may ask for, so a single request cannot scan the whole history.
MAX_PERIOD_DAYS = 366


class UnitStatsQuery(serializers.Serializer):
    """`from` and `to` are whole days in Asia/Shanghai, both included; both left out: the city's
    configured period up to today."""

    to = serializers.DateField(
        required=False, help_text=_("统计截止日期（含），YYYY-MM-DD；与起始日期同时省略时按考评设置的周期")
    )
    unit = serializers.IntegerField(required=False, min_value=1, help_text=_("只看这个单位"))
    city = serializers.RegexField(
        r"^\d{6}$", required=False, help_text=_("城市区划代码，如 520100；默认唯一配置的城市")
    )

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        start = serializers.DateField(required=False, help_text=_("统计起始日期（含），YYYY-MM-DD"))
        return {"from": start, **fields}

    def validate(self, attrs):
        given = [name for name in ("from", "to") if name in attrs]
        if len(given) == 1:
            missing = "to" if given == ["from"] else "from"
            raise serializers.ValidationError({missing: [_("起始日期和截止日期须同时给出或同时省略。")]})
        if not given:
            return attrs
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": [_("截止日期不能早于起始日期。")]})
        if (attrs["to"] - attrs["from"]).days >= MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"to": [_("一次最多统计 %(days)s 天。") % {"days": MAX_PERIOD_DAYS}]})
        return attrs


class StatsUnitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    department = serializers.CharField()


def _rate_field(label: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=label)


class UnitEvaluationOutput(serializers.Serializer):
    unit = StatsUnitOutput()
    counts = serializers.SerializerMethodField()
    response_rate = _rate_field(_("响应率：按时签收数 / 派单数"))
    resolution_rate = _rate_field(_("解决率：办结数 / 应办结数"))
    satisfaction_rate = _rate_field(_("满意率：满意回访数 / 回访数"))
    on_time_closure_rate = _rate_field(_("按期结案率：按期办结的结案数 / 结案数"))
    rework_rate = _rate_field(_("返工率：核查不通过数 / 核查数"))
    return_rate = _rate_field(_("退单率：退单数 / 派单数"))
    score = serializers.FloatField(allow_null=True, help_text=_("综合得分 0–100（三率加权）"))

    def get_counts(self, obj) -> dict[str, int]:
        return {name: obj.counts[name] for name in COUNTS}

    def to_representation(self, obj):
        data = super().to_representation(obj)
        rates = obj.rates
        for name in RATES:
            data[name] = None if rates[name] is None else round(rates[name], 4)
        data["score"] = None if obj.score is None else round(obj.score, 2)
        return data


class UnitStatsOutput(serializers.Serializer):
    to = serializers.DateField()
    weights = serializers.DictField(child=serializers.FloatField(), help_text=_("综合得分的权重"))
    period = serializers.CharField(help_text=_("考评设置的默认周期：days、week、month、quarter"))
    period_days = serializers.IntegerField(help_text=_("周期为 days 时的天数"))
    channels = serializers.ListField(child=serializers.CharField(), help_text=_("计入考评的受理渠道"))
    city = serializers.CharField(allow_null=True, help_text=_("考评设置所属城市的区划代码"))
    units = UnitEvaluationOutput(many=True)

    def get_fields(self):
        return {"from": serializers.DateField(), **super().get_fields()}
