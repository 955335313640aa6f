"""Export one figure per executed notebook to ``docs/_static/notebooks/``.

Usage: ``python docs/export_notebook_figures.py FOLDER`` where FOLDER holds executed copies
of ``notebooks/*.ipynb`` (for example the test suite's, or ``jupyter nbconvert --execute``
output). The last PNG each notebook draws is written as ``<notebook>.png``.
"""

import base64
import sys
from pathlib import Path

import nbformat

folder = Path(sys.argv[1])
target = Path(__file__).resolve().parent / "_static" / "notebooks"
target.mkdir(parents=True, exist_ok=True)
for path in sorted(folder.glob("*.ipynb")):
    notebook = nbformat.read(path, as_version=4)
    images = [output["data"]["image/png"] for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if "image/png" in output.get("data", {})]
    if images:
        (target / f"{path.stem}.png").write_bytes(base64.b64decode(images[-1]))
        print(target / f"{path.stem}.png")
