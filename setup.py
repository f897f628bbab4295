"""Build step for the catalogues: every locale/*/LC_MESSAGES/*.po is compiled to a .mo with
Babel (a build requirement, see pyproject.toml). A wheel or an sdist install gets the .mo in
its build folder; an editable install (``pip install -e``, where setuptools runs build_py
with ``editable_mode``) gets it beside the .po in the source tree, where gettext finds it
(the .mo is ignored by git). A checkout that was never installed compiles the .po when it is
first read (backtrace_cli/i18n.py)."""

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CATALOGUES = "backtrace_cli/locale/*/LC_MESSAGES/*.po"


def _catalogue_module():
    # backtrace_cli/catalogue.py by its path: it needs Babel only, not the package's
    # dependencies, which the build environment does not have.
    spec = importlib.util.spec_from_file_location("backtrace_catalogue",
                                                  HERE / "backtrace_cli" / "catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithCatalogues(build_py):
    def _targets(self):
        root = HERE if self.editable_mode else Path(self.build_lib)
        return {str(root / po.relative_to(HERE).with_suffix(".mo")): str(po)
                for po in sorted(HERE.glob(CATALOGUES))}

    def run(self):
        super().run()
        catalogue = _catalogue_module()
        for mo, po in self._targets().items():
            Path(mo).parent.mkdir(parents=True, exist_ok=True)
            Path(mo).write_bytes(catalogue.compile_mo(Path(po)))

    def get_outputs(self, *args, **kwargs):
        return [*super().get_outputs(*args, **kwargs), *self._targets()]

    def get_output_mapping(self):
        return {**super().get_output_mapping(), **self._targets()}


setup(cmdclass={"build_py": BuildWithCatalogues})
