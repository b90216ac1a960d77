"""The bias family: the measurement shared by the suites under `suites/bias/`.

Each benchmark module parses its data file into typed items, turns an item into a `Sample`
with lm-eval-style requests, scores a sample from its stored responses, and computes the
benchmark's metrics with 95% intervals. The suite classes (`*_suite.py`) wire these together
and the files under `suites/bias/` only point at them, so the same logic serves a run, a
rescoring and the tests.
"""
