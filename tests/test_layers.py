"""The layers of DESIGN.md, checked on the source: presence, router, engine, api, bench.

Each rule has one room, and a layer only imports the layers below it; that is what lets
each room be read, tested and changed alone. These tests keep it so: every import in the
five packages (module level, in functions, under `if TYPE_CHECKING:`, in try/except) must
point down, and no package's modules may import each other in a circle.
"""

from __future__ import annotations

import ast
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bottom up: each package may import only those before it (and itself).
LAYERS = ("presence", "router", "engine", "api", "bench")
ALLOWED: dict[str, tuple[str, ...]] = {
    pkg: tuple(reversed(LAYERS[:i])) for i, pkg in enumerate(LAYERS)
}
MAX_CYCLES_PER_TANGLE = 20  # elementary cycles listed for one strongly connected set

Graph = Mapping[str, Set[str]]


@dataclass(frozen=True, order=True)
class Import:
    """One statement's import of one seatflow module."""

    path: str  # importing file, relative to the root, e.g. "presence/guard.py"
    line: int
    source: str  # importing module, e.g. "presence.guard"
    target: str  # imported module, e.g. "engine.errors"


# -- finding the modules ---------------------------------------------------------------------


def module_name(rel: Path) -> str:
    """`engine/payroll/tallies.py` -> `engine.payroll.tallies`; `engine/__init__.py` -> `engine`."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the five packages, by dotted name, with its file."""
    found: dict[str, Path] = {}
    for pkg in LAYERS:
        for path in sorted((root / pkg).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[module_name(path.relative_to(root))] = path
    return found


# -- resolving one import statement ----------------------------------------------------------


def _relative_base(source: str, is_package: bool, level: int) -> str | None:
    """The package `from .` (level 1), `from ..` (level 2) ... names inside `source`."""
    package = source.split(".") if is_package else source.split(".")[:-1]
    if level - 1 >= len(package):
        return None  # climbs above the top-level package: not ours to judge
    return ".".join(package[: len(package) - (level - 1)])


def _from_targets(
    node: ast.ImportFrom, source: str, is_package: bool, modules: Set[str]
) -> list[str]:
    """`from base import a, b`: `base.a` where that is a module, else `base` itself."""
    base = node.module or ""
    if node.level:
        package = _relative_base(source, is_package, node.level)
        if package is None:
            return []
        base = f"{package}.{base}" if base else package
    targets = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        targets.append(sub if sub in modules else base)
    return targets


def _targets(node: ast.AST, source: str, is_package: bool, modules: Set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return _from_targets(node, source, is_package, modules)
    return []


def _parse(path: Path) -> ast.Module:
    with warnings.catch_warnings():  # a bad escape in someone's string is not our failure
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _file_imports(root: Path, source: str, path: Path, modules: Set[str]) -> Iterator[Import]:
    rel = path.relative_to(root).as_posix()
    is_package = path.name == "__init__.py"
    for node in ast.walk(_parse(path)):
        for target in dict.fromkeys(_targets(node, source, is_package, modules)):
            if target.split(".")[0] in LAYERS:
                yield Import(rel, getattr(node, "lineno", 0), source, target)


def imports(root: Path = ROOT) -> list[Import]:
    """Every import of a seatflow module anywhere in the five packages, sorted."""
    files = module_files(root)
    found: set[Import] = set()
    for source, path in files.items():
        found.update(_file_imports(root, source, path, files.keys()))
    return sorted(found)


# -- the layer rule --------------------------------------------------------------------------


def _rule(pkg: str) -> str:
    below = ALLOWED[pkg]
    if not below:
        return f"{pkg} may import nothing of seatflow"
    return f"{pkg} may import only {', '.join(below)}"


def violations(root: Path = ROOT) -> list[str]:
    """Every import that points up or sideways, as `file:line imports module (rule)`."""
    found = []
    for imp in imports(root):
        pkg, target_pkg = imp.source.split(".")[0], imp.target.split(".")[0]
        if target_pkg != pkg and target_pkg not in ALLOWED[pkg]:
            found.append(f"{imp.path}:{imp.line} imports {imp.target} ({_rule(pkg)})")
    return found


# -- cycles inside a package -----------------------------------------------------------------


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of its own top-level package it imports (explicitly)."""
    graph: dict[str, set[str]] = {name: set() for name in module_files(root)}
    for imp in imports(root):
        if imp.source.split(".")[0] == imp.target.split(".")[0]:
            graph[imp.source].add(imp.target)
            graph.setdefault(imp.target, set())
    return graph


class _Tarjan:
    """Tarjan's strongly connected components (recursive: a package is a few hundred deep)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.components: list[list[str]] = []

    def run(self) -> list[list[str]]:
        for node in sorted(self.graph):
            if node not in self.index:
                self._visit(node)
        return self.components

    def _visit(self, node: str) -> None:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node)
        for nxt in sorted(self.graph.get(node, ())):
            if nxt not in self.index:
                self._visit(nxt)
                self.low[node] = min(self.low[node], self.low[nxt])
            elif nxt in self.on_stack:
                self.low[node] = min(self.low[node], self.index[nxt])
        if self.low[node] == self.index[node]:
            self._pop_component(node)

    def _pop_component(self, root: str) -> None:
        component = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.append(member)
            if member == root:
                break
        self.components.append(sorted(component))


def strongly_connected(graph: Graph) -> list[list[str]]:
    """The components that hold a cycle: two or more modules, or one importing itself."""
    return [
        comp for comp in _Tarjan(graph).run() if len(comp) > 1 or comp[0] in graph.get(comp[0], ())
    ]


def _cycles_from(start: str, graph: Graph, members: Set[str], limit: int) -> list[list[str]]:
    """The elementary cycles through `start` whose other modules sort after it."""
    found: list[list[str]] = []
    todo: deque[list[str]] = deque([[start]])
    while todo and len(found) < limit:
        path = todo.popleft()
        for nxt in sorted(graph.get(path[-1], set()) & members):
            if nxt == start:
                found.append([*path, start])
            elif nxt > start and nxt not in path:
                todo.append([*path, nxt])
    return found[:limit]


def cycles(root: Path = ROOT) -> list[str]:
    """Each import cycle inside a package, as `a -> b -> ... -> a`, from its first module."""
    graph = import_graph(root)
    chains: list[str] = []
    for comp in strongly_connected(graph):
        members, listed = set(comp), 0
        for start in comp:
            found = _cycles_from(start, graph, members, MAX_CYCLES_PER_TANGLE - listed)
            chains.extend(" -> ".join(chain) for chain in found)
            listed += len(found)
    return chains


# -- A and B: today's tree -------------------------------------------------------------------


def test_every_import_points_down() -> None:
    found = violations()
    if found:
        pytest.fail(f"{len(found)} import(s) point up or sideways:\n" + "\n".join(found), False)


def test_no_import_cycle_inside_a_package() -> None:
    found = cycles()
    if found:
        pytest.fail(f"{len(found)} import cycle(s) inside a package:\n" + "\n".join(found), False)


# -- C: the scanner catches what it should, on trees made here -------------------------------

SKELETON = {
    "presence/__init__.py": "",
    "presence/agent.py": "",
    "router/__init__.py": "from presence.agent import *\n",
    "engine/__init__.py": "",
    "engine/errors.py": "",
    "engine/events.py": "",
    "engine/timeutil.py": "",
    "engine/payroll/__init__.py": "",
    "api/__init__.py": "",
    "api/app.py": "from engine.errors import *\nfrom router import *\n",
    "bench/__init__.py": "",
    "bench/sim/__init__.py": "",
    "bench/sim/cli.py": "import api.app\nfrom engine import events\n",
}
TYPE_CHECKING_HEAD = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"


def make_tree(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in {**SKELETON, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_scanner_accepts_a_clean_tree(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {})
    assert violations(root) == []
    assert cycles(root) == []
    assert import_graph(root)["bench.sim.cli"] == set()  # api and engine are other packages


BACK_EDGES = [
    pytest.param(
        "presence/guard.py",
        "import os\n\n\ndef f():\n    from engine.errors import Conflict\n",
        ["presence/guard.py:5 imports engine.errors (presence may import nothing of seatflow)"],
        id="presence->engine.errors-in-function",
    ),
    pytest.param(
        "presence/guard.py",
        TYPE_CHECKING_HEAD + "    from engine import events\n",
        ["presence/guard.py:4 imports engine.events (presence may import nothing of seatflow)"],
        id="presence->engine.events-type-checking",
    ),
    pytest.param(
        "presence/roster.py",
        "try:\n    import engine.timeutil as tu\nexcept ImportError:\n    tu = None\n",
        ["presence/roster.py:2 imports engine.timeutil (presence may import nothing of seatflow)"],
        id="presence->engine.timeutil-in-try",
    ),
    pytest.param(
        "presence/roster.py",
        TYPE_CHECKING_HEAD + "    from api import app\n",
        ["presence/roster.py:4 imports api.app (presence may import nothing of seatflow)"],
        id="presence->api.app-type-checking",
    ),
    pytest.param(
        "engine/cli.py",
        "def serve():\n    from api import create_app\n\n\n"
        "def simulate():\n    from bench.sim.cli import add_commands\n",
        [
            "engine/cli.py:2 imports api (engine may import only router, presence)",
            "engine/cli.py:6 imports bench.sim.cli (engine may import only router, presence)",
        ],
        id="engine->api-and-bench.sim.cli-in-functions",
    ),
    pytest.param(
        "router/policy.py",
        "from engine import state_of, timeutil\n",
        [
            "router/policy.py:1 imports engine (router may import only presence)",
            "router/policy.py:1 imports engine.timeutil (router may import only presence)",
        ],
        id="router->engine-name-and-submodule",
    ),
    pytest.param(
        "api/routes/ops.py",
        "class Route:\n    def run(self):\n        import bench.sim\n",
        ["api/routes/ops.py:3 imports bench.sim (api may import only engine, router, presence)"],
        id="api->bench.sim-in-method",
    ),
]


@pytest.mark.parametrize(("rel", "text", "expected"), BACK_EDGES)
def test_scanner_reports_back_edges(
    tmp_path: Path, rel: str, text: str, expected: list[str]
) -> None:
    root = make_tree(tmp_path, {rel: text})
    assert violations(root) == expected


CYCLES = [
    pytest.param(
        {
            "engine/a.py": "from engine.b import x\n",
            "engine/b.py": "def f():\n    import engine.a\n",
        },
        ["engine.a -> engine.b -> engine.a"],
        id="engine.a<->engine.b",
    ),
    pytest.param(
        {
            "engine/state.py": "from engine.payroll.tallies import Tallies\n",
            "engine/payroll/tallies.py": "from engine.payroll import calendar\n",
            "engine/payroll/calendar.py": "from engine.reports import day_start\n",
            "engine/reports.py": TYPE_CHECKING_HEAD + "    from engine.state import State\n",
        },
        [
            "engine.payroll.calendar -> engine.reports -> engine.state -> engine.payroll.tallies"
            " -> engine.payroll.calendar"
        ],
        id="state->tallies->calendar->reports->state-type-checking",
    ),
    pytest.param(
        {
            "engine/state.py": "from .payroll import tallies\n",
            "engine/payroll/tallies.py": "from .calendar import LocalDays\n",
            "engine/payroll/calendar.py": "from ..reports import day_start\n",
            "engine/reports.py": TYPE_CHECKING_HEAD + "    from . import state\n",
        },
        [
            "engine.payroll.calendar -> engine.reports -> engine.state -> engine.payroll.tallies"
            " -> engine.payroll.calendar"
        ],
        id="the-same-cycle-relative",
    ),
    pytest.param(
        {
            "engine/payroll/__init__.py": "from . import kernel\n",
            "engine/payroll/kernel.py": "from engine.payroll import VERSION\n",
        },
        ["engine.payroll -> engine.payroll.kernel -> engine.payroll"],
        id="package-init<->its-submodule",
    ),
    pytest.param(
        {"router/queue.py": "from router import queue\n"},
        ["router.queue -> router.queue"],
        id="module-imports-itself",
    ),
    pytest.param(
        {
            "engine/a.py": "import engine.b\nimport engine.c\n",
            "engine/b.py": "import engine.a\n",
            "engine/c.py": "import engine.a\n",
            "engine/errors.py": "from api import app\n",  # api.app imports engine.errors
            "bench/sim/run.py": "from bench.sim import DEFAULTS\n",
            "bench/sim/__init__.py": "from bench.sim.run import go\n",
        },
        [
            "engine.a -> engine.b -> engine.a",
            "engine.a -> engine.c -> engine.a",
            "bench.sim -> bench.sim.run -> bench.sim",
        ],
        id="two-cycles-in-one-tangle-and-none-across-packages",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CYCLES)
def test_scanner_reports_cycles(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    root = make_tree(tmp_path, files)
    assert sorted(cycles(root)) == sorted(expected)


def test_implied_parent_package_is_not_an_edge(tmp_path: Path) -> None:
    # `import engine.payroll.tallies` also runs engine/__init__ and engine/payroll/__init__;
    # only the named module counts, or every package importing its submodules looks cyclic.
    root = make_tree(
        tmp_path,
        {
            "engine/__init__.py": "from engine import errors\n",
            "engine/errors.py": "import engine.payroll.tallies\n",
            "engine/payroll/tallies.py": "",
        },
    )
    graph = import_graph(root)
    assert graph["engine"] == {"engine.errors"}
    assert graph["engine.errors"] == {"engine.payroll.tallies"}
    assert cycles(root) == []


def test_from_a_package_import_a_submodule_or_a_name(tmp_path: Path) -> None:
    # `from engine.redis_backend import keys` is the module engine/redis_backend/keys.py;
    # `... import Node` (a name) and `from engine import backend` (no such file) are the package.
    root = make_tree(
        tmp_path,
        {
            "engine/redis_backend/__init__.py": "",
            "engine/redis_backend/keys/__init__.py": "",
            "presence/guard.py": "from engine.redis_backend import Node, keys\n"
            "from engine import backend\n",
        },
    )
    rule = "(presence may import nothing of seatflow)"
    assert violations(root) == [
        f"presence/guard.py:1 imports engine.redis_backend {rule}",
        f"presence/guard.py:1 imports engine.redis_backend.keys {rule}",
        f"presence/guard.py:2 imports engine {rule}",
    ]
