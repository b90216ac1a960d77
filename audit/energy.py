"""Energy of each suite, tracked by CodeCarbon, with an honest measured-vs-estimated label.

CodeCarbon does not say how it obtained a figure, so the method is determined here: CPU energy
is *measured* only when Intel RAPL counters are readable, GPU energy only when NVML exposes an
energy counter; RAM energy is always a model (a fixed power per GB). Published comparisons of
CodeCarbon with wall-socket meters found errors of up to about 40%: the note below travels with
every figure.
"""

from __future__ import annotations

import glob
import logging
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ACCURACY_NOTE = (
    "Energy is tracked with CodeCarbon. Components marked 'estimated' come from a power model "
    "(CPU: thermal design power scaled by load; RAM: a fixed power per GB), not from a meter. "
    "Independent checks of CodeCarbon against wall-socket meters found errors of up to about "
    "40%, so read these figures as orders of magnitude, and compare runs only on the same "
    "machine with the same method."
)


def check_country(code: str) -> str:
    """`code` upper-cased when CodeCarbon has a grid carbon intensity for it; otherwise a
    ValueError naming the fix (CodeCarbon would silently fall back to a world average)."""
    from codecarbon.input import DataSource

    known = DataSource().get_global_energy_mix_data()
    if code.upper() not in known:
        raise ValueError(f"unknown country {code!r}: CodeCarbon has no carbon intensity for "
                         "it; use an ISO 3166 alpha-3 code such as USA, FRA or IND")
    return code.upper()


def rapl_readable() -> bool:
    """True when Intel RAPL energy counters can be read (CodeCarbon then measures the CPU)."""
    for path in glob.glob("/sys/class/powercap/intel-rapl*/energy_uj"):
        if os.access(path, os.R_OK):
            return True
    return False


def nvml_energy_available() -> bool:
    """True when NVML reports a GPU energy counter (CodeCarbon then measures the GPU)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            if pynvml.nvmlDeviceGetCount() == 0:
                return False
            handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            return True
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001  (no driver, no GPU, or no counter: all mean "not measured")
        return False


def measurement_methods() -> dict[str, str]:
    """Per component: 'measured', 'estimated' or 'absent'."""
    gpu = "measured" if nvml_energy_available() else "absent"
    return {"cpu": "measured" if rapl_readable() else "estimated", "gpu": gpu, "ram": "estimated"}


@dataclass
class EnergyMeter:
    """The result of tracking one block of work."""

    country_iso_code: str
    data: Any = None
    started: float = field(default_factory=time.perf_counter)
    duration_s: float = 0.0
    methods: dict[str, str] = field(default_factory=dict)

    def record(self, n_requests: int, n_tokens: int | None, n_correct: float | None
               ) -> dict[str, Any]:
        """The energy.json entry, normalised per 1,000 requests, 1,000 tokens and per correct."""
        d = self.data
        energy_kwh = float(d.energy_consumed) if d is not None else 0.0
        emissions = float(d.emissions) if d is not None else 0.0
        wh = energy_kwh * 1000.0

        def per(count: float | None, scale: float = 1.0) -> float | None:
            return wh / count * scale if count else None

        return {
            "energy_kwh": energy_kwh,
            "cpu_kwh": float(getattr(d, "cpu_energy", 0.0) or 0.0),
            "gpu_kwh": float(getattr(d, "gpu_energy", 0.0) or 0.0),
            "ram_kwh": float(getattr(d, "ram_energy", 0.0) or 0.0),
            "emissions_kg_co2e": emissions,
            "carbon_intensity_g_per_kwh": emissions * 1000.0 / energy_kwh if energy_kwh else None,
            "duration_s": self.duration_s,
            "method": self.methods,
            "hardware": {
                "cpu_model": getattr(d, "cpu_model", None) or platform.processor(),
                "cpu_count": getattr(d, "cpu_count", None) or os.cpu_count(),
                "gpu_model": getattr(d, "gpu_model", None) or None,
                "gpu_count": getattr(d, "gpu_count", 0) or 0,
                "ram_total_gb": getattr(d, "ram_total_size", None),
                "cpu_power_w": getattr(d, "cpu_power", None),
                "ram_power_w": getattr(d, "ram_power", None),
            },
            "country_iso_code": self.country_iso_code,
            "n_requests": n_requests,
            "n_tokens": n_tokens,
            "n_correct": n_correct,
            "wh_per_1000_requests": per(n_requests, 1000.0),
            "wh_per_1000_tokens": per(n_tokens, 1000.0),
            "wh_per_correct_answer": per(n_correct),
        }


@contextmanager
def track_energy(label: str, country_iso_code: str) -> Iterator[EnergyMeter]:
    """Track the energy of the enclosed block with CodeCarbon's offline tracker."""
    from codecarbon import OfflineEmissionsTracker

    meter = EnergyMeter(country_iso_code=country_iso_code, methods=measurement_methods())
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    tracker = OfflineEmissionsTracker(country_iso_code=country_iso_code, project_name=label,
                                      output_methods=[], log_level="error",
                                      measure_power_secs=5)
    tracker.start()
    try:
        yield meter
    finally:
        tracker.stop()
        meter.duration_s = time.perf_counter() - meter.started
        meter.data = tracker.final_emissions_data
