"""Settings, read from the environment in this one place.

Every value has a working local default, so `make demo` needs no configuration. A wrong value
stops the process at start with a sentence that says which variable is wrong.

One module, though long: settings are read from the environment in one place, so that every
variable the project reads, with its default and its check, can be found here.
"""

import os
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_number(name: str, default: float, cast=float):
    raw = os.environ.get(name)
    if raw is None:
        return cast(default)
    try:
        return cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "local-development-only-not-a-secret"  # noqa: S105

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    # Login throttling (partners/auth.py); before partners, whose admin re-registers its attempts.
    "axes",
    "csp",
    # Ours, lowest first (hotline -> dispatch -> routing -> partners -> grids; maps reads all).
    "grids",
    "partners",
    "routing",
    "dispatch",
    "hotline",
    "maps",
    # config wires the apps together (load_demo lives here).
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ApiAwareLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a locked-out login into the 429 whatever the view answered.
    "axes.middleware.AxesMiddleware",
    # Near the end, so a view's lost database connection becomes a 503 with Retry-After, not a 500.
    "config.unavailable.DatabaseUnavailableMiddleware",
    # Last: the read-heavy views may read from the replica (config/db_router.py); its process_exception
    # runs first, so a failed replica read is retried on the primary before anything becomes a 503.
    "config.db_router.ReplicaReadsMiddleware",
]

# The throttle first: a locked name or address is refused before the password is even checked.
AUTHENTICATION_BACKENDS = ["partners.auth.ThrottlingBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/shehui")
# Under ASGI (uvicorn) each request runs in a thread of its own: a connection kept open per thread
# outlives the request, and under load they pile up until PostgreSQL refuses clients. So by default
# each request closes its connection, as Django advises for ASGI.
DATABASE_CONN_MAX_AGE = env_number("DATABASE_CONN_MAX_AGE", 0, int)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE)}
except Exception as exc:  # dj_database_url raises plain ValueError/KeyError on junk
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {DATABASE_URL!r} ({exc}).") from None
# A psycopg pool of up to DATABASE_POOL_MAX connections per process, reused across requests (ASGI's
# thread per request cannot keep its own). Off here, for commands, Celery's forked workers and tests;
# the web server's entry point (config/asgi.py) defaults it to 8. bench/intake.py measures both.
DATABASE_POOL_MAX = env_number("DATABASE_POOL_MAX", 0, int)
if DATABASE_POOL_MAX > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    pool = {"min_size": 1, "max_size": DATABASE_POOL_MAX, "timeout": 10}
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = pool
# Parameters bound by PostgreSQL rather than spliced into the text, and a statement run five times on
# one connection prepared there: a case POST's statements are planned once per pooled connection,
# not on every request (~1 ms of its ~7, bench/RESULTS.md "intake profile"). Turn off behind a
# connection pooler in transaction mode older than PgBouncer 1.21, which loses prepared statements.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASE_PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
if DATABASES["default"]["ENGINE"] != "django.contrib.gis.db.backends.postgis":
    raise ImproperlyConfigured("DATABASE_URL must use the postgis:// scheme (PostgreSQL with PostGIS).")

# A PostgreSQL streaming replica for the read-heavy pages (config/db_router.py); empty = primary only.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", "")
# Past this many seconds behind the primary, the replica is left alone until it catches up.
DATABASE_REPLICA_MAX_LAG = env_number("DATABASE_REPLICA_MAX_LAG", 5.0)
# How often (seconds) a process asks the replica how far behind it is.
DATABASE_REPLICA_CHECK_SECONDS = env_number("DATABASE_REPLICA_CHECK_SECONDS", 1.0)
if DATABASE_REPLICA_MAX_LAG < 0 or DATABASE_REPLICA_CHECK_SECONDS < 0:
    raise ImproperlyConfigured("DATABASE_REPLICA_MAX_LAG and DATABASE_REPLICA_CHECK_SECONDS must be 0 or more.")
if DATABASE_REPLICA_URL:
    try:
        replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=DATABASE_CONN_MAX_AGE)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL is not a database URL: {DATABASE_REPLICA_URL!r} ({exc})."
        ) from None
    if replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must use the postgis:// scheme, like DATABASE_URL.")
    replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    options = replica.setdefault("OPTIONS", {})
    # A replica that went away must cost a read a moment, not the whole request.
    options.setdefault("connect_timeout", 2)
    for name in ("pool", "server_side_binding", "prepare_threshold"):
        if name in DATABASES["default"].get("OPTIONS", {}):
            options[name] = DATABASES["default"]["OPTIONS"][name]
    if "pool" in options:
        options["pool"] = dict(options["pool"])
    # Tests read their one test database through both aliases.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = replica
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
# Views (URL names) whose GET/HEAD may read from the replica: the map and tiles, the dashboard feeds,
# case lists and rankings. Everything else, and every write, reads the primary.
DATABASE_REPLICA_VIEWS = frozenset(
    {
        "maps:supervisor",
        "maps:config",
        "maps:tile",
        "maps:api-cases",
        "maps:api-summary",
        "maps:api-triage",
        "maps:api-overdue",
        "maps:api-trend",
        "maps:api-hotwords",
        "maps:api-topics",
        "maps:api-alerts",
        "maps:api-series",
        "maps:api-categories",
        "maps:api-density",
        "case-list",
        "stats-units",
        "pages:inbox",
        "pages:inbox-sla",
    }
)

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, not {REDIS_URL!r}.")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_PREFIX", "shehui"),
        # Every cache use falls back when Redis is away; short timeouts keep that fallback quick.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

# The channel layer may spread its groups over several Redis servers (comma-separated); every web
# node must list the same ones in the same order, since a group's server is picked by hashing its name.
CHANNEL_REDIS_URLS = [u.strip() for u in env("CHANNEL_REDIS_URLS", REDIS_URL).split(",") if u.strip()]
for url in CHANNEL_REDIS_URLS:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"CHANNEL_REDIS_URLS must list redis:// URLs, not {url!r}.")
if not CHANNEL_REDIS_URLS:
    raise ImproperlyConfigured("CHANNEL_REDIS_URLS must name at least one Redis URL.")

CHANNEL_LAYERS = {
    "default": {
        # The Pub/Sub layer keeps a group send one PUBLISH however many groups exist.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": CHANNEL_REDIS_URLS, "prefix": env("CACHE_PREFIX", "shehui")},
    }
}

# Live push (/ws/live/): a resume missing more events than this is told to reload instead.
LIVE_REPLAY_LIMIT = env_number("LIVE_REPLAY_LIMIT", 500, int)
# How stale (seconds) a socket's view of its user's memberships may be when an event arrives.
LIVE_RECHECK_SECONDS = env_number("LIVE_RECHECK_SECONDS", 10.0)
# How often (seconds) an idle socket re-checks that its user is still active; 0 = never.
LIVE_SESSION_CHECK_SECONDS = env_number("LIVE_SESSION_CHECK_SECONDS", 300.0)
# How often (seconds) a server with open sockets checks that PostgreSQL and Redis answer, to tell
# the sockets it is degraded (dispatch/live/status.py).
LIVE_STATUS_SECONDS = env_number("LIVE_STATUS_SECONDS", 5.0)
if LIVE_STATUS_SECONDS <= 0:
    raise ImproperlyConfigured(f"LIVE_STATUS_SECONDS must be positive, not {LIVE_STATUS_SECONDS}.")

# Transactional outbox (dispatch/outbox.py): events and tasks that did not reach Redis at commit.
# The relay runs this often (seconds), leaves rows younger than OUTBOX_GRACE_SECONDS to the process
# that wrote them, and re-sends a task the broker took but nobody finished after
# OUTBOX_TASK_REDELIVER_SECONDS. After a failed publish, writers leave Redis alone for
# LIVE_PUBLISH_BACKOFF_SECONDS.
OUTBOX_RELAY_SECONDS = env_number("OUTBOX_RELAY_SECONDS", 2.0)
OUTBOX_GRACE_SECONDS = env_number("OUTBOX_GRACE_SECONDS", 5.0)
# A process that publishes at commit deletes the outbox rows of published events at most this often
# (seconds): one statement for all of them, on one request in that while (dispatch/live/publisher.py).
OUTBOX_CLEAR_SECONDS = env_number("OUTBOX_CLEAR_SECONDS", 2.0)
OUTBOX_TASK_REDELIVER_SECONDS = env_number("OUTBOX_TASK_REDELIVER_SECONDS", 300.0)
LIVE_PUBLISH_BACKOFF_SECONDS = env_number("LIVE_PUBLISH_BACKOFF_SECONDS", 5.0)
if (
    OUTBOX_RELAY_SECONDS <= 0
    or OUTBOX_TASK_REDELIVER_SECONDS <= 0
    or min(OUTBOX_GRACE_SECONDS, OUTBOX_CLEAR_SECONDS) < 0
):
    raise ImproperlyConfigured(
        "OUTBOX_RELAY_SECONDS and OUTBOX_TASK_REDELIVER_SECONDS must be positive, "
        "OUTBOX_GRACE_SECONDS and OUTBOX_CLEAR_SECONDS 0 or more."
    )

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
# A task is acknowledged only when it finished, and one whose worker process died is queued again;
# every task body is safe to run twice (dispatch/tasks.py). A message taken by a worker that vanished
# whole (kill -9 of its main process) goes back to the queue after CELERY_VISIBILITY_TIMEOUT seconds,
# which must exceed the longest task (the SLA sweep takes seconds).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_VISIBILITY_TIMEOUT = env_number("CELERY_VISIBILITY_TIMEOUT", 300, int)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Look for such messages every tenth of the timeout (at most every 10 s), not every ~100 s.
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE: dict = {}

# Login throttling (partners/auth.py, django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username,
# or LOGIN_IP_FAILURE_LIMIT from one client address, lock it for LOGIN_COOLOFF_MINUTES (429, Retry-After).
LOGIN_FAILURE_LIMIT = env_number("LOGIN_FAILURE_LIMIT", 5, int)
LOGIN_IP_FAILURE_LIMIT = env_number("LOGIN_IP_FAILURE_LIMIT", 50, int)
LOGIN_COOLOFF_MINUTES = env_number("LOGIN_COOLOFF_MINUTES", 15.0)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_IP_FAILURE_LIMIT < LOGIN_FAILURE_LIMIT or LOGIN_COOLOFF_MINUTES <= 0:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT must be 1 or more, LOGIN_IP_FAILURE_LIMIT at least as high, "
        "LOGIN_COOLOFF_MINUTES positive."
    )
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "partners.auth.FailureHandler"
AXES_LOCKOUT_CALLABLE = "partners.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
# Failed attempts are in the security log (partners.SecurityEvent); axes keeps only its counters.
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication, with the user's roles read in the same statement.
        "partners.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Depth and size limits on every body (dispatch/parsers.py): a deep JSON array is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "dispatch.parsers.LimitedJSONParser",
        "dispatch.parsers.LimitedFormParser",
        "dispatch.parsers.LimitedMultiPartParser",
    ],
    # Per-user limits on writes (dispatch/throttles.py); reads are not limited.
    "DEFAULT_THROTTLE_CLASSES": ["dispatch.throttles.WriteThrottle"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shehui He Yun (社会和云) API",
    "DESCRIPTION": "Grid-based social-governance dispatch: locate, route and work reports to closure.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation also documents the framework's own error answers (config/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
    ],
}

# Request bodies (dispatch/parsers.py): JSON deeper or larger than this is refused with a 400,
# on every API endpoint and every websocket message. A full locate batch is about 0.6 MB.
API_JSON_MAX_DEPTH = env_number("API_JSON_MAX_DEPTH", 32, int)
API_JSON_MAX_BYTES = env_number("API_JSON_MAX_BYTES", 4 * 1024 * 1024, int)
LIVE_MESSAGE_MAX_BYTES = env_number("LIVE_MESSAGE_MAX_BYTES", 64 * 1024, int)
if API_JSON_MAX_DEPTH < 2 or API_JSON_MAX_BYTES < 1024 or LIVE_MESSAGE_MAX_BYTES < 256:
    raise ImproperlyConfigured("API_JSON_MAX_DEPTH must be 2 or more, API_JSON_MAX_BYTES 1024 or more.")

# API writes per user (or per address for keyless writes): a burst per minute, a sustained rate per hour.
API_WRITE_RATE = env("API_WRITE_RATE", "60/min")
API_WRITE_HOURLY_RATE = env("API_WRITE_HOURLY_RATE", "1000/hour")
for _name, _rate in (("API_WRITE_RATE", API_WRITE_RATE), ("API_WRITE_HOURLY_RATE", API_WRITE_HOURLY_RATE)):
    _count, _, _period = _rate.partition("/")
    if not _count.isdigit() or int(_count) < 1 or _period[:1] not in ("s", "m", "h", "d"):
        raise ImproperlyConfigured(f"{_name} must look like 60/min or 1000/hour, not {_rate!r}.")

# Geography
NEAR_BOUNDARY_M = env_number("NEAR_BOUNDARY_M", 30.0)
OUTSIDE_TOLERANCE_M = env_number("OUTSIDE_TOLERANCE_M", 500.0)
LOCATE_BATCH_MAX = env_number("LOCATE_BATCH_MAX", 10000, int)
# How often (seconds) a process asks whether the grids changed elsewhere; 0 = on every call.
LOCATOR_CHECK_INTERVAL = env_number("LOCATOR_CHECK_INTERVAL", 1.0)

# Routing (routing/router.py): at most this many partner organisations join a help-type case.
ROUTER_MAX_PARTNERS = env_number("ROUTER_MAX_PARTNERS", 2, int)
if ROUTER_MAX_PARTNERS < 0:
    raise ImproperlyConfigured(f"ROUTER_MAX_PARTNERS must be 0 or more, not {ROUTER_MAX_PARTNERS}.")
# How often (seconds) a process asks whether rules, categories or units changed elsewhere; 0 = every call.
ROUTER_CHECK_INTERVAL = env_number("ROUTER_CHECK_INTERVAL", 1.0)

# Maps (maps/): an optional raster base layer under our own vector tiles, e.g. Tianditu
# "https://t0.tianditu.gov.cn/vec_w/wmts?...&tk=KEY" with {z}/{x}/{y}; empty = our boundaries only.
MAP_BASE_TILE_URL = env("MAP_BASE_TILE_URL", "")
if MAP_BASE_TILE_URL and not all(part in MAP_BASE_TILE_URL for part in ("{z}", "{x}", "{y}")):
    raise ImproperlyConfigured(f"MAP_BASE_TILE_URL must contain {{z}}, {{x}} and {{y}}, not {MAP_BASE_TILE_URL!r}.")
MAP_BASE_ATTRIBUTION = env("MAP_BASE_ATTRIBUTION", "")


def _origin(url: str) -> str:
    parts = urlsplit(url.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Content-Security-Policy (django-csp): every script and style is a file the project serves; no inline
# script, no inline event handler, no eval. MapLibre draws in a worker made from a blob: URL and
# decodes images from blob:/data:. The optional base layer's host is the only other origin allowed.
_TILE_ORIGIN = [_origin(MAP_BASE_TILE_URL)] if MAP_BASE_TILE_URL and _origin(MAP_BASE_TILE_URL) else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *_TILE_ORIGIN],
        "connect-src": ["'self'", *_TILE_ORIGIN],
        "worker-src": ["'self'", "blob:"],
        "child-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (config/middleware.py): the field page may ask for the position and the camera;
# nothing may use the microphone, payment, USB and the like, and no other origin gets any of it.
PERMISSIONS_POLICY = env(
    "PERMISSIONS_POLICY",
    "geolocation=(self), camera=(self), microphone=(), payment=(), usb=(), serial=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), browsing-topics=()",
)
# Seconds browsers and proxies may keep a boundary tile; the map page's tile URLs change with the data.
MAP_TILE_MAX_AGE = env_number("MAP_TILE_MAX_AGE", 3600, int)

# Cases (dispatch/): photo limits for field reports and evidence, and idempotency keys.
CASE_PHOTO_MAX_BYTES = env_number("CASE_PHOTO_MAX_BYTES", 10 * 1024 * 1024, int)
CASE_PHOTO_MAX_PIXELS = env_number("CASE_PHOTO_MAX_PIXELS", 50_000_000, int)
CASE_PHOTOS_MAX = env_number("CASE_PHOTOS_MAX", 6, int)
if CASE_PHOTO_MAX_BYTES < 1 or CASE_PHOTO_MAX_PIXELS < 1 or CASE_PHOTOS_MAX < 0:
    raise ImproperlyConfigured("CASE_PHOTO_MAX_BYTES/_PIXELS must be positive and CASE_PHOTOS_MAX 0 or more.")
# Idempotency keys are kept this long (hours) and then removed by a periodic task: a retry within it
# gets the first answer, a request after it is new.
IDEMPOTENCY_KEY_TTL_HOURS = env_number("IDEMPOTENCY_KEY_TTL_HOURS", 24.0)
if IDEMPOTENCY_KEY_TTL_HOURS <= 0:
    raise ImproperlyConfigured(f"IDEMPOTENCY_KEY_TTL_HOURS must be positive, not {IDEMPOTENCY_KEY_TTL_HOURS}.")

# SLA and evaluation (dispatch/sla/, dispatch/tasks.py, dispatch/evaluation/)
# Deadlines are counted on the Chinese working calendar in this zone whatever TIME_ZONE says.
SLA_TIME_ZONE = "Asia/Shanghai"


def _work_periods(raw: str) -> list:
    periods = []
    for chunk in raw.split(","):
        try:
            begin, end = (time.fromisoformat(part.strip()) for part in chunk.split("-"))
        except ValueError:
            raise ImproperlyConfigured(
                f"SLA_WORK_PERIODS must look like 09:00-12:00,13:30-17:30, not {raw!r}."
            ) from None
        if begin >= end or (periods and begin < periods[-1][1]):
            raise ImproperlyConfigured(f"SLA_WORK_PERIODS must be ordered, non-overlapping periods: {raw!r}.")
        periods.append((begin, end))
    return periods


SLA_WORK_PERIODS = _work_periods(env("SLA_WORK_PERIODS", "09:00-12:00,13:30-17:30"))
SLA_YELLOW_FRACTION = env_number("SLA_YELLOW_FRACTION", 0.8)
if not 0 < SLA_YELLOW_FRACTION < 1:
    raise ImproperlyConfigured(f"SLA_YELLOW_FRACTION must be between 0 and 1, not {SLA_YELLOW_FRACTION}.")
# Dotted path of the class that delivers SLA notices (dispatch/notifications.py).
NOTIFICATION_BACKEND = env("NOTIFICATION_BACKEND", "dispatch.notifications.LogBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@shehui.localhost")
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")


def _weights(raw: str) -> dict:
    try:
        values = [float(part) for part in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 3 or min(values) < 0 or sum(values) <= 0:
        raise ImproperlyConfigured(
            f"EVALUATION_WEIGHTS must be three non-negative numbers (response, resolution, satisfaction), not {raw!r}."
        )
    return dict(zip(("response", "resolution", "satisfaction"), values, strict=True))


# Composite score weights over 响应率, 解决率, 满意率.
EVALUATION_WEIGHTS = _weights(env("EVALUATION_WEIGHTS", "30,35,35"))
# A sweep that waited a minute in the queue is superseded by the next one.
CELERY_BEAT_SCHEDULE["dispatch-relay-outbox"] = {
    "task": "dispatch.tasks.relay_outbox",
    "schedule": OUTBOX_RELAY_SECONDS,
    "options": {"expires": max(OUTBOX_RELAY_SECONDS, 1.0)},
}
CELERY_BEAT_SCHEDULE["dispatch-expire-idempotency-keys"] = {
    "task": "dispatch.tasks.expire_idempotency_keys",
    "schedule": 3600.0,
    "options": {"expires": 3000},
}
CELERY_BEAT_SCHEDULE["dispatch-sweep-deadlines"] = {
    "task": "dispatch.tasks.sweep_deadlines",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# Supervision of conduct (docs/supervision.md): the rules read weeks of the event log, so hourly is
# plenty; a run still waiting when the next is due is dropped.
SUPERVISION_RUN_SECONDS = env_number("SUPERVISION_RUN_SECONDS", 3600.0)
if SUPERVISION_RUN_SECONDS < 60:
    raise ImproperlyConfigured(f"SUPERVISION_RUN_SECONDS must be 60 or more, not {SUPERVISION_RUN_SECONDS}.")
CELERY_BEAT_SCHEDULE["dispatch-supervision-rules"] = {
    "task": "dispatch.supervision.tasks.run_rules",
    "schedule": SUPERVISION_RUN_SECONDS,
    "options": {"expires": SUPERVISION_RUN_SECONDS * 0.9},
}

# Early warning (maps/alerts.py, docs/analytics.md): today so far against the same weekday of the last
# ALERT_BASELINE_WEEKS weeks; flagged when the Poisson tail is below ALERT_ALPHA, the count at least
# ALERT_MIN_COUNT and at least ALERT_MIN_RATIO times what was expected.
ALERT_BASELINE_WEEKS = env_number("ALERT_BASELINE_WEEKS", 8, int)
ALERT_ALPHA = env_number("ALERT_ALPHA", 0.001)
ALERT_MIN_COUNT = env_number("ALERT_MIN_COUNT", 5, int)
ALERT_MIN_RATIO = env_number("ALERT_MIN_RATIO", 2.0)
if ALERT_BASELINE_WEEKS < 3 or not 0 < ALERT_ALPHA < 1 or ALERT_MIN_COUNT < 1 or ALERT_MIN_RATIO < 1:
    raise ImproperlyConfigured(
        "ALERT_BASELINE_WEEKS must be 3 or more, ALERT_ALPHA between 0 and 1, ALERT_MIN_COUNT 1 or more "
        "and ALERT_MIN_RATIO 1 or more."
    )
# Ten minutes: a surge is news within the hour, and a sweep reads nine days of reports.
CELERY_BEAT_SCHEDULE["maps-sweep-alerts"] = {
    "task": "maps.tasks.sweep_alerts",
    "schedule": 600.0,
    "options": {"expires": 550},
}

# Hotline (hotline/): the duplicate finder looks this far (metres) and this far back (days); a caller
# who rang within HOTLINE_REPEAT_CALLER_DAYS is shown to the agent as a repeat caller.
HOTLINE_DUPLICATE_RADIUS_M = env_number("HOTLINE_DUPLICATE_RADIUS_M", 250.0)
HOTLINE_DUPLICATE_DAYS = env_number("HOTLINE_DUPLICATE_DAYS", 7, int)
HOTLINE_REPEAT_CALLER_DAYS = env_number("HOTLINE_REPEAT_CALLER_DAYS", 30, int)
if HOTLINE_DUPLICATE_RADIUS_M <= 0 or HOTLINE_DUPLICATE_DAYS < 1 or HOTLINE_REPEAT_CALLER_DAYS < 1:
    raise ImproperlyConfigured(
        "HOTLINE_DUPLICATE_RADIUS_M must be positive; HOTLINE_DUPLICATE_DAYS and HOTLINE_REPEAT_CALLER_DAYS 1 or more."
    )
# Open311 GeoReport v2 (/open311/v2/): the jurisdiction_id clients may send, and what discovery says.
OPEN311_JURISDICTION_ID = env("OPEN311_JURISDICTION_ID", "520100")
OPEN311_CONTACT = env("OPEN311_CONTACT", "贵阳市12345政务服务便民热线 12345")
OPEN311_KEY_SERVICE = env("OPEN311_KEY_SERVICE", "API 密钥由12345热线中心签发（manage.py open311_key）。")

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 31536000, int)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Phones never reach a log: every line is masked on its way out, whichever module wrote it.
    "filters": {"mask_phones": {"()": "partners.privacy.MaskPhonesFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_phones"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Debian 12 ships GDAL 3.6, which cannot block file/network access from spatial references.
# No request ever hands GDAL a spatial reference: `crs` is one of a fixed list of names.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
