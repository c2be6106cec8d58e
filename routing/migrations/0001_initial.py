"""Category and ResponsibilityRule move here from the dispatch app, without touching the tables.

The tables keep their names (dispatch_category, dispatch_responsibilityrule) and their rows, so this
migration only tells the migration state where the models now live. The content types follow the
models, so permissions and admin history stay attached to them.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ("category", "responsibilityrule")


def _relabel_content_types(apps, schema_editor, source, target):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED_MODELS:
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)


def content_types_to_routing(apps, schema_editor):
    _relabel_content_types(apps, schema_editor, "dispatch", "routing")


def content_types_to_dispatch(apps, schema_editor):
    _relabel_content_types(apps, schema_editor, "routing", "dispatch")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The tables were created by dispatch's migrations; on a fresh database they run first.
        ('dispatch', '0014_case_number_in_insert'),
        ('partners', '0004_security_event_append_only'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Category',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=16, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=60, verbose_name='name')),
                        ('name_en', models.CharField(blank=True, max_length=80, verbose_name='English name')),
                        ('kind', models.CharField(choices=[('component', '部件'), ('event', '事件'), ('need', '社会需求')], max_length=10, verbose_name='kind')),
                        ('principle', models.CharField(blank=True, choices=[('owner_first', '先属主、后属地'), ('territory_first', '先属地、后属主')], max_length=16, verbose_name='routing principle')),
                        ('default_urgency', models.CharField(choices=[('normal', '一般'), ('urgent', '紧急')], default='normal', max_length=8, verbose_name='default urgency')),
                        ('sign_urgent_minutes', models.PositiveIntegerField(default=30, verbose_name='urgent: minutes to sign')),
                        ('sign_normal_work_hours', models.PositiveIntegerField(default=2, verbose_name='normal: working hours to sign')),
                        ('reply_urgent_hours', models.PositiveIntegerField(default=24, verbose_name='urgent: hours to reply')),
                        ('reply_normal_work_days', models.PositiveIntegerField(default=5, verbose_name='normal: working days to reply')),
                        ('capabilities', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('elderly_care', '养老助老'), ('disability_help', '助残'), ('hardship_relief', '困难帮扶'), ('legal_aid', '法律援助'), ('psychological', '心理疏导'), ('volunteer_cleanup', '志愿清洁'), ('child_care', '儿童关爱'), ('medical_help', '医疗救助'), ('dispute_mediation', '矛盾调解')], max_length=32), blank=True, default=list, size=None, verbose_name='partner capabilities needed')),
                        ('collaborator_departments', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('chengguan', '城管'), ('zhujian', '住建'), ('shuiwu', '水务'), ('jiaojing', '交警'), ('shengtai', '生态环境'), ('shichang', '市场监管'), ('gongdian', '供电'), ('ranqi', '燃气'), ('weijian', '卫健'), ('minzheng', '民政'), ('jiaoyu', '教育'), ('gongan', '公安派出所'), ('jiedao', '街道办/乡镇政府'), ('shequ', '社区居委会/村委会'), ('zongzhi', '综治中心/网格化服务管理中心'), ('zhifa', '综合执法队'), ('renshe', '人社'), ('jiaotong', '交通运输'), ('yuanlin', '园林绿化'), ('hotline', '12345热线中心'), ('ziranziyuan', '自然资源'), ('yingji', '应急管理'), ('wenlv', '文化旅游'), ('nongye', '农业农村')], max_length=20), blank=True, default=list, size=None, verbose_name='collaborating departments')),
                        ('keywords', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=20), blank=True, default=list, size=None, verbose_name='keywords')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='routing.category', verbose_name='parent')),
                    ],
                    options={
                        'verbose_name': 'category',
                        'verbose_name_plural': 'categories',
                        'db_table': 'dispatch_category',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='ResponsibilityRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('territory_code', models.CharField(db_index=True, help_text='The code of the city, a district, street, community or a grid.', max_length=15, verbose_name='territory code')),
                        ('territory_level', models.CharField(choices=[('city', '市'), ('district', '区/县'), ('street', '街道/乡镇'), ('community', '社区/村'), ('grid', '网格')], max_length=10, verbose_name='territory level')),
                        ('basis', models.CharField(choices=[('owner', '属主'), ('territory', '属地')], max_length=10, verbose_name='basis')),
                        ('department', models.CharField(blank=True, choices=[('chengguan', '城管'), ('zhujian', '住建'), ('shuiwu', '水务'), ('jiaojing', '交警'), ('shengtai', '生态环境'), ('shichang', '市场监管'), ('gongdian', '供电'), ('ranqi', '燃气'), ('weijian', '卫健'), ('minzheng', '民政'), ('jiaoyu', '教育'), ('gongan', '公安派出所'), ('jiedao', '街道办/乡镇政府'), ('shequ', '社区居委会/村委会'), ('zongzhi', '综治中心/网格化服务管理中心'), ('zhifa', '综合执法队'), ('renshe', '人社'), ('jiaotong', '交通运输'), ('yuanlin', '园林绿化'), ('hotline', '12345热线中心'), ('ziranziyuan', '自然资源'), ('yingji', '应急管理'), ('wenlv', '文化旅游'), ('nongye', '农业农村')], max_length=20, verbose_name='department')),
                        ('level', models.CharField(blank=True, choices=[('city', '市级'), ('district', '区/县级'), ('street', '街道/乡镇级'), ('community', '社区/村级')], max_length=10, verbose_name='at level of the chain')),
                        ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('category', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rules', to='routing.category', verbose_name='category (and its descendants)')),
                        ('unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='responsibility_rules', to='partners.unit', verbose_name='named unit')),
                    ],
                    options={
                        'verbose_name': 'responsibility rule',
                        'verbose_name_plural': 'responsibility rules',
                        'db_table': 'dispatch_responsibilityrule',
                        'ordering': ['category__code', 'territory_code', 'basis'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='category',
                    constraint=models.CheckConstraint(condition=models.Q(('sign_urgent_minutes__gt', 0), ('sign_normal_work_hours__gt', 0), ('reply_urgent_hours__gt', 0), ('reply_normal_work_days__gt', 0)), name='category_limits_positive'),
                ),
                migrations.AddConstraint(
                    model_name='responsibilityrule',
                    constraint=models.UniqueConstraint(fields=('category', 'territory_code', 'basis'), name='responsibility_rule_unique_per_basis'),
                ),
                migrations.AddConstraint(
                    model_name='responsibilityrule',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('unit__isnull', False), ('department', ''), ('level', '')), models.Q(('unit__isnull', True), models.Q(('department', ''), _negated=True), models.Q(('level', ''), _negated=True)), _connector='OR'), name='responsibility_rule_one_target'),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_routing, content_types_to_dispatch),
    ]
