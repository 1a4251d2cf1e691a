"""Write the output of ``fastseg reproduce accuracy`` into docs/papers.md: ``python -m docs.examples.accuracy_table``."""

import sys

from benchmarks._common import update_docs
from fastseg.segment.reproduce import render_accuracy_report


def main(argv=None):
    update_docs(render_accuracy_report(), name="accuracy-table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
