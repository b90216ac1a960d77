"""The BBQ-style suite: fm-audit's labelled templates, with the BBQ bias scores per category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.bias import bbq
from audit.bias.suite import BiasSuite
from audit.integrity import sha256_file
from audit.suites.base import Sample, SuiteContext

TEMPLATES = "bbq_templates.yaml"


class BBQStyleSuite(BiasSuite):
    """Accuracy by condition, s_DIS, s_AMB and the consistent-inconsistent accuracy gap."""

    derived = {**bbq.ACCURACY, **bbq.BIAS}

    def template_path(self) -> Path:
        """The template file, shared by the bias suites' folder (`suites/bias/`)."""
        return self.spec.directory.parent / TEMPLATES  # type: ignore[union-attr]

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        items = [item for template in bbq.load_templates(self.template_path())
                 for item in bbq.expand(template)]
        return [bbq.to_sample(item, "bbq_style")
                for item in self.choose(items, context)]

    def score(self, samples: list[Sample]) -> None:
        for sample in samples:
            bbq.score(sample)

    def data_sources(self) -> list[dict[str, Any]]:
        return [dict(entry, sha256=sha256_file(self.template_path()))
                for entry in super().data_sources()]
