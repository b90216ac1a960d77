"""The energy block's sentences and component rows as plain text, shared by the HTML and the
Markdown report (each escapes them its own way)."""

from __future__ import annotations

from audit.report.model import EnergyComponent, EnergySection
from audit.report.summary import quantity

COMPONENT_HEADERS = ["Component", "Wh", "Share", "How obtained", "Range (Wh)", "Range from"]


def totals_sentences(energy: EnergySection) -> list[str]:
    """IT energy, its range, the PUE with its source and the facility energy it implies."""
    span = energy.range_wh
    spread = (f" (range {quantity(span[0])} to {quantity(span[1])} Wh if every estimated "
              "component's model is off in the same direction; not a confidence interval)"
              if span else " (no range: an estimated component's model inputs were not "
              "recorded)")
    return [f"IT energy (what CodeCarbon attributes to the computer): "
            f"{quantity(energy.total_wh)} Wh, {quantity(energy.total_gco2e)} g CO2e{spread}.",
            f"PUE {energy.pue:g}: {energy.pue_note}.",
            f"Facility energy (IT energy x PUE): {quantity(energy.facility_wh)} Wh, "
            f"{quantity(energy.total_gco2e * energy.pue)} g CO2e."]


def component_cells(component: EnergyComponent) -> list[str]:
    """One row of the per-component table, in COMPONENT_HEADERS order."""
    share = f"{100 * component.share:.0f}%" if component.share is not None else "n/a"
    span = (f"{quantity(component.low_wh)} to {quantity(component.high_wh)}"
            if component.low_wh is not None and component.high_wh is not None else "unknown")
    return [component.component, quantity(component.wh), share, component.method, span,
            component.basis]
