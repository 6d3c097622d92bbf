"""Benchmarks beside the evaluator, never imported by it (nor by the site or the workers).

    python -m evaluator.bench               our scoring rate vs bare forward and the reference
    python -m evaluator.bench.robustness    what the robustness track costs, clean vs robust
    python -m evaluator.bench.imports       the test-set import vs decode-only and the PIL reference

- ``scoring``: the first one's command line; ``data`` and ``rates`` its data sets and timings.
- ``profile``: one scoring run under torch.profiler (``--profile``).
- ``robustness``: the second one.
- ``imports``: the third one.
"""
