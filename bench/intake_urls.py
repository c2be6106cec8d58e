"""The real URLs plus `POST /bench/insert/`: a bare Django view doing one INSERT, the floor that
bench/intake.py measures case intake against. Only bench/intake_settings.py routes here."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as real_urlpatterns


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        sql = f"INSERT INTO {settings.BENCH_PROBE_TABLE} (body) VALUES (%s) RETURNING id"
        cursor.execute(sql, [request.body.decode()])
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=201)


urlpatterns = [path("bench/insert/", bare_insert), *real_urlpatterns]
