"""Write the output of ``fastseg reproduce accuracy`` into docs/papers.md: ``python -m benchmarks.accuracy_table``."""

import sys

from fastseg.segment.reproduce import render_accuracy_report

from .compare import update_docs


def main(argv=None):
    update_docs(render_accuracy_report(), name="accuracy-table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
