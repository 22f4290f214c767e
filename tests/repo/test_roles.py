"""Every role's defaults/main.yml matches its meta/argument_specs.yml, option for option."""

import pathlib

import pytest
import yaml

ROLES = sorted(p for p in (pathlib.Path(__file__).parents[2] / "roles").iterdir() if p.is_dir())


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_match_argument_specs(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    defaults_file = role / "defaults" / "main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
    options = {}
    for entry in specs.values():
        options.update(entry.get("options", {}))
    assert set(defaults) == {k for k, v in options.items() if "default" in v}, "defaults and specs name different options"
    for name, value in defaults.items():
        assert options[name]["default"] == value, f"{role.name}: {name} default differs from argument_specs"
    for name, option in options.items():
        assert option.get("description"), f"{role.name}: {name} has no description"


def test_role_readme_tables_are_current():
    import importlib.util

    path = pathlib.Path(__file__).parents[2] / "tests" / "harness" / "role_docs.py"
    spec = importlib.util.spec_from_file_location("role_docs", path)
    role_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(role_docs)
    assert role_docs.main(check=True) == 0, "run: python tests/harness/role_docs.py"
