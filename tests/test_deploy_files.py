"""The deployment files name real entry points, and every setting read is documented.

No database: these read the files and ask Django which management commands exist.
"""

import importlib
import json
import re
import stat
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = {"migrate", "web", "worker", "scheduler"}
MAKE_VERBS = {"run", "test", "lint", "fmt", "worker", "bench"}
ENV_READ = re.compile(r'(?:os\.environ\.get\(|os\.environ\[|env_bool\(|env_int\()\s*"([A-Z0-9_]+)"')
MANAGE_PY_COMMAND = re.compile(r"manage\.py\s+([a-z_]+)")


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def env_example_names() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {m[1] for line in lines if (m := re.match(r"^([A-Z][A-Z0-9_]*)=", line))}


def settings_env_names() -> set[str]:
    return set(ENV_READ.findall((ROOT / "statuspage" / "settings.py").read_text()))


def assert_entry_point_exists(command: list[str]) -> None:
    """`python manage.py <cmd> ...` names a registered command; gunicorn a `module:attr`."""
    if command[:2] == ["python", "manage.py"]:
        assert command[2] in get_commands(), f"no management command {command[2]!r}"
    else:
        assert command[0] == "gunicorn"
        module, attribute = command[1].split(":")
        assert callable(getattr(importlib.import_module(module), attribute))


def test_compose_services_are_the_production_shape():
    assert set(compose_services()) == APP_SERVICES | {"postgres", "redis", "redis-cache", "mailpit"}


def test_compose_app_services_are_the_ones_built_from_the_dockerfile():
    built = {name for name, service in compose_services().items() if "build" in service}
    assert built == APP_SERVICES


def test_compose_app_commands_name_real_entry_points():
    for name in sorted(APP_SERVICES):
        assert_entry_point_exists(compose_services()[name]["command"])


def test_compose_app_commands_are_the_expected_processes():
    commands = {name: compose_services()[name]["command"][:4] for name in APP_SERVICES}
    assert commands == {
        "migrate": ["python", "manage.py", "migrate", "--noinput"],
        "web": ["gunicorn", "statuspage.wsgi:application", "--bind", "0.0.0.0:8000"],
        "worker": ["python", "manage.py", "rqworker", "default"],
        "scheduler": ["python", "manage.py", "run_periodic_jobs"],
    }


def test_compose_app_services_wait_for_healthy_backing_services():
    for name in sorted(APP_SERVICES):
        depends_on = compose_services()[name]["depends_on"]
        assert depends_on["postgres"] == {"condition": "service_healthy"}, name
        assert depends_on["redis"] == {"condition": "service_healthy"}, name
    for name in sorted(APP_SERVICES - {"migrate"}):
        migrate = compose_services()[name]["depends_on"]["migrate"]
        assert migrate == {"condition": "service_completed_successfully"}, name


def test_compose_backing_services_have_healthchecks():
    services = compose_services()
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["mailpit"]["image"] == "axllent/mailpit"
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]
    assert services["redis-cache"]["image"] == "redis:7"
    assert "healthcheck" in services["redis-cache"]


def test_compose_queue_redis_never_evicts_and_the_cache_redis_does():
    queue, cache = (
        compose_services()["redis"]["command"],
        compose_services()["redis-cache"]["command"],
    )
    assert queue[queue.index("--maxmemory-policy") + 1] == "noeviction"
    assert queue[queue.index("--appendonly") + 1] == "yes"
    assert cache[cache.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert "--maxmemory" in cache


def test_compose_environment_is_documented_in_env_example():
    documented = env_example_names()
    for name in sorted(APP_SERVICES):
        assert set(compose_services()[name]["environment"]) - documented == set(), name


def test_compose_environment_is_production_like():
    environment = compose_services()["web"]["environment"]
    assert environment["DEBUG"] == "false"
    assert environment["EMAIL_URL"] == "smtp://mailpit:1025"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["CACHE_REDIS_URL"] == "redis://redis-cache:6379/0"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/statuspage")


def test_env_example_documents_every_setting_read_from_the_environment():
    read = settings_env_names()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= read
    assert read - env_example_names() == set()


def test_env_example_gives_each_variable_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    uncommented = [
        line.split("=", 1)[0]
        for index, line in enumerate(lines)
        if re.match(r"^[A-Z][A-Z0-9_]*=", line) and not lines[index - 1].startswith("# ")
    ]
    assert uncommented == []


def test_makefile_defines_the_verbs():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    assert targets >= MAKE_VERBS | {"install", "install-dev", "migrate", "clean"}
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)[1].split())
    assert phony >= MAKE_VERBS


def test_makefile_management_commands_exist():
    used = set(MANAGE_PY_COMMAND.findall((ROOT / "Makefile").read_text()))
    assert used >= {"migrate", "seed_demo", "run_periodic_jobs", "runserver", "rqworker"}
    assert used - set(get_commands()) == set()


def test_dockerfile_command_names_a_real_entry_point():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile.splitlines()
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)[1])
    assert_entry_point_exists(command)
    assert re.search(r"^USER (?!root)\S+$", dockerfile, re.MULTILINE)


def test_ci_script_is_strict_executable_bash():
    script = ROOT / ".ci" / "run"
    assert script.stat().st_mode & stat.S_IXUSR
    lines = script.read_text().splitlines()
    assert lines[0] in {"#!/usr/bin/env bash", "#!/bin/bash"}
    assert "set -euo pipefail" in lines
    assert "make lint" in lines
    assert "make test" in " ".join(lines)


def test_readme_quick_start_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert quick_start == "make run\nmake test\n"


def test_deploy_checks_pass_with_production_settings():
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k3Yq8-production-like-secret-Vd9sLw2Zp0aQ7uR4tNb6mXc1eHf5gJ",
        "DATABASE_URL": "sqlite://:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
