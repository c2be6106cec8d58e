"""Import one level of boundaries (city, district, street, community or grid) from a geodata file."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.services import LEVELS, BoundaryFileError, areas_import


class Command(BaseCommand):
    help = (
        "Import boundaries from GeoJSON, GeoPackage or Shapefile and upsert them by code. "
        "Nothing is written unless the whole file checks out; running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="GeoJSON, GeoPackage (.gpkg) or Shapefile (.shp)")
        parser.add_argument("--level", required=True, choices=LEVELS, help="what the features are")
        parser.add_argument("--code-field", required=True, help="attribute holding the code (adcode)")
        parser.add_argument("--name-field", required=True, help="attribute holding the Chinese name")
        parser.add_argument(
            "--parent-field",
            help="attribute holding the parent's code; checked against the code prefix (default: the prefix)",
        )
        parser.add_argument(
            "--crs",
            help="wgs84, gcj02 (AMap/Tencent), bd09 (Baidu) or EPSG:n; default: the file's CRS, else wgs84",
        )
        parser.add_argument("--where", help="attribute filter in OGR SQL, e.g. \"level = 'district'\"")
        parser.add_argument("--layer", help="layer name, for GeoPackages with several layers")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the other features when some geometries cannot be repaired (default: import nothing)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check the file, write nothing")

    def handle(self, *args, file, level, code_field, name_field, parent_field, crs, where, layer, **options):
        started = time.monotonic()
        try:
            result = areas_import(
                path=file,
                level=level,
                code_field=code_field,
                name_field=name_field,
                parent_field=parent_field,
                crs=crs,
                where=where,
                layer=layer,
                skip_invalid=options["skip_invalid"],
                dry_run=options["dry_run"],
                progress=self.stdout.write,
            )
        except BoundaryFileError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from None

        boundaries, written = result.boundaries, result.written
        for problem in boundaries.repaired:
            self.stdout.write(self.style.WARNING(_("已修复：%(p)s") % {"p": problem}))
        for problem in boundaries.rejected:
            self.stderr.write(self.style.ERROR(_("已跳过：%(p)s") % {"p": problem}))
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(_("检查通过，未写入：%(n)d 个要素可导入。") % {"n": len(boundaries.records)})
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("完成（%(s).1f 秒）：新建 %(c)d，更新 %(u)d，未变 %(k)d，修复 %(r)d，跳过 %(x)d。")
                % {
                    "s": time.monotonic() - started,
                    "c": written.created,
                    "u": written.updated,
                    "k": written.unchanged,
                    "r": len(boundaries.repaired),
                    "x": len(boundaries.rejected),
                }
            )
        )
