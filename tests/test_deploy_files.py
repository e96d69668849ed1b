"""The deployment files name real entry points and every setting is documented."""

import importlib
import os
import re
import stat
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ["migrate", "web", "worker", "scheduler"]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_example_names() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}


def test_compose_has_the_production_shape():
    assert set(compose()["services"]) == {*APP_SERVICES, "postgres", "redis", "mailpit"}


def test_compose_commands_name_real_entry_points():
    commands = get_commands()
    for name in APP_SERVICES:
        command = compose()["services"][name]["command"]
        if command[:2] == ["python", "manage.py"]:
            assert command[2] in commands, f"{name}: no management command {command[2]}"
        else:
            assert command[0] == "gunicorn"
            module, attribute = command[1].split(":")
            assert callable(getattr(importlib.import_module(module), attribute))


def test_compose_environment_is_documented():
    for name in APP_SERVICES:
        assert set(compose()["services"][name]["environment"]) <= env_example_names()


def test_every_setting_read_from_the_environment_is_documented():
    source = (ROOT / "statuspage" / "settings.py").read_text()
    pattern = r'(?:os\.environ\.get\(|os\.environ\[|env_bool\(|env_int\()"([A-Z_]+)"'
    assert set(re.findall(pattern, source)) - env_example_names() == set()


def test_makefile_defines_the_verbs():
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert {"run", "test", "lint", "fmt", "worker", "bench"} <= targets


def test_ci_script_is_strict_bash():
    script = ROOT / ".ci" / "run"
    assert os.stat(script).st_mode & stat.S_IXUSR
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
