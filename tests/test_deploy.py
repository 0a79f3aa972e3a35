"""deploy/: the systemd unit, the container image and compose cannot fail silently, and their promises
hold (hardening, pinned base image, locked dependencies, a healthcheck that proves the bot is alive)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name
from pip._vendor.packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _text(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


def _unit() -> dict[str, list[str]]:
    """Return the unit's ``Key=value`` settings (a key may repeat), comments aside."""
    settings: dict[str, list[str]] = {}
    for line in _text("kefu.service").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def _pins() -> dict[str, Version]:
    pins = {}
    for line in _text("constraints.txt").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("UMask", "0077"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/lib/kefu"),
        ("PrivateDevices", "yes"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("SystemCallFilter", "@system-service"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("User", "kefu"),
        ("Restart", "on-failure"),
    ],
)
def test_the_unit_is_hardened_and_reloads(key: str, value: str) -> None:
    assert value in _unit()[key]


def test_the_unit_install_lines_create_what_it_needs() -> None:
    lines = _text("kefu.service").splitlines()
    commands = "\n".join(line.removeprefix("#").strip() for line in lines if line.startswith("#"))
    assert "install -D -m 600 -o root -g root deploy/kefu.env.example /etc/kefu/kefu.env" in commands
    assert "install -D -m 644 deploy/kefu.service /etc/systemd/system/kefu.service" in commands
    assert "useradd --system" in commands and "--constraint deploy/constraints.txt" in commands
    unit = _unit()
    assert unit["EnvironmentFile"] == ["/etc/kefu/kefu.env"]
    assert unit["StateDirectory"] == ["kefu"]  # systemd makes /var/lib/kefu for the kefu user
    assert unit["ExecStart"] == ["/opt/kefu/bin/kefu run"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_rates_the_unit_exposure_at_most_3() -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(DEPLOY / "kefu.service")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for kefu\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 3.0


def test_the_containerfile_pins_its_base_and_installs_the_lock() -> None:
    text = _text("Containerfile")
    (base,) = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert re.fullmatch(r"docker\.io/library/python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base)
    assert "pip install --requirement deploy/constraints.txt" in text
    assert "pip install --no-deps ." in text  # nothing beyond the lock
    assert 'HEALTHCHECK' in text and 'CMD ["kefu", "health"]' in text
    assert "--format docker" in text  # podman keeps the healthcheck only in the docker format
    assert re.search(r"^USER kefu$", text, re.MULTILINE)


def test_the_build_context_is_an_allow_list() -> None:
    ignore = (ROOT / ".containerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*")] == "*"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set(re.findall(r"^COPY (\S+)", _text("Containerfile"), re.MULTILINE))
    assert copied <= allowed | {"pyproject.toml"}, copied - allowed
    assert (ROOT / ".dockerignore").resolve() == (ROOT / ".containerignore").resolve()


def test_the_lock_pins_every_runtime_dependency_within_its_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins()
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in deploy/constraints.txt: refresh it"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_compose_runs_the_bot_with_a_volume_env_file_restart_and_a_liveness_check() -> None:
    text = _text("compose.yaml")
    assert re.search(r"^\s+env_file: kefu\.env$", text, re.MULTILINE)
    assert re.search(r"^\s+restart: unless-stopped$", text, re.MULTILINE)
    assert re.search(r"^\s+- kefu-data:/var/lib/kefu$", text, re.MULTILINE)
    assert re.search(r"^volumes:\n  kefu-data:", text, re.MULTILINE)  # a named volume
    assert 'test: ["CMD", "kefu", "health"]' in text
    assert "KEFU_DB_PATH: /var/lib/kefu/kefu.db" in text  # the database is in the volume
    assert "dockerfile: deploy/Containerfile" in text


def test_the_env_example_says_where_dotenv_is_read() -> None:
    header = _text("kefu.env.example").split("\n\n")[0]
    assert ".env in the working directory" in header
    assert "or .env beside the database" not in header  # the old, wrong claim
