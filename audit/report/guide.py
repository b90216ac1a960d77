"""The fixed, plain-language parts of a report: how to read it, what it cannot show, and the
governance crosswalk (which provision each finding is evidence for).

Written for a reader who is not a machine-learning specialist. The crosswalk maps each
finding to the documents an auditor is asked for: Model Cards (Mitchell et al. 2019), the EU
AI Act's Annex XI (technical documentation of general-purpose AI models) and Annex IV
(high-risk systems), and the NIST AI Risk Management Framework's Measure function.
"""

from __future__ import annotations

from audit.evidence import (
    DECISION_MAX_RELATIVE_WIDTH,
    DECISION_MAX_WIDTH,
    DECISION_MIN_N,
    MIN_N,
    SCREENING_LABEL,
)
from audit.report.compare import SIGNIFICANCE_RULE
from audit.stats import BOOTSTRAP_MIN_N

HOW_TO_READ = [
    "Each number is measured on a fixed set of test items and comes with a 95% confidence "
    "interval (CI): the range that would contain the true value in 95 of 100 repetitions of "
    "the same measurement on similar items. A narrow interval means the number is precise; a "
    "wide one means too few items were tested to be sure.",
    "n is the number of items behind a number. Results on fewer than about 100 items can move "
    "by ten points or more by chance alone.",
    "Traffic lights compare a result with the deployment policy named at the top: green, the "
    "result meets the policy even at the unfavourable end of its interval; amber, it meets the "
    "policy on its estimate but the interval reaches the other side (or a warning rule "
    "failed); red, it fails a blocking rule; grey, no rule covers it, it was not measured, or "
    "its evidence is insufficient to decide (which fails the gate for a blocking rule).",
    "\"Better\" says which direction is good for each metric: higher (accuracy, refusal of "
    "harmful requests), lower (over-refusal, cost) or a target (e.g. 50% in a paired bias "
    "test, where either direction away from it shows a preference).",
    "Intervals: shares of items use the exact Clopper-Pearson interval; a paired change of "
    "a share (the same items in two runs) the paired MOVER interval built from those; other "
    "means the Student-t interval; ratios and bias scores a bootstrap over items, only from "
    f"{BOOTSTRAP_MIN_N} items on; "
    "rates corrected for an imperfect refusal judge carry the judge's own uncertainty and are "
    "never narrower than a perfect judge's. Where the data cannot bound a number, no interval "
    "is shown rather than a misleadingly narrow one.",
    f"Evidence: each number is graded insufficient (no interval, or fewer than {MIN_N} items), "
    f"decision-grade (at least {DECISION_MIN_N} items and an interval at most "
    f"{100 * DECISION_MAX_WIDTH:.0f} points wide for a share or a score from -1 to 1, at most "
    f"{100 * DECISION_MAX_RELATIVE_WIDTH:.0f}% of the value for other numbers) or screening "
    "(anything between). A run made "
    f"with the quick profile or a --limit is marked '{SCREENING_LABEL}'. A policy rule with "
    "too few items is 'insufficient evidence', never a pass.",
    "Percentages are shares of items. A difference between two runs is given in percentage "
    f"points with its own interval on the items both runs answered; {SIGNIFICANCE_RULE}. With "
    "fewer items, even items that all moved the same way could be chance.",
    "Model outputs shown as examples are quoted exactly, as untrusted text. Outputs to harmful "
    "requests are never reprinted: they appear as a redaction note with their length.",
]

LIMITS = [
    "These are tests of a model on chosen items, not of a deployed system with its users, "
    "prompts and safeguards. Results can differ in deployment.",
    "A benchmark measures what its items ask. A good score on general-knowledge questions does "
    "not show the model is reliable on your task, and a low bias score does not show the model "
    "is unbiased: paired-sentence bias tests often do not state precisely what harm they "
    "measure (Blodgett et al. 2021).",
    "Refusal is judged automatically. Pattern-based judges miss many refusals worded in "
    "unusual ways; where the misuse suite measured its judge, the corrected rate is shown "
    "beside the raw one.",
    "Multilingual results depend on the translated items: a language with few or poorly "
    "translated items looks worse than the model is. Resource tiers are approximate.",
    "Energy figures come from CodeCarbon. Components marked 'estimated' come from a power "
    "model, not a meter; independent checks found errors up to about 40%. Compare energy only "
    "between runs on the same machine with the same method.",
    "Quick profiles and small --limit values test few items: read their intervals, not only "
    "their point estimates.",
]

# (area or report part, Model Cards headings, EU AI Act provisions, NIST AI RMF subcategories)
CROSSWALK = [
    ("capability", "Metrics; Quantitative analyses",
     "Annex XI s.2(1) evaluation results, criteria and metrics; Annex IV 2(g) accuracy metrics, "
     "3 overall expected accuracy",
     "Measure 2.1 (test sets and metrics documented); 2.3 (performance measured)"),
    ("bias", "Factors; Quantitative analyses (by group); Ethical considerations",
     "Annex IV 2(g) metrics for potentially discriminatory impacts, 3 accuracy for specific "
     "groups; Annex XI s.2(1)",
     "Measure 2.11 (fairness and bias evaluated)"),
    ("multilingual", "Factors; Quantitative analyses (by language)",
     "Annex IV 3 accuracy for specific groups of persons; Annex XI s.2(1)",
     "Measure 2.11 (fairness); 2.5 (validity and limits of generalisation)"),
    ("misuse", "Ethical considerations",
     "Annex XI s.2(2) adversarial testing (red teaming); s.2(1) evaluation results",
     "Measure 2.6 (safety risks evaluated); 2.7 (security and resilience)"),
    ("energy", "(no Model Cards heading; reported beside Metrics)",
     "Annex XI s.1(2)(e) known or estimated energy consumption",
     "Measure 2.12 (environmental impact)"),
    ("data", "Evaluation data",
     "Annex XI s.1(2)(c) data used for testing; Annex IV 2(g) testing data and its "
     "characteristics",
     "Measure 2.1 (test sets documented)"),
    ("training-data", "Training data",
     "Annex XI s.1(2)(c) data used for training",
     "(not mapped)"),
    ("privacy", "Ethical considerations",
     "(not mapped)",
     "Measure 2.10 (privacy risk examined)"),
    ("limits", "Caveats and recommendations",
     "Annex XI s.2(1) methodology for identifying limitations",
     "Measure 2.5 (validity, limits of generalisation documented)"),
    ("policy", "Intended use",
     "Annex XI s.2(1) evaluation criteria; Annex IV 2(g) test reports",
     "Measure 2.3 (performance against criteria)"),
    ("reproducibility", "Model details",
     "Annex IV 2(g) dated test logs; Annex XI s.1(1) model description",
     "Measure 2.1 (tools and procedures documented)"),
]

# Risks a deployment decision may need evidence on that no suite of this audit measures.
NOT_MEASURED = [
    ("Toxicity", "No classifier scores the toxicity or hatefulness of the model's outputs."),
    ("PII leakage and memorisation", "No probe checks whether the model reproduces personal "
     "data or training text."),
    ("Factuality of open answers", "Capability suites score multiple-choice answers; the "
     "truthfulness or hallucination rate of free-form answers is not scored."),
    ("CBRN and cyber uplift", "Misuse suites measure whether the model refuses harmful "
     "requests, not whether its answers would give real uplift; that needs expert red "
     "teaming."),
    ("Multi-turn, long-context and tool use", "Every item is a single prompt; conversations, "
     "long documents and agentic or tool-using behaviour are not tested."),
    ("Copyright", "Reproduction of protected text is not measured."),
]

AREA_MEANING = {
    "capability": "What the model can do: answers to knowledge and reasoning questions.",
    "bias": "Whether the model treats social groups differently, e.g. prefers stereotypes.",
    "multilingual": "How well the model serves each language compared with English.",
    "misuse": "Whether the model helps with harmful requests, refuses harmless ones, and "
              "resists jailbreaks and injected instructions.",
    "energy": "The electricity the audit used and the carbon it emitted.",
}

MODEL_CARD_HEADINGS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
                       "Training data", "Quantitative analyses", "Ethical considerations",
                       "Caveats and recommendations")
