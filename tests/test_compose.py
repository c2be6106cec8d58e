"""docker-compose.yml is the stack for Docker users; Docker cannot run here, so read it as a spec."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
        assert service["healthcheck"]["test"], f"{name} health check is empty"


def test_app_services_share_one_image_built_from_the_dockerfile():
    services = compose()["services"]
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert len(images) == 1
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and "gdal-bin" in dockerfile


def test_app_services_wait_for_healthy_db_and_redis_and_point_at_them():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgis://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")


def test_commands_run_the_real_processes():
    services = compose()["services"]
    assert "postgis" in services["db"]["image"]
    assert "migrate" in services["web"]["command"] and "load_demo" in services["web"]["command"]
    assert "config.asgi:application" in services["web"]["command"]
    # Live messages are a few hundred bytes: compressing each costs the event loop more than it saves.
    assert "--ws-per-message-deflate false" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_every_service_is_restarted_when_it_dies():
    for name, service in compose()["services"].items():
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), f"{name} is not restarted"


def test_redis_keeps_its_data_across_a_restart():
    redis = compose()["services"]["redis"]
    assert "--appendonly yes" in redis["command"]
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
