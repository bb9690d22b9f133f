"""No import circles between Comptoir's modules.

A circle (A imports B, which imports A, at once or through others) means two
modules cannot be understood, tested or moved apart, and it is usually hidden
by an import inside a function. The graph here is read from the source with
``ast``: every ``import`` and ``from … import`` of a ``comptoir`` module, at
module level and inside functions alike. Imports under ``if TYPE_CHECKING:``
are left out: they never run, they only name a type for annotations.
"""

import ast
from collections import deque
from pathlib import Path

import comptoir

PACKAGE_DIR = Path(comptoir.__file__).resolve().parent

# Groups of modules that may import each other for now, each with the reason and
# who removes the circle. None today: keep it so.
ALLOWED_GROUPS: set[frozenset[str]] = set()


def module_files() -> dict[str, Path]:
    """Dotted module name → file, for every module of the ``comptoir`` package."""
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ["comptoir", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST):
    """Every import statement under ``node``, at any depth, except type-checking ones."""
    for child in ast.iter_child_nodes(node):
        if _is_type_checking_block(child):
            yield from (n for orelse in child.orelse for n in _import_nodes_of(orelse))
            continue
        yield from _import_nodes_of(child)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _import_nodes(node)


def imported_names(module: str, path: Path, is_package: bool) -> set[str]:
    """Dotted names ``module`` imports: ``from a import b`` gives ``a.b`` (module or not)."""
    names = set()
    for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        if node.level:  # relative: from the module's own package upwards
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1])
            prefix = f"{base}.{node.module}" if node.module else base
        else:
            prefix = node.module
        names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module → the Comptoir modules it imports."""
    files = module_files()
    graph = {}
    for module, path in files.items():
        targets = set()
        for name in imported_names(module, path, path.name == "__init__.py"):
            # ``a.b.c`` is module a.b.c, or the name c of module a.b, …
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def circular_groups(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more modules that import each other, at once or through others.

    The strongly connected components of the graph (Tarjan's algorithm, iterative).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def circles_of(graph: dict[str, set[str]], group: list[str]) -> list[list[str]]:
    """Circles that together pass through every module of the group, to show how it closes."""
    circles: list[list[str]] = []
    for module in group:
        if not any(module in circle for circle in circles):
            circles.append(circle_through(graph, group, module))
    return circles


def circle_through(graph: dict[str, set[str]], group: list[str], start: str) -> list[str]:
    """A shortest circle from ``start`` back to it within the group: A → … → A."""
    members = set(group)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(graph[node] & members):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if successor not in previous:
                previous[successor] = node
                queue.append(successor)
    raise AssertionError(f"no circle in the group {group}")


def test_no_module_import_circles():
    graph = import_graph()
    unexpected = [
        group for group in circular_groups(graph) if frozenset(group) not in ALLOWED_GROUPS
    ]
    assert unexpected == [], "import circles:\n" + "\n".join(
        " → ".join(circle) for group in unexpected for circle in circles_of(graph, group)
    )


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking_ones():
    graph = import_graph()
    # AssistantSettings.clean imports validate_settings inside the method.
    assert "comptoir.assistant.endpoints" in graph["comptoir.assistant.models"]
    # routing names the assistant's Intent for type annotations only.
    assert "comptoir.assistant.models" not in graph["comptoir.routing.assignment"]


def test_a_circle_is_found_and_printed_as_a_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": set()}
    assert circular_groups(graph) == [["a", "b", "c"]]
    assert circles_of(graph, ["a", "b", "c"]) == [["a", "b", "c", "a"]]


def test_every_allowed_group_still_imports_itself_in_a_circle():
    """A group that changed or is gone must be updated here, so that no circle comes back unseen."""
    groups = {frozenset(group) for group in circular_groups(import_graph())}
    assert groups >= ALLOWED_GROUPS
