"""One runner for the benchmark suites and the docs' example generators.

    python -m benchmarks                                   # list them
    python -m benchmarks run compare --isa avx2 --update-docs
    python -m benchmarks run own_data --update-docs        # an example generator
    python -m benchmarks run all --update-docs             # every one, in turn (long)

A suite is a module of this package with a ``main(argv)``; an example is one of
``docs/examples`` (the package ``docs.examples``: programs that write the docs' example blocks,
beside the pages they write), listed under "examples". ``run NAME ARGS`` calls its ``main``
with ARGS, ``run all ARGS`` calls each suite's and example's with ARGS, skipping the flags one
does not take.
"""

import argparse
import ast
import importlib
import sys
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
# (heading, package, folder): where the runnable modules are.
GROUPS = [
    ("benchmarks", "benchmarks", HERE),
    ("examples", "docs.examples", HERE.parent / "docs" / "examples"),
]


class Runnable(NamedTuple):
    heading: str  # the GROUPS heading it is listed under
    module: str  # its import name
    tree: ast.Module  # its parsed source

    @property
    def summary(self):
        """The first paragraph of its docstring, on one line."""
        doc = ast.get_docstring(self.tree) or ""
        return " ".join(doc.split("\n\n")[0].split())

    @property
    def flags(self):
        """The option strings its parser takes (read from its source: add_argument calls)."""
        return {
            a.value
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add_argument"
            for a in n.args
            if isinstance(a, ast.Constant) and str(a.value).startswith("-")
        }


def runnables():
    """{name: Runnable} of the modules that define ``main``, in GROUPS order (each parsed once)."""
    found, paths = {}, {}
    for heading, package, folder in GROUPS:
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith(("_", "test_")):
                continue
            tree = ast.parse(path.read_text())
            if any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
                if path.stem in found:
                    raise SystemExit(f"two modules named {path.stem}: {paths[path.stem]} and {path}")
                found[path.stem], paths[path.stem] = Runnable(heading, f"{package}.{path.stem}", tree), path
    return found


def _taken(argv, flags):
    """``argv`` without the options a suite does not take (an option's value goes with it)."""
    out, skip = [], False
    for i, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word.startswith("-") and word.split("=")[0] not in flags:
            skip = "=" not in word and i + 1 < len(argv) and not argv[i + 1].startswith("-")
            continue
        out.append(word)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    known = runnables()
    if not argv or argv[0] in ("-h", "--help", "list"):
        width = max(map(len, known))
        print("python -m benchmarks run NAME [ARGS]   (or: run all [ARGS])")
        for heading, _, _ in GROUPS:
            print(f"\n{heading}:")
            for name, runnable in known.items():
                if runnable.heading == heading:
                    print(f"  {name:<{width}}  {runnable.summary}")
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("suite", choices=[*known, "all"])
    args, rest = parser.parse_known_args(argv)
    names = list(known) if args.suite == "all" else [args.suite]
    status = 0
    for name in names:
        suite_argv = _taken(rest, known[name].flags) if args.suite == "all" else rest
        print(f"== {name} {' '.join(suite_argv)}", file=sys.stderr, flush=True)
        status = importlib.import_module(known[name].module).main(suite_argv) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
