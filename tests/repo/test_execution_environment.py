"""meta/execution-environment.yml works for both readers ansible-builder has for it (no network, no images).

- `ansible-builder create` accepts it as a definition and writes a build context holding the
  collection's Python and system requirements;
- the introspection an execution environment build runs over its installed collections finds the
  same requirements through it (paths relative to the collection root).
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).parents[2]
META = ROOT / "meta"


def _requirement_names(path):
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line.split()[0].split(">")[0].split("=")[0].split("<")[0].split("[")[0].lower())
    return names


def _bindep_lines(path):
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ee")
    # The definition's paths are relative to the collection root (the rule the introspection
    # applies), so the definition is read from a root-level copy next to the collection's meta/.
    src = tmp / "collection"
    src.mkdir()
    shutil.copy(META / "execution-environment.yml", src / "execution-environment.yml")
    (src / "meta").symlink_to(META)
    builder = pathlib.Path(sys.executable).parent / "ansible-builder"
    result = subprocess.run(
        [str(builder), "create", "--file", str(src / "execution-environment.yml"), "--context", str(tmp / "context"),
         "--output-filename", "Containerfile"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp / "context"


def test_definition_names_a_base_image_and_the_tested_ansible_core():
    definition = yaml.safe_load((META / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert ":" in definition["images"]["base_image"]["name"], "the base image needs an explicit tag"
    pins = {r.split("==")[0]: r for r in (ROOT / "requirements" / "python.txt").read_text().split() if "==" in r}
    assert definition["dependencies"]["ansible_core"]["package_pip"] == pins["ansible-core"]


def test_build_context_holds_the_python_requirements(context):
    names = _requirement_names(context / "_build" / "requirements.txt")
    assert {"hvac", "cryptography"} <= names
    assert _requirement_names(META / "ee-requirements.txt") <= names


def test_build_context_holds_the_system_requirements(context):
    lines = _bindep_lines(context / "_build" / "bindep.txt")
    assert lines == _bindep_lines(META / "ee-bindep.txt")
    assert any(line.startswith("gpgv ") for line in lines)


def test_build_context_installs_the_collection_dependencies(context):
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    wanted = {c["name"]: c.get("version") for c in requirements["collections"]}
    assert wanted == galaxy["dependencies"]
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==2.19.14" in containerfile


def test_introspection_of_the_installed_collection_finds_the_requirements(tmp_path):
    # The same reader `ansible-builder build` runs inside the image over every installed collection.
    from ansible_builder._target_scripts import introspect

    namespace = tmp_path / "ansible_collections" / "mcpops"
    namespace.mkdir(parents=True)
    (namespace / "alipay_mcp").symlink_to(ROOT)
    found = introspect.process(data_dir=os.fspath(tmp_path))
    python = found["python"]["mcpops.alipay_mcp"]
    assert {"hvac", "cryptography"} <= {line.split(">")[0].split("=")[0].strip().lower() for line in python}
    assert found["system"]["mcpops.alipay_mcp"] == _bindep_lines(META / "ee-bindep.txt")
