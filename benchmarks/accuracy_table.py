"""Write the output of ``fastseg reproduce accuracy`` into README.md: ``python -m benchmarks.accuracy_table``."""

from fastseg.segment.reproduce import render_accuracy_report

from .compare import update_readme

if __name__ == "__main__":
    update_readme(render_accuracy_report(), name="accuracy-table")
