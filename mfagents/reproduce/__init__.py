"""Reproductions of the paper's experiments: training runs, analysis, results and REPRODUCTION.md sections."""
