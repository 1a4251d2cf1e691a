"""The README and docs/ point at things that exist: every relative link resolves to a file, every
``python -m MODULE`` names a module of this project or an installed one, every ``fastseg ...``
command uses a subcommand and flags the command line has, and every generated block has a
generator that writes it (a benchmark in ``benchmarks/`` or an example in ``docs/examples/``)."""

import argparse
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from fastseg._arguments import build_parser

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`\n]+)`", re.S)
BLOCK = re.compile(r"<!-- ([a-z0-9-]+):start -->")


def pages():
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in PAGES]


def commands(text, program):
    """Each command line that starts with ``program`` in the page's code blocks and spans."""
    found = []
    for block, span in CODE.findall(text):
        for line in (block or span).splitlines():
            for part in re.split(r"&&|;", line.split("  #")[0]):
                part = part.strip().lstrip("$ ").strip()
                if part.startswith(program):
                    found.append(part)
    return found


def test_the_pages_show_commands_and_links():
    text = "\n".join(p.read_text() for p in PAGES)
    assert len(commands(text, "fastseg ")) >= 10 and len(commands(text, "python -m ")) >= 10
    assert len(LINK.findall(text)) >= 10


def test_docs_exist_and_the_readme_is_short():
    assert len(PAGES) >= 8
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


@pytest.mark.parametrize("page", pages())
def test_relative_links_resolve(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+://|mailto:|#", target):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name}: {target}"


@pytest.mark.parametrize("page", pages())
def test_python_m_modules_exist(page):
    for command in commands(page.read_text(), "python -m "):
        module = command.split()[2]
        assert importlib.util.find_spec(module) is not None, f"{page.name}: {command}"


def _subparsers(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("page", pages())
def test_fastseg_commands_use_real_subcommands_and_flags(page):
    subcommands = _subparsers(build_parser())
    for command in commands(page.read_text(), "fastseg "):
        words = shlex.split(command.replace("\\", ""))
        assert words[1] in subcommands, f"{page.name}: {command}"
        sub = subcommands[words[1]]
        known = {flag for action in sub._actions for flag in action.option_strings}
        if words[1] == "reproduce" and len(words) > 2 and not words[2].startswith("-"):
            sub_choices = (
                _subparsers(sub)
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                else {}
            )
            if sub_choices:
                assert words[2] in sub_choices, f"{page.name}: {command}"
                known |= {flag for action in sub_choices[words[2]]._actions for flag in action.option_strings}
        for word in words[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"{page.name}: {command}: {word}"


def test_every_generated_block_has_a_generator():
    generators = [*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "docs" / "examples").glob("*.py")]
    sources = "\n".join(p.read_text() for p in generators)
    for page in PAGES:
        for name in BLOCK.findall(page.read_text()):
            # A generator names its block literally, or in an f-string completed at run time.
            assert f'"{name}"' in sources or any(
                f'f"{name[: i + 1]}{{' in sources for i in range(len(name)) if name[i] == "-"
            ), f"{page.name}: {name}"
