"""Throughput, memory and wall-time benchmarks of fm-audit's engine against lm-eval's HFLM."""
