"""Build step for the catalogues: every locale/*/LC_MESSAGES/*.po is compiled to a .mo in the
build (wheel, sdist install). An editable install or a checkout runs no build step; there
backtrace reads the .po itself (backtrace_cli/i18n.py), compiled by the same function."""

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self):
        super().run()
        path = Path(__file__).parent / "backtrace_cli" / "catalogue.py"
        spec = importlib.util.spec_from_file_location("backtrace_catalogue", path)
        catalogue = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(catalogue)  # stdlib only: no import of the package
        for po in sorted(Path("backtrace_cli/locale").glob("*/LC_MESSAGES/*.po")):
            mo = Path(self.build_lib) / po.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            mo.write_bytes(catalogue.compile_po(po.read_text(encoding="utf-8")))


setup(cmdclass={"build_py": BuildWithCatalogues})
