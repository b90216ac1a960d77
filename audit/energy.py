"""Energy of each suite, tracked by CodeCarbon, with an honest measured-vs-estimated label.

CodeCarbon does not say how it obtained a figure, so the method is determined here: CPU energy
is *measured* only when Intel RAPL counters are readable, GPU energy only when NVML exposes an
energy counter; RAM energy is always a model (a fixed power per GB). Published comparisons of
CodeCarbon with wall-socket meters found errors of up to about 40%: the note below travels with
every figure.

Each estimated component also gets a range (`component_ranges`) spanning the power models
CodeCarbon itself ships, so that a reader sees how much of a figure is an assumption; and the
facility energy is the IT energy times a declared PUE (`facility`), shown beside it.
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
    "(CPU: thermal design power scaled by load; RAM: a fixed power per memory module), not "
    "from a meter. "
    "Independent checks of CodeCarbon against wall-socket meters found errors of up to about "
    "40%, so read these figures as orders of magnitude, and compare runs only on the same "
    "machine with the same method."
)


DEFAULT_PUE = 1.0
PUE_REASON = (
    "PUE 1.0 (the default) counts the computer's own energy only: this audit cannot know the "
    "overhead (cooling, power conversion) of the building it runs in; declare it with --pue "
    "(or `pue:` in the run config) to show the facility energy")
RAM_WATTS_PER_8_GB = 3.0
"""CodeCarbon's RAM model before version 3: 3 W for every 8 GB (its ram.py docstring)."""
CPU_IDLE_SHARE = 0.1
"""The floor of CodeCarbon's CPU load models: an idle CPU draws 10% of its TDP."""


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


def _positive(value: Any) -> float | None:
    """A recorded model input as a number, or None when it is missing or not a positive
    number (energy.json is read from a run folder and may have been edited)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    return float(value)


def _ram_range(kwh: float, hardware: dict[str, Any]) -> dict[str, Any] | None:
    """RAM: CodeCarbon 3's power per estimated DIMM against its earlier 3 W per 8 GB."""
    power, total_gb = _positive(hardware.get("ram_power_w")), \
        _positive(hardware.get("ram_total_gb"))
    if power is None or total_gb is None:
        return None
    older = RAM_WATTS_PER_8_GB * total_gb / 8.0
    low, high = sorted((kwh, kwh * older / power))
    return {"low_kwh": low, "high_kwh": high,
            "basis": f"RAM power is a model, not a meter: CodeCarbon 3 assumed {power:.1f} W "
                     f"for {total_gb:.1f} GB (a fixed power per estimated memory "
                     f"module); its earlier rule of 3 W per 8 GB gives {older:.1f} W. The range "
                     "spans the two; it does not cover a model that is wrong in both."}


def _cpu_range(kwh: float, duration_s: float, hardware: dict[str, Any]
               ) -> dict[str, Any] | None:
    """CPU without a meter: every load between idle (10% of TDP) and full TDP, widened to take
    in the reported figure should CodeCarbon's own timing differ from the suite's."""
    tdp = _positive(hardware.get("cpu_tdp_w"))
    if tdp is None:
        return None
    hours = duration_s / 3600.0
    return {"low_kwh": min(kwh, CPU_IDLE_SHARE * tdp * hours / 1000.0),
            "high_kwh": max(kwh, tdp * hours / 1000.0),
            "basis": f"CPU power is a model, not a meter: CodeCarbon scales a TDP of {tdp:g} W "
                     "(from its CPU table, or 4 W per thread when the model is not in it) by "
                     "the measured load. The range is that model's whole span, from idle (10% "
                     "of TDP) to full TDP for the suite's duration; it does not cover an error "
                     "in the TDP itself."}


def component_ranges(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per component of one energy.json suite entry: low and high kWh and where the range
    comes from. Measured and absent components have no spread (low = high = the figure);
    an estimated one whose model inputs were not recorded gets `None` bounds, said out loud."""
    hardware = entry.get("hardware") or {}
    methods = entry.get("method") or {}
    ranges: dict[str, dict[str, Any]] = {}
    for component in ("cpu", "gpu", "ram"):
        kwh = float(entry.get(f"{component}_kwh") or 0.0)
        method = str(methods.get(component, "absent"))
        if method != "estimated":
            ranges[component] = {"low_kwh": kwh, "high_kwh": kwh,
                                 "basis": f"{method}: no model spread (the overall note on "
                                          "CodeCarbon's accuracy still applies)"}
            continue
        spread = (_ram_range(kwh, hardware) if component == "ram"
                  else _cpu_range(kwh, float(entry.get("duration_s") or 0.0), hardware)
                  if component == "cpu" else None)
        ranges[component] = spread or {
            "low_kwh": None, "high_kwh": None,
            "basis": "estimated, and the model's inputs were not recorded (or are not "
                     "positive numbers), so no range"}
    return ranges


def facility(it_kwh: float, pue: float) -> float:
    """Facility energy: the IT energy CodeCarbon reports times the power usage effectiveness
    (facility energy / IT energy) declared for the building."""
    return it_kwh * pue


def _cpu_model_inputs(tracker: Any) -> dict[str, Any]:
    """The TDP and power model of CodeCarbon's CPU tracker. CodeCarbon keeps them in private
    attributes only, so a version without them yields nothing (and no CPU range)."""
    for hardware in getattr(tracker, "_hardware", []):
        if type(hardware).__name__ == "CPU":
            return {"cpu_tdp_w": getattr(hardware, "_tdp", None),
                    "cpu_power_model": getattr(hardware, "_mode", None)}
    return {}


@dataclass
class EnergyMeter:
    """The result of tracking one block of work."""

    country_iso_code: str
    data: Any = None
    started: float = field(default_factory=time.perf_counter)
    duration_s: float = 0.0
    methods: dict[str, str] = field(default_factory=dict)
    cpu_inputs: dict[str, Any] = field(default_factory=dict)

    def record(self, n_requests: int, n_tokens: int | None, n_correct: float | None
               ) -> dict[str, Any]:
        """The energy.json entry, normalised per 1,000 requests, 1,000 tokens and per correct."""
        d = self.data
        energy_kwh = float(d.energy_consumed) if d is not None else 0.0
        emissions = float(d.emissions) if d is not None else 0.0
        wh = energy_kwh * 1000.0

        def per(count: float | None, scale: float = 1.0) -> float | None:
            return wh / count * scale if count else None

        entry = {
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
                **self.cpu_inputs,
            },
            "country_iso_code": self.country_iso_code,
            "n_requests": n_requests,
            "n_tokens": n_tokens,
            "n_correct": n_correct,
            "wh_per_1000_requests": per(n_requests, 1000.0),
            "wh_per_1000_tokens": per(n_tokens, 1000.0),
            "wh_per_correct_answer": per(n_correct),
        }
        entry["uncertainty"] = component_ranges(entry)
        return entry


@contextmanager
def track_energy(label: str, country_iso_code: str) -> Iterator[EnergyMeter]:
    """Track the energy of the enclosed block with CodeCarbon's offline tracker."""
    from codecarbon import OfflineEmissionsTracker

    meter = EnergyMeter(country_iso_code=country_iso_code, methods=measurement_methods())
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    tracker = OfflineEmissionsTracker(country_iso_code=country_iso_code, project_name=label,
                                      output_methods=[], log_level="error",
                                      measure_power_secs=5, pue=1.0)
    tracker.start()
    try:
        yield meter
    finally:
        tracker.stop()
        meter.duration_s = time.perf_counter() - meter.started
        meter.data = tracker.final_emissions_data
        meter.cpu_inputs = _cpu_model_inputs(tracker)
