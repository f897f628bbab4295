"""``import torch`` inside ``backtrace run``: a ``sys.meta_path`` finder that resolves ``torch``
and ``torch.*`` to backtrace's torch-compatible package, and changes nothing else.

Modelled on pytest's assertion-rewriting hook: a finder placed first on ``sys.meta_path``
answers for the names it owns and returns None for every other name, so numpy, matplotlib,
the standard library and the script's own modules import as they always do. It is installed
only while the script runs (``torch_imports``) and removed afterwards, and the ``torch``
entries of ``sys.modules`` (PyTorch's own, when something had imported it) are put back as
they were.

``sys.modules['torch']`` is the package object ``backtrace_cli.torchlike`` itself (and
``torch.nn`` is ``backtrace_cli.torchlike.nn``), so ``torch.nn is sys.modules['torch.nn']``
and a library that looks for ``sys.modules['torch'].Tensor`` finds ours. A torch submodule the
package does not have, and the libraries of PyTorch's family that need PyTorch itself
(``torchvision``...), are refused at the import with a NotImplementedError that says to run
the script with PyTorch.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator
from importlib.machinery import ModuleSpec

TORCH = "torch"
PACKAGE = "backtrace_cli.torchlike"
# Libraries that are built on PyTorch itself: on backtrace's torch they would fail deep inside
# their own code, so the import is refused where the script asks for them.
FAMILY = ("torchvision", "torchaudio", "torchtext", "torchdata")


def missing_message(name: str) -> str:
    """The error for something of PyTorch that backtrace's torch does not have: the package's
    own words for it (imported here only when one is missing)."""
    from backtrace_cli.torchlike._missing import not_in_subset

    return not_in_subset(name)


def owned(name: str) -> bool:
    """Whether the module ``name`` is one the hook answers for while a script runs."""
    top = name.partition(".")[0]
    return top == TORCH or top in FAMILY


class TorchFinder:
    """Finds ``torch`` and ``torch.X`` as ``backtrace_cli.torchlike`` and its ``X``.

    ``on_first_import`` is called once, when the script first imports torch (the CLI prints
    its notice then, so a script without torch gets none)."""

    def __init__(self, on_first_import: Callable[[], None] | None = None) -> None:
        self.on_first_import = on_first_import
        self.imported = False

    def find_spec(self, fullname: str, path=None, target=None) -> ModuleSpec | None:
        if not owned(fullname):
            return None
        if fullname.partition(".")[0] != TORCH:
            raise NotImplementedError(missing_message(_requested(fullname)))
        if not self.imported:
            self.imported = True
            if self.on_first_import is not None:
                self.on_first_import()
        target_name = PACKAGE + fullname[len(TORCH):]
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as error:
            if error.name != target_name:
                raise  # something inside our package is broken: show it as it is
            raise NotImplementedError(missing_message(_requested(fullname))) from None
        return ModuleSpec(fullname, _Alias(module), is_package=hasattr(module, "__path__"))

    # importlib calls this on every finder after a change of sys.path (importlib.invalidate_caches).
    def invalidate_caches(self) -> None:
        pass


class _Alias:
    """A loader whose module is one that already exists.

    importlib creates a placeholder module, calls ``exec_module`` on it, then takes whatever
    ``sys.modules[name]`` holds afterwards (``_bootstrap._load_unlocked``): putting our module
    there makes ``import torch`` give it, with its own ``__name__`` and ``__spec__`` intact."""

    def __init__(self, module) -> None:
        self.module = module

    def create_module(self, spec: ModuleSpec):
        return None  # importlib's default: an empty placeholder module

    def exec_module(self, placeholder) -> None:
        sys.modules[placeholder.__name__] = self.module


def _requested(found: str) -> str:
    """The module the import statement asked for (``torch.utils.data``) of which ``found``
    (``torch.utils``) is the first part that is missing.

    importlib imports the parents first, each through ``_find_and_load``; the outermost such
    frame that is about ``found`` holds the whole name. Without it, ``found`` is the answer."""
    requested = found
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "_find_and_load" and code.co_filename.startswith("<frozen importlib"):
            name = frame.f_locals.get("name")
            if isinstance(name, str) and (name == found or name.startswith(found + ".")):
                requested = name
        frame = frame.f_back
    return requested


@contextlib.contextmanager
def torch_imports(on_first_import: Callable[[], None] | None = None) -> Iterator[TorchFinder]:
    """Inside the block, ``import torch`` (and ``torch.*``) gives backtrace's package.

    Any ``torch`` modules already in ``sys.modules`` (PyTorch itself, imported by a caller) are
    set aside for the block and put back after it; the aliases made inside are dropped."""
    stashed = {name: sys.modules.pop(name) for name in list(sys.modules) if owned(name)}
    finder = TorchFinder(on_first_import)
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if owned(name)]:
            del sys.modules[name]
        sys.modules.update(stashed)
