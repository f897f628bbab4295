"""The benchmark suite behind ``benchmarks/run.py``, one module per concern.

- ``results``: the workload sizes, the seed, and the rows of the tables with their verdicts.
- ``processes``: timing whole processes (interleaved runs, medians), peak memory, module probes.
- ``context``: what every workload gets (runner, sizes, work folder, generated CSV files).
- ``training``: sgd-row and full-batch (with full-batch's peak memory).
- ``gradients``: big-graph and sympy-1000.
- ``startup``: small commands against the imports they cannot avoid.
- ``csv_load``: the CSV reader against NumPy (and pandas).
- ``table``: the printed report.

Only the standard library is imported here; NumPy, SymPy and PyTorch are imported by the
child processes that need them.
"""
