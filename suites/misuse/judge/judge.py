"""Wiring of the misuse/judge suite; the logic is in `audit.misuse.judge_suite`."""

from audit.misuse.judge_suite import JudgeAgreement

__all__ = ["JudgeAgreement"]
