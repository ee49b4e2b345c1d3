"""Every test that SECURITY.md names as proof of a control exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
TEST_ID = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[[^\]`]*\])?`")


def control_rows() -> list[list[str]]:
    """Return the cells of each body row of the Controls table."""
    text = (REPOSITORY / "SECURITY.md").read_text()
    section = text.split("\n## Controls\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    # rows[0] is the header and rows[1] the |---| separator.
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def defined_test_names(path: Path) -> set[str]:
    """Return the test functions defined in a module, at top level or in classes."""
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_security_md_has_controls() -> None:
    rows = control_rows()
    assert len(rows) >= 5
    for row in rows:
        assert len(row) == 3, row


def test_every_control_names_a_test() -> None:
    for control, _module, proof in control_rows():
        assert TEST_ID.search(proof), f"{control}: name at least one test as path.py::name"


def test_named_tests_exist() -> None:
    missing = []
    for control, _module, proof in control_rows():
        for path, name in TEST_ID.findall(proof):
            module = REPOSITORY / path
            if not module.is_file() or name not in defined_test_names(module):
                missing.append(f"{control}: {path}::{name}")
    assert missing == []


def test_named_modules_exist() -> None:
    for control, module_cell, _proof in control_rows():
        for module in re.findall(r"`([^`]+)`", module_cell):
            assert list(REPOSITORY.glob(module)), f"{control}: {module}"
