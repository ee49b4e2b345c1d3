"""The CI workflow users get: pinned actions, services, and the checks it runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPOSITORY / ".github/workflows/ci.yml").read_text())
    return loaded


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_actions_pinned_to_commit(workflow: dict[str, Any]) -> None:
    uses = [step["uses"] for step in steps(workflow) if "uses" in step]
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action


def test_workflow_runs_every_check(workflow: dict[str, Any]) -> None:
    commands = [step["run"] for step in steps(workflow) if "run" in step]
    assert "make test" in commands
    assert ".venv/bin/python -m app scan-secrets --history" in commands
    assert any(command.startswith("docker build") for command in commands)


def test_workflow_has_database_services(workflow: dict[str, Any]) -> None:
    test_job = workflow["jobs"]["test"]
    assert set(test_job["services"]) == {"postgres", "redis"}
    assert test_job["env"]["TEST_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert test_job["env"]["TEST_REDIS_URL"].startswith("redis://")


def test_workflow_token_is_read_only(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
