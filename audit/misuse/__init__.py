"""The misuse family: harmful requests, jailbreaks, prompt injection, over-refusal and the
judge's agreement with people; `judged` holds what the judged suites share, `data` their data."""
