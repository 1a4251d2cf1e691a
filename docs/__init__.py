"""The documentation pages; ``docs.examples`` holds the programs that write their example blocks."""
