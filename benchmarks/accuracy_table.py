"""Write the output of ``fastseg reproduce accuracy`` into docs/papers.md: ``python -m benchmarks.accuracy_table``."""

from fastseg.segment.reproduce import render_accuracy_report

from .compare import update_docs

if __name__ == "__main__":
    update_docs(render_accuracy_report(), name="accuracy-table")
