"""No docstring or comment of the package cites a spec file the package does not ship.

The project's spec files (``THEORY.md``, ``PROBLEMS.md``, ``GEOMETRY.md``, ...) are not part
of the installed package, so a citation such as "THEORY.md, lemma L1" points nowhere for a
user. Cite the module (and function or section) that holds the statement instead, e.g.
"``nalr_theory.theory.lemmas`` (lemma L1)", and keep the math in the docstring itself.

Every ``.py`` file under ``nalr_theory/`` is scanned as text for ``[A-Z]+\\.md``.
``citations(subpackage)`` restricts the scan to one subpackage (``None``: the whole
package; ``""``: the top-level modules only); the test is parametrised per subpackage so
that each can be checked on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import nalr_theory

PACKAGE_DIR = Path(nalr_theory.__file__).resolve().parent
CITATION = re.compile(r"[A-Z]+\.md")


def _files(subpackage: str | None, package_dir: Path):
    if subpackage is None:
        return sorted(package_dir.rglob("*.py"))
    if subpackage == "":
        return sorted(package_dir.glob("*.py"))
    return sorted((package_dir / subpackage).rglob("*.py"))


def citations(subpackage: str | None = None, package_dir: Path = PACKAGE_DIR) -> list[str]:
    """``path:line: cited files: text`` for every spec citation in ``subpackage``."""
    found = []
    for path in _files(subpackage, package_dir):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if CITATION.search(line):
                where = path.relative_to(package_dir.parent)
                found.append(f"{where}:{number}: {', '.join(CITATION.findall(line))}: {line.strip()}")
    return found


SUBPACKAGES = sorted(path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py"))


@pytest.mark.parametrize("subpackage", SUBPACKAGES + [""], ids=lambda name: name or "top_level")
def test_no_spec_citations(subpackage):
    found = citations(subpackage)
    assert not found, f"{len(found)} citation(s) of unshipped spec files:\n" + "\n".join(found)


def test_scanner_finds_citations(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "__init__.py").write_text('"""Top (see PRODUCT.md)."""\n')
    (tmp_path / "sub" / "__init__.py").write_text("")
    (tmp_path / "sub" / "m.py").write_text('"""Fine: README.rst, readme.md."""\n# THEORY.md, lemma L1\n')
    assert [entry.split(": ")[0] for entry in citations("sub", tmp_path)] == [f"{tmp_path.name}/sub/m.py:2"]
    assert len(citations("", tmp_path)) == 1 and len(citations(None, tmp_path)) == 2
