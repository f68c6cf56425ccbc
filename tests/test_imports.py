"""The import graph of `kcolor/` has no cycle, counting the imports inside functions too.

A cycle works until someone moves an import to the top of a file or calls a function earlier, then fails with a
half-initialised module; lazy imports only hide it. The graph is read from the source with `ast`, without
importing anything, so the test is fast and sees every branch.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kcolor"


def module_name(path, package):
    """`kcolor/data/images.py` -> `kcolor.data.images`; `kcolor/data/__init__.py` -> `kcolor.data`."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package):
    """`{module name: path}` of every Python file under `package`."""
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


def imported_modules(name, path, known):
    """The `kcolor` modules that `path` imports anywhere in the file (top level, functions, branches).

    `from kcolor.x import y` counts as importing `kcolor.x.y` when that is a module, else `kcolor.x`.
    `importlib.import_module("kcolor.x")` with a literal name counts too.
    """
    is_package = path.name == "__init__.py"
    found = set()

    def add(target):
        if target in known and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    add(f"{base}.{alias.name}")
                else:
                    add(base)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            add(node.args[0].value)
    return found


def import_graph(package=PACKAGE):
    """`{module: the kcolor modules it imports}` for every module of `package`."""
    known = modules(package)
    return {name: imported_modules(name, path, known) for name, path in known.items()}


def find_cycles(graph):
    """One cycle (a list of modules, the first repeated at the end) per strongly connected component."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(node):  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)

    cycles = []
    for component in components:
        start = min(component)
        path, seen = [start], {start}
        while True:  # walk inside the component until the walk closes
            step = sorted(target for target in graph[path[-1]] if target in component)
            closing = [target for target in step if target == start]
            if closing:
                cycles.append([*path, start])
                break
            unseen = [target for target in step if target not in seen]
            following = unseen[0] if unseen else step[0]
            if following in seen:  # closes on an earlier module: report that loop
                cycles.append([*path[path.index(following):], following])
                break
            path.append(following)
            seen.add(following)
    return cycles


def test_the_graph_sees_top_level_lazy_and_relative_imports(tmp_path):
    (tmp_path / "kcolor" / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from kcolor import b\n",
        "b.py": "def f():\n    from kcolor.sub.c import thing\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import name\nimport importlib\nimportlib.import_module('kcolor.b')\n",
    }
    for relative, text in files.items():
        (tmp_path / "kcolor" / relative).write_text(text)
    graph = import_graph(tmp_path / "kcolor")
    assert graph["kcolor.a"] == {"kcolor.b"}
    assert graph["kcolor.b"] == {"kcolor.sub.c"}
    assert graph["kcolor.sub.c"] == {"kcolor.a", "kcolor.b"}
    assert find_cycles(graph) == [["kcolor.a", "kcolor.b", "kcolor.sub.c", "kcolor.a"]]


def test_kcolor_has_no_import_cycle():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles in kcolor/:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)
