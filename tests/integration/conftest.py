import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import openbao  # noqa: E402


@pytest.fixture
def openbao_server(tmp_path):
    """A real OpenBao dev server on a free loopback port, stopped after the test."""
    with openbao.running(str(tmp_path / "openbao")) as info:
        yield info
