"""docs/modules/*.md are what tests/harness/module_docs.py makes of the modules' documentation now."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).parents[2]


def _module_docs():
    spec = importlib.util.spec_from_file_location("module_docs", ROOT / "tests" / "harness" / "module_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_module_pages_are_current():
    assert _module_docs().main(check=True) == 0, "run: python tests/harness/module_docs.py"


def test_every_module_has_a_page_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in _module_docs().modules():
        assert (ROOT / "docs" / "modules" / f"{name}.md").is_file(), name
        assert f"(docs/modules/{name}.md)" in readme, f"README.md does not link docs/modules/{name}.md"
