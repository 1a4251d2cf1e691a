"""Generators of the docs' example blocks: each runs the command line or the library on demo data and,
with ``--update-docs``, writes what it printed into its page (``python -m docs.examples.NAME``, or
``python -m benchmarks run NAME``). They show output, they time nothing: the benchmarks are in
``benchmarks/``, whose docs-block writer (``benchmarks._common.update_docs``) they share.
"""
