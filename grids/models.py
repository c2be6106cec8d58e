"""Geography: the area hierarchy (city > district > street > community) and the grids below it.

Codes follow the national pattern and carry the chain in their prefixes: a grid code is
6 digits of county + 3 of street + 3 of community + 3 of grid, so `code[:6]`, `code[:9]`,
`code[:12]` are its district, street and community. Geometry is stored in WGS-84 (SRID 4326).
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区/县")
        STREET = "street", _("街道/乡镇")
        COMMUNITY = "community", _("社区/村")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")
    geom = models.MultiPolygonField(_("boundary"), srid=4326)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Grid(models.Model):
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(Area, models.PROTECT, related_name="grids", limit_choices_to={"level": "community"})
    geom = models.MultiPolygonField(_("boundary"), srid=4326)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def district_code(self) -> str:
        return self.code[:6]

    @property
    def street_code(self) -> str:
        return self.code[:9]


class GridWorker(models.Model):
    """A grid worker (网格员) covering a grid; one person may cover several grids."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="grid_assignments")
    grid = models.ForeignKey(Grid, models.CASCADE, related_name="workers")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "grid"], name="unique_grid_worker")]
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")

    def __str__(self) -> str:
        return f"{self.user} @ {self.grid.code}"
