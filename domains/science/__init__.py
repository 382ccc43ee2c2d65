r"""The science domain: chemistry checked by RDKit, biology checked by Biopython.

Families:

* chemistry (:mod:`.chemistry`, molecules from RDKit's bundled sets, scaffold-split by :mod:`.molecules`):
  ``molecular_formula`` (Hill order), ``molecular_weight`` (average or monoisotopic, with a tolerance),
  ``hbond_donors_acceptors`` (RDKit Lipinski NumHDonors / NumHAcceptors), ``ring_count``,
  ``aromatic_rings``, ``functional_group`` (yes/no, groups defined in the question) and
  ``reaction_product`` (amide coupling, esterification; answer as SMILES);
* biology (:mod:`.biology`, generated DNA, split by sequence hash and length): ``reverse_complement``,
  ``translation`` (standard code, to the first stop), ``gc_content`` (percent), ``transcription``,
  ``orf_motif`` (first ATG position, or overlapping motif count).

Train and test never share a molecule scaffold or a sequence; ood has unseen scaffolds from another data
file, longer sequences and unseen question templates. Every solution is a short trace ending in
``\boxed{...}``; :mod:`.verify` compares formulas by element counts, molecules by canonical SMILES,
numbers with a tolerance, sequences ignoring case. GPQA loads as lettered multiple choice (:mod:`.benchmarks`).

>>> from srmzoo.domain import get_domain
>>> science = get_domain("science")
>>> ex = science.examples("test", 1, families=["reaction_product"])[0]
>>> science.check(ex.solution, ex).correct
True

Usage::

    science.dataset("train", 5000)                   # a datasets.Dataset for SFT/GRPO
    load_gpqa("gpqa_diamond")                        # online (gated); or data_files="gpqa.jsonl"
    get_reward("science_correct"), get_reward("science_format")
"""

# Registered through the installed names (srmzoo.domains.science.*), so importing this package under a
# second name registers the very same objects again (a no-op) rather than copies the registry rejects.
from srmzoo.domain import register_domain, register_reward
from srmzoo.domains.science.benchmarks import GPQA_CONFIGS, load_gpqa
from srmzoo.domains.science.domain import SYSTEM_PROMPT, ScienceDomain
from srmzoo.domains.science.rewards import science_correct, science_format
from srmzoo.domains.science.verify import SMILES_VERIFIER
from srmzoo.verifiers import register_verifier

__all__ = ["GPQA_CONFIGS", "SYSTEM_PROMPT", "ScienceDomain", "load_gpqa", "science_correct", "science_format"]

register_domain(ScienceDomain)
register_reward("science_correct")(science_correct)
register_reward("science_format")(science_format)
register_verifier(SMILES_VERIFIER)  # for recipes on the user's own data (data.dataset.verifier)
