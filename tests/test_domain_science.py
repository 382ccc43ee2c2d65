"""The science domain: verifier traps, truths, scaffold and sequence splits, rewards, dataset, GPQA loader."""

from __future__ import annotations

import json
import random
import re
import string

import pytest
from Bio.Seq import Seq
from Bio.SeqUtils import gc_fraction
from rdkit import Chem
from rdkit.Chem import Descriptors, Lipinski, rdMolDescriptors

from srmzoo.domain import Example, Verdict, get_domain, get_reward
from srmzoo.domains.science import load_gpqa, science_correct, science_format
from srmzoo.domains.science.benchmarks import gpqa_example
from srmzoo.domains.science.biology import LENGTHS, TEST_BUCKETS, sequence_split
from srmzoo.domains.science.biology import TEMPLATES as BIO_TEMPLATES
from srmzoo.domains.science.chemistry import ACCEPTOR_SMARTS, DONOR_SMARTS, hill_formula
from srmzoo.domains.science.chemistry import TEMPLATES as CHEM_TEMPLATES
from srmzoo.domains.science.molecules import molecule_pool, murcko_scaffold, scaffold_split_summary
from srmzoo.domains.science.sampling import stable_bucket
from srmzoo.domains.science.verify import ANSWER_KINDS, judge
from srmzoo.errors import SrmzooError, UnknownNameError

SIZES = {"train": 1200, "test": 300, "ood": 300}


@pytest.fixture(scope="module")
def science():
    return get_domain("science")


@pytest.fixture(scope="module")
def splits(science):
    return {split: science.examples(split, n) for split, n in SIZES.items()}


def example(answer: str, kind: str, **meta) -> Example:
    return Example("science/trap", "trap", "q", answer, "s", {"kind": kind, **meta})


def verdict(completion: str, ex: Example) -> Verdict:
    return judge(completion, ex).verdict


# ------------------------------------------------------------------------------------------ verifier traps

FORMULA = example("CH2O", "formula")
ETHANOL = example("C2H6O", "formula")
AVERAGE_MASS = example("150.18", "number", value=150.181, tolerance=0.05, unit="g/mol")
GC = example("45.83", "number", value=45.833333, tolerance=0.1, unit="%")
PAIR = example("2, 3", "count_pair")
RINGS = example("2", "integer")
YES = example("yes", "yes_no")
NO = example("no", "yes_no")
AMIDE = example("CC(=O)NCc1ccccc1", "smiles")
PYRIDONE = example("O=c1cccc[nH]1", "smiles")
DNA = example("ATTAAGGCGACG", "sequence", alphabet="DNA")
RNA = example("UAUCCGGGCUGA", "sequence", alphabet="RNA")
PROTEIN = example("MAF", "sequence", alphabet="protein")
CHOICE = example("B", "choice", letters="ABCD")

TRAPS = [
    # formulas: element counts, in any order; symbols are case-sensitive
    (r"\boxed{H2OC}", FORMULA, Verdict.CORRECT),
    (r"\boxed{OCH2}", FORMULA, Verdict.CORRECT),
    (r"\boxed{CH3CH2OH}", ETHANOL, Verdict.CORRECT),
    (r"\boxed{C_{2}H_{6}O}", ETHANOL, Verdict.CORRECT),
    (r"\boxed{C₂H₆O}", ETHANOL, Verdict.CORRECT),
    (r"\boxed{\mathrm{C2H6O}}", ETHANOL, Verdict.CORRECT),
    (r"\boxed{C2H5O}", ETHANOL, Verdict.WRONG),
    (r"\boxed{c2h6o}", ETHANOL, Verdict.WRONG),
    (r"\boxed{CH2Co}", FORMULA, Verdict.WRONG),  # Co is cobalt
    (r"\boxed{CH2Xx}", FORMULA, Verdict.WRONG),
    # numbers: tolerance around RDKit's unrounded value, units allowed
    (r"\boxed{150.18}", AVERAGE_MASS, Verdict.CORRECT),
    (r"\boxed{150.2 g/mol}", AVERAGE_MASS, Verdict.CORRECT),
    (r"\boxed{150.18 \text{ g mol}^{-1}}", AVERAGE_MASS, Verdict.CORRECT),
    (r"\boxed{150.3}", AVERAGE_MASS, Verdict.WRONG),
    (r"\boxed{150 or 151}", AVERAGE_MASS, Verdict.WRONG),
    (r"\boxed{45.83\%}", GC, Verdict.CORRECT),
    (r"\boxed{45.8%}", GC, Verdict.CORRECT),
    (r"\boxed{0.4583}", GC, Verdict.WRONG),  # a fraction is not the number of percent
    # counts
    (r"\boxed{2, 3}", PAIR, Verdict.CORRECT),
    (r"\boxed{(2, 3)}", PAIR, Verdict.CORRECT),
    (r"\boxed{HBD = 2, HBA = 3}", PAIR, Verdict.CORRECT),
    (r"\boxed{3, 2}", PAIR, Verdict.WRONG),
    (r"\boxed{5}", PAIR, Verdict.WRONG),
    (r"\boxed{2 rings}", RINGS, Verdict.CORRECT),
    (r"\boxed{2.5}", RINGS, Verdict.WRONG),
    (r"\boxed{two}", RINGS, Verdict.WRONG),
    # yes / no variants
    (r"\boxed{Yes}", YES, Verdict.CORRECT),
    (r"\boxed{YES.}", YES, Verdict.CORRECT),
    (r"\boxed{\text{yes}}", YES, Verdict.CORRECT),
    (r"\boxed{true}", YES, Verdict.CORRECT),
    (r"\boxed{no}", YES, Verdict.WRONG),
    (r"\boxed{No, it is absent}", NO, Verdict.CORRECT),
    (r"\boxed{maybe}", NO, Verdict.WRONG),
    # molecules: same structure, any SMILES; tautomers, extra fragments and stereo differ
    (r"\boxed{O=C(C)NCc1ccccc1}", AMIDE, Verdict.CORRECT),
    (r"\boxed{CC(=O)NCC1=CC=CC=C1}", AMIDE, Verdict.CORRECT),  # Kekulé form
    (r"\boxed{`CC(=O)NCc1ccccc1`}", AMIDE, Verdict.CORRECT),
    (r"\boxed{CC(=O)NCc1ccccc1.O}", AMIDE, Verdict.WRONG),  # water is not part of the product
    (r"\boxed{CC(O)=NCc1ccccc1}", AMIDE, Verdict.WRONG),  # the imidic-acid tautomer
    (r"\boxed{Oc1ccccn1}", PYRIDONE, Verdict.WRONG),  # 2-hydroxypyridine vs 2-pyridone: tautomers differ
    (r"\boxed{O=c1cccc[nH]1}", PYRIDONE, Verdict.CORRECT),
    (r"\boxed{C[C@H](O)NCc1ccccc1}", example("CC(O)NCc1ccccc1", "smiles"), Verdict.WRONG),  # stereo counts
    (r"\boxed{CC(=O)NCc1ccccc}", AMIDE, Verdict.WRONG),  # unclosed ring: invalid SMILES
    (r"\boxed{C1CC}", AMIDE, Verdict.WRONG),
    (r"\boxed{N-benzylacetamide}", AMIDE, Verdict.WRONG),
    (r"\boxed{CC(=O)N Cc1ccccc1}", AMIDE, Verdict.WRONG),
    # sequences: case, spaces, dashes and 5'/3' labels do not matter; the alphabet does
    (r"\boxed{attaaggcgacg}", DNA, Verdict.CORRECT),
    (r"\boxed{5'-ATTAAGGCGACG-3'}", DNA, Verdict.CORRECT),
    (r"\boxed{ATT AAG GCG ACG}", DNA, Verdict.CORRECT),
    (r"\boxed{ATTAAGGCGAC}", DNA, Verdict.WRONG),
    (r"\boxed{GCAGCGGAATTA}", DNA, Verdict.WRONG),  # the complement, not reversed
    (r"\boxed{uauccgggcuga}", RNA, Verdict.CORRECT),
    (r"\boxed{TATCCGGGCTGA}", RNA, Verdict.WRONG),  # DNA letters for an mRNA
    (r"\boxed{MAF*}", PROTEIN, Verdict.CORRECT),
    (r"\boxed{maf}", PROTEIN, Verdict.CORRECT),
    (r"\boxed{MA*F}", PROTEIN, Verdict.WRONG),
    (r"\boxed{Met-Ala-Phe}", PROTEIN, Verdict.WRONG),  # one-letter codes are asked for
    # multiple choice
    (r"\boxed{B}", CHOICE, Verdict.CORRECT),
    (r"\boxed{(b)}", CHOICE, Verdict.CORRECT),
    (r"\boxed{B) 42 kJ/mol}", CHOICE, Verdict.CORRECT),
    (r"\boxed{C}", CHOICE, Verdict.WRONG),
    (r"\boxed{E}", CHOICE, Verdict.WRONG),
    # which answer counts, and when there is none
    (r"first \boxed{CH4}, on reflection \boxed{H2CO}", FORMULA, Verdict.CORRECT),
    (r"first \boxed{H2CO}, on reflection \boxed{CH4}", FORMULA, Verdict.WRONG),
    ("The formula is CH2O.", FORMULA, Verdict.UNVERIFIABLE),
    (r"\boxed{}", FORMULA, Verdict.UNVERIFIABLE),
    (r"so the answer is \boxed{CH2", FORMULA, Verdict.UNVERIFIABLE),  # cut off mid-answer
    ("", AMIDE, Verdict.UNVERIFIABLE),
]


@pytest.mark.parametrize(("completion", "ex", "expected"), TRAPS)
def test_verifier_traps(completion, ex, expected):
    assert verdict(completion, ex) is expected, completion


def test_randomised_smiles_of_the_gold_molecule_are_correct():
    gold = Chem.MolFromSmiles("O=C(NCc1ccccc1)c1ccc(Cl)cc1O")
    ex = example(Chem.MolToSmiles(gold), "smiles")
    Chem.rdBase.SeedRandomNumberGenerator(7)  # doRandom draws from RDKit's own generator
    variants = {Chem.MolToSmiles(gold, doRandom=True) for _ in range(20)}
    assert len(variants) > 5 and ex.answer not in variants
    for smiles in variants:
        assert verdict(rf"\boxed{{{smiles}}}", ex) is Verdict.CORRECT, smiles


def test_check_accepts_chat_message_completions(science):
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": r"\boxed{H2OC}"}]
    assert science.check(messages, FORMULA).correct


def test_malformed_output_never_raises():
    rng = random.Random(0)
    alphabet = string.printable + "₂√∑αβ{}\\[]()=#@+-*/%$"
    metas = {
        "formula": FORMULA,
        "number": AVERAGE_MASS,
        "integer": RINGS,
        "count_pair": PAIR,
        "yes_no": YES,
        "smiles": AMIDE,
        "sequence": RNA,
        "choice": CHOICE,
    }
    assert set(metas) == set(ANSWER_KINDS)
    for ex in metas.values():
        for _ in range(150):
            garbage = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            assert judge(rf"\boxed{{{garbage}}}", ex).verdict in set(Verdict)
            assert judge(garbage, ex).verdict in set(Verdict)


def test_examples_without_an_answer_kind_are_a_data_error(science):
    with pytest.raises(SrmzooError, match="answer kind"):
        science.check(r"\boxed{CH4}", Example("x", "f", "q", "CH4", "s", {}))


# ------------------------------------------------------------------------------------------ truths


def test_every_pool_molecule_has_consistent_truths():
    """The trace's counting (Hill formula, donor and acceptor SMARTS) agrees with RDKit on every molecule."""
    for split in ("train", "test", "ood"):
        for m in molecule_pool(split):
            assert hill_formula(m.mol) == rdMolDescriptors.CalcMolFormula(m.mol), m.smiles
            assert len(m.mol.GetSubstructMatches(DONOR_SMARTS)) == Lipinski.NumHDonors(m.mol), m.smiles
            assert len(m.mol.GetSubstructMatches(ACCEPTOR_SMARTS)) == Lipinski.NumHAcceptors(m.mol), m.smiles


def test_answers_match_the_libraries(splits):
    seen = set()
    for ex in (e for exs in splits.values() for e in exs):
        seen.add(ex.family)
        meta = ex.meta
        if "molecule" in meta:
            mol = Chem.MolFromSmiles(meta["molecule"])
        if ex.family == "molecular_formula":
            assert ex.answer == rdMolDescriptors.CalcMolFormula(mol)
        elif ex.family == "molecular_weight":
            truth = Descriptors.MolWt(mol) if meta["mass"] == "average" else Descriptors.ExactMolWt(mol)
            assert abs(float(ex.answer) - truth) <= 0.006 and abs(meta["value"] - truth) < 1e-5
        elif ex.family == "hbond_donors_acceptors":
            assert ex.answer == f"{Lipinski.NumHDonors(mol)}, {Lipinski.NumHAcceptors(mol)}"
        elif ex.family == "ring_count":
            assert int(ex.answer) == rdMolDescriptors.CalcNumRings(mol) >= 1
        elif ex.family == "aromatic_rings":
            assert int(ex.answer) == rdMolDescriptors.CalcNumAromaticRings(mol)
        elif ex.family == "reaction_product":
            zipped = _zip_trace_fragments(ex.solution)
            assert Chem.MolToSmiles(zipped) == ex.answer, ex.id  # the trace's two halves make the product
        elif ex.family == "reverse_complement":
            assert ex.answer == str(Seq(meta["sequence"]).reverse_complement())
        elif ex.family == "transcription":
            assert ex.answer == str(Seq(meta["sequence"]).transcribe())
        elif ex.family == "translation":
            assert ex.answer == str(Seq(meta["sequence"]).translate(to_stop=True)) and ex.answer
        elif ex.family == "gc_content":
            assert abs(float(ex.answer) - gc_fraction(meta["sequence"]) * 100) <= 0.005 + 1e-9
        elif ex.family == "orf_motif" and meta["task"] == "first_atg":
            assert int(ex.answer) == meta["sequence"].find("ATG") + 1 >= 1
        elif ex.family == "orf_motif":
            assert int(ex.answer) == Seq(meta["sequence"]).count_overlap(meta["motif"])
    assert seen == set(get_domain("science").families)


def _zip_trace_fragments(solution: str) -> Chem.Mol:
    """Join the two ``*``-marked halves a reaction trace writes, with RDKit's molzip."""
    halves = re.findall(r": (\S*\*\S*)\n", solution)
    assert len(halves) == 2, solution
    mols = [Chem.MolFromSmiles(h.replace("*", "[*:1]")) for h in halves]
    return Chem.molzip(mols[0], mols[1])


def test_functional_group_answers_are_balanced(splits):
    answers = [e.answer for e in splits["train"] if e.family == "functional_group"]
    assert 0.3 < answers.count("yes") / len(answers) < 0.7


# ------------------------------------------------------------------------------------------ generation


def test_every_generated_solution_verifies_against_itself(science, splits):
    for split, exs in splits.items():
        wrong = [e.id for e in exs if not science.check(e.solution, e).correct]
        assert not wrong, f"{split}: {wrong[:5]}"


def test_examples_are_deterministic_and_prefix_stable(science, splits):
    again = science.examples("test", SIZES["test"])
    assert again == splits["test"]
    assert science.examples("test", 30) == splits["test"][:30]
    assert science.examples("test", 12, seed=1) != splits["test"][:12]
    assert science.examples("test", 1, seed=1)[0].id == "science/test/molecular_formula/s1-00000"


def test_families_are_spread_round_robin_with_unique_ids(science, splits):
    train = splits["train"]
    assert len({e.id for e in train}) == len(train)
    counts = {f: sum(e.family == f for e in train) for f in science.families}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert train[0].id == "science/train/molecular_formula/00000"
    assert all(e.solution.rstrip().endswith(rf"\boxed{{{e.answer}}}") for e in train)


def test_one_family_only(science):
    exs = science.examples("ood", 5, families=["reaction_product"])
    assert {e.family for e in exs} == {"reaction_product"}
    assert [e.id[-5:] for e in exs] == ["00000", "00001", "00002", "00003", "00004"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": "validation", "n": 3}, "unknown split"),
        ({"split": "train", "n": -1}, "non-negative"),
        ({"split": "train", "n": 3, "seed": 1.5}, "non-negative"),
        ({"split": "train", "n": 3, "families": "translation"}, "list of names"),
        ({"split": "train", "n": 3, "families": []}, "no science families"),
    ],
)
def test_bad_arguments_raise_one_clear_error(science, kwargs, match):
    split = kwargs.pop("split")
    with pytest.raises(SrmzooError, match=match):
        science.examples(split, **kwargs)


def test_unknown_family_names_the_closest(science):
    with pytest.raises(UnknownNameError, match="reverse_complement"):
        science.examples("train", 3, families=["reverse_complemnt"])


# ------------------------------------------------------------------------------------------ splits


def test_molecule_splits_share_no_scaffold():
    summary = scaffold_split_summary()
    assert set(summary["shared_scaffolds"].values()) == {0}
    assert set(summary["shared_molecules"].values()) == {0}
    assert summary["molecules"]["test"] >= 200 and summary["molecules"]["ood"] >= 1000
    assert summary["median_heavy_atoms"]["ood"] > summary["median_heavy_atoms"]["train"]


def test_generated_molecules_come_from_their_split(splits):
    scaffolds = {split: {m.scaffold for m in molecule_pool(split)} for split in SIZES}
    for split, exs in splits.items():
        for e in exs:
            if "molecule" in e.meta:
                scaffold = murcko_scaffold(Chem.MolFromSmiles(e.meta["molecule"]))
                assert scaffold in scaffolds[split]
                assert e.meta["source"] == ("wehi" if split == "ood" else "nci")
                assert all(scaffold not in scaffolds[other] for other in SIZES if other != split)


def test_sequences_are_split_by_hash_and_length(splits):
    for split, exs in splits.items():
        for e in exs:
            if "sequence" in e.meta:
                seq = e.meta["sequence"]
                low, high = LENGTHS[split]
                assert low <= len(seq) <= high and sequence_split(seq) == split
    test_seqs = [e.meta["sequence"] for e in splits["test"] if "sequence" in e.meta]
    assert all(stable_bucket(s) in TEST_BUCKETS for s in test_seqs)


def test_held_out_questions_never_repeat_train(splits):
    train = {e.question for e in splits["train"]}
    assert not train & {e.question for e in splits["test"]}
    assert not train & {e.question for e in splits["ood"]}


def test_ood_questions_use_only_unseen_templates(splits):
    def pattern(template: str) -> re.Pattern:
        parts = re.split(r"\{\w+\}", template)
        return re.compile(".+".join(re.escape(p) for p in parts), re.DOTALL)

    tables = [*CHEM_TEMPLATES.values(), *BIO_TEMPLATES.values()]
    in_templates = [pattern(t) for table in tables for t in table["in"]]
    ood_templates = [pattern(t) for table in tables for t in table["ood"]]
    for e in splits["ood"]:
        assert any(p.fullmatch(e.question) for p in ood_templates), e.question
        assert not any(p.fullmatch(e.question) for p in in_templates), e.question
    for e in splits["train"][:200]:
        assert any(p.fullmatch(e.question) for p in in_templates), e.question


# ------------------------------------------------------------------------------------------ rewards, dataset


def test_rewards_are_registered_and_score_dataset_columns(science):
    ds = science.dataset("test", 24)
    assert get_reward("science_correct") is science_correct
    assert get_reward("science_format") is science_format
    columns = {k: list(ds[k]) for k in ds.column_names}  # TRL passes plain lists
    assert science_correct(ds["solution"], **columns) == [1.0] * 24
    assert science_format(ds["solution"], **columns) == [1.0] * 24
    broken = [r"\boxed{" for _ in range(24)]
    assert science_correct(broken, **columns) == [None] * 24
    assert science_format(broken, **columns) == [0.0] * 24


@pytest.mark.parametrize(
    ("completion", "meta", "score"),
    [
        (r"C 1, H 4. \boxed{CH4}.", {"kind": "formula"}, 1.0),
        (r"\boxed{CH4} or \boxed{CH3}", {"kind": "formula"}, 0.0),
        (r"\boxed{CH4} because carbon", {"kind": "formula"}, 0.0),
        (r"\boxed{ch4}", {"kind": "formula"}, 0.0),
        (r"\boxed{C1CC}", {"kind": "smiles"}, 0.0),
        (r"\boxed{maybe}", {"kind": "yes_no"}, 0.0),
        (r"\boxed{45.83\%}$", {"kind": "number"}, 1.0),
        ("no box", {"kind": "number"}, 0.0),
    ],
)
def test_format_reward(completion, meta, score):
    assert science_format([completion], meta=[json.dumps(meta)]) == [score]


def test_dataset_round_trip(science):
    ds = science.dataset("ood", 24, families=["molecular_weight", "translation"])
    assert ds.column_names == ["id", "family", "question", "answer", "solution", "meta"]
    rebuilt = [Example.from_dict({**row, "meta": json.loads(row["meta"])}) for row in ds]
    assert rebuilt == science.examples("ood", 24, families=["molecular_weight", "translation"])


# ------------------------------------------------------------------------------------------ GPQA loader

GPQA_FIXTURE = [  # a hand-written fixture in GPQA's schema, not benchmark data
    {
        "Record ID": "fixture-1",
        "Question": "Which base pairs with adenine in DNA?",
        "Correct Answer": "Thymine",
        "Incorrect Answer 1": "Uracil",
        "Incorrect Answer 2": "Guanine",
        "Incorrect Answer 3": "Cytosine",
        "Explanation": "A pairs with T through two hydrogen bonds.",
        "High-level domain": "Biology",
        "Subdomain": "Molecular Biology",
    },
    {
        "Record ID": "fixture-2",
        "Question": "What is the molecular formula of ethanol?",
        "Correct Answer": "C2H6O",
        "Incorrect Answer 1": "C2H4O",
        "Incorrect Answer 2": "CH4O",
        "Incorrect Answer 3": "C2H6O2",
        "Explanation": "",
        "High-level domain": "Chemistry",
        "Subdomain": "Organic Chemistry",
    },
    {
        "Record ID": "fixture-3",
        "Question": "How many rings does naphthalene have?",
        "Correct Answer": "2",
        "Incorrect Answer 1": "1",
        "Incorrect Answer 2": "3",
        "Incorrect Answer 3": "10",
        "Explanation": None,
        "High-level domain": "Chemistry",
        "Subdomain": "Organic Chemistry",
    },
]


@pytest.fixture
def gpqa_file(tmp_path):
    path = tmp_path / "gpqa_fixture.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in GPQA_FIXTURE))
    return path


def test_gpqa_rows_become_lettered_multiple_choice(science, gpqa_file):
    exs = load_gpqa(data_files=gpqa_file)
    assert [e.id for e in exs] == [f"gpqa/gpqa_diamond/fixture-{i}" for i in (1, 2, 3)]
    assert exs == load_gpqa(data_files=gpqa_file)  # the option order is fixed
    for ex, row in zip(exs, GPQA_FIXTURE, strict=True):
        options = dict(re.findall(r"^([A-D])\) (.*)$", ex.question, re.MULTILINE))
        assert sorted(options.values()) == sorted(row[k] for k in row if "Answer" in k)
        assert options[ex.answer] == row["Correct Answer"]
        assert science.check(ex.solution, ex).correct
        assert science.check(rf"\boxed{{({ex.answer.lower()})}}", ex).correct
        wrong = next(letter for letter in "ABCD" if letter != ex.answer)
        assert science.check(rf"\boxed{{{wrong}}}", ex).verdict is Verdict.WRONG
    assert len(load_gpqa(data_files=gpqa_file, n=2)) == 2
    assert exs[0].solution.startswith("A pairs with T") and exs[2].solution.startswith("The correct option")


def test_gpqa_shuffles_the_correct_answer_away_from_a_fixed_slot():
    rows = [{**GPQA_FIXTURE[0], "Record ID": f"r{i}"} for i in range(40)]
    letters = {gpqa_example(row, i).answer for i, row in enumerate(rows)}
    assert letters == set("ABCD")


def test_gpqa_loader_errors(tmp_path, gpqa_file):
    with pytest.raises(UnknownNameError, match="gpqa_diamond"):
        load_gpqa("gpqa_diamnd", data_files=gpqa_file)
    bad = tmp_path / "no_answers.jsonl"
    bad.write_text(json.dumps({"Question": "Q?", "Correct Answer": "x"}) + "\n")
    with pytest.raises(SrmzooError, match="Incorrect Answer 1"):
        load_gpqa(data_files=bad)
    with pytest.raises(SrmzooError, match="unsupported GPQA file type"):
        load_gpqa(data_files=gpqa_file.rename(tmp_path / "gpqa.txt"))
    empty = tmp_path / "empty_option.jsonl"
    empty.write_text(json.dumps({**GPQA_FIXTURE[0], "Incorrect Answer 2": " "}) + "\n")
    with pytest.raises(SrmzooError, match="GPQA row 0 has no 'Incorrect Answer 2'"):
        load_gpqa(data_files=empty)


def test_select_scores_rank_well_formed_answers_without_the_gold():
    """Best-of-N's gold-free check: each family's reference solution is well formed; an invalid SMILES, a
    formula of no element, a sequence out of its alphabet, a missing answer are not; a free question
    (no answer kind) has no check."""
    from srmzoo.domain import Example

    science = get_domain("science")
    examples = science.examples("test", 12, seed=4)
    assert science.select_scores([ex.solution for ex in examples], examples) == [1.0] * 12
    garbled = {"reaction_product": r"\boxed{C1CC(}", "molecular_formula": r"\boxed{Qz3}",
               "reverse_complement": r"\boxed{ACGU!}", "gc_content": r"\boxed{about half}"}
    picked = [ex for ex in examples if ex.family in garbled]
    assert len(picked) == 4
    assert science.select_scores([garbled[ex.family] for ex in picked], picked) == [0.0] * 4
    assert science.select_scores(["no answer"], examples[:1]) == [0.0]
    free = Example("free", "", "What is the formula of ethanol?", "", "", {})
    assert science.select_scores([r"\boxed{C2H6O}"], [free]) == [None]


def test_cards_report_the_mean_over_families_and_over_chemistry_and_biology():
    """The issue's target is averaged over families: the card shows the unweighted family mean overall and per
    group (chemistry, biology) for every row, whatever each family's n."""
    from srmzoo.publish.cards import _eval_section

    def fam(correct, n):
        return {"n": n, "correct": correct, "accuracy": correct / n, "ci_low": 0.0, "ci_high": 1.0}

    report = {"model": "m", "prompting": "adapter", "accuracy": 0.5, "ci_low": 0.4, "ci_high": 0.6, "correct": 1,
              "wrong": 1, "unverifiable": 0,
              "families": {"molecular_formula": fam(9, 10), "ring_count": fam(1, 2), "gc_content": fam(0, 30)}}
    results = {"entry": "e", "domain": "science", "reports": [report],
               "settings": {"split": "test", "n": 42, "decoding": "greedy", "max_new_tokens": 8}}
    section = _eval_section(results)["families"]
    assert "| model | prompting | all families | chemistry | biology |" in section
    assert "| m | adapter | 46.7% | 70.0% | 0.0% |" in section  # (90 + 50 + 0) / 3; (90 + 50) / 2; 0
