"""The examples in the guard's docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "guards",
    "guards.catalogue",
    "guards.context",
    "guards.matcher",
    "guards.meaning",
    "guards.normalize",
    "guards.prefilter",
    "guards.review",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
