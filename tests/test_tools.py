"""Tool-augmented reasoning: the calculator, the traces that call it, and calls answered during decoding."""

from __future__ import annotations

import json
import re

import pytest
import torch

from srmzoo.backends.hf import GenerationStats, generate
from srmzoo.domain import get_domain
from srmzoo.errors import SrmzooError
from srmzoo.prompting import PLAIN_CHAT_TEMPLATE, PROMPT_FILE, PromptFormat
from srmzoo.recipe import Recipe
from srmzoo.tools import (
    RDKIT_LOOKUPS,
    SEQUENCE_LOOKUPS,
    ToolCaller,
    ToolError,
    annotate,
    calculate,
    calls,
    describe,
    rdkit_lookup,
    run_call,
    sequence_lookup,
    strip_calls,
)
from srmzoo.train.sft import tokenize_examples

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("2 + 3 × 4", "14"),
        ("(2 + 3) × 4", "20"),
        ("20 - 6 - 4", "10"),  # left to right
        ("48 ÷ 4 ÷ 2", "6"),
        ("2 ^ 3 ^ 2", "512"),  # right-associative
        ("-21 + 19", "-2"),
        ("-(-(-3))", "-3"),
        ("12/11 - 6/11", "6/11"),
        ("1/3 + 1/6", "0.5"),
        ("2 ^ -2", "0.25"),
        ("57 / 1.753^2", "57000000/3073009"),  # not a terminating decimal: stays an exact fraction
        ("sqrt(16/9)", "4/3"),
        ("0.1 + 0.2", "0.3"),  # exact, not binary floating point
        ("round(57.6 / 1.727^2, 1)", "19.3"),
        ("round(2.675, 2)", "2.68"),  # halves away from zero, on the decimal as written
        ("round(-2.5, 0)", "-3"),
        ("round(11.1, 2)", "11.1"),  # no trailing zeros: the number, not a display format
        ("round(314 / 0.504^(1/3), 0)", "395"),  # a cube root: an inexact power of a positive base
        ("round(0.957*ln(1.7) + 1.120*ln(3) + 0.643, 1)", "2.4"),
        ("ln(1)", "0"),
        ("min(max(0.7, 1), 4)", "1"),  # MELD-Na's bounds
        ("min(max(5.4, 1), 4)", "4"),
        ("max(-2, 1/3)", "1/3"),
        ("4 * min(7.3, 10) + 2 * min(max(7.3 - 10, 0), 10) + max(7.3 - 20, 0)", "29.2"),  # 4-2-1, each branch
        ("4 * min(13.6, 10) + 2 * min(max(13.6 - 10, 0), 10) + max(13.6 - 20, 0)", "47.2"),
        ("4 * min(101.2, 10) + 2 * min(max(101.2 - 10, 0), 10) + max(101.2 - 20, 0)", "141.2"),
        ("frac((5/6) × (3/2))", "5/4"),  # an answer due as a fraction stays one where a decimal terminates
        ("frac(1/3 + 1/6)", "1/2"),
        ("frac((9/10) × (13/14) ÷ (2/13))", "1521/280"),
        ("frac(6 ÷ 3)", "2"),  # whole numbers stay whole
        ("frac(-0.25)", "-1/4"),
        ("frac(1/2) + 1", "1.5"),  # only an outermost frac decides the format
        ("frac(frac(3/4))", "3/4"),
        ("20 + 17 * 6", "122"),  # Python's operators, as programs write them
        ("7 // 2 + 19", "22"),
        ("35 % 3", "2"),
        ("-7 // 2", "-4"),  # floor division and remainder round toward minus infinity, as Python's do
        ("-11 % 4", "1"),
        ("11 % -4", "-1"),
        ("2 * 17 // 5 % 4", "2"),  # left to right, at the precedence of * and /
        ("8 / 4 // 1", "2"),  # a whole quotient is a whole number
    ],
)
def test_calculator_is_exact(expr, value):
    assert calculate(expr) == value


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd').read()",
        "9 ^ 9 ^ 9",  # exponent far beyond the limit: refused before it is computed
        "10 ^ 12 × 10 ^ 12",  # past 10**15
        "1 / 0",
        "0 ^ -1",
        "sqrt(-4)",
        "(((2)",
        "2 +",
        "",
        "3 x 4",
        "1" * 300,
        "(" * 150 + "1" + ")" * 150,  # deep nesting: too long, refused before any recursion
        "2 ** 3",
        "(-8)^(1/3)",  # a fractional power of a negative number
        "ln(0)",
        "round(3)",  # round needs its decimals
        "round(3, 5)",  # more decimals than the calculator writes
        "round(3, 1.5)",
        "round(3, -1)",
        "2 ^ 13.5",  # fractional exponents obey the same size limit
        "min(3)",  # two arguments, no more, no fewer
        "max(1, 2, 3)",
        "min(1, __import__('os'))",
        "frac(sqrt(2))",  # an inexact number has no fraction
        "frac(ln(2))",
        "frac()",
        "frac(1, 2)",
        "frac 1/2",
        "7 // 0",
        "7 % 0",
        "7.5 // 2",  # // and % take whole numbers only
        "7 % (1/2)",
        "7 /// 2",
        "% 3",
    ],
)
def test_calculator_refuses_hostile_or_malformed_input_with_tool_error(expr):
    with pytest.raises(ToolError):
        calculate(expr)
    assert run_call(expr) == "?"


@pytest.mark.parametrize(
    ("deepest", "too_deep"),
    [
        ("(" * 32 + "1" + ")" * 32, "(" * 33 + "1" + ")" * 33),  # brackets
        ("-" * 32 + "1", "-" * 33 + "1"),  # minus signs
        ("sqrt(" * 32 + "1" + ")" * 32, "sqrt(" * 33 + "1" + ")" * 33),  # a function's argument
        ("-(" * 16 + "1" + ")" * 16, "-(" * 17 + "1" + ")" * 17),  # two levels each: 32, then 34
        ("1" + "^1" * 32, "1" + "^1" * 33),  # powers (right-associative: each one nests)
    ],
)
def test_calculator_takes_32_levels_of_nesting_and_refuses_more(deepest, too_deep):
    assert calculate(deepest) == "1"
    assert len(too_deep) <= 200  # refused for its depth, not its length
    with pytest.raises(ToolError) as err:
        calculate(too_deep)
    assert str(err.value) == "nested deeper than 32 levels"
    assert run_call(too_deep) == "?"


def test_199_brackets_fit_the_length_limit_and_are_refused_as_nesting():
    expr = "(" * 199 + "1"
    assert len(expr) == 200  # MAX_EXPRESSION_CHARS: not caught by the length check
    with pytest.raises(ToolError) as err:
        calculate(expr)
    assert str(err.value) == "nested deeper than 32 levels"
    assert run_call(expr) == "?"


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("٣ + ３", "unexpected '٣ + ３'"),  # Arabic-Indic and full-width three: \d would read both
        ("2 + ３", "unexpected '３'"),
        ("１", "unexpected '１'"),
        ("1.٥", "unexpected '.٥'"),  # a decimal part in another script
        ("round(1.25, ２)", "unexpected '２)'"),  # decimals of round() too
        ("²", "unexpected '²'"),  # str.isdigit() says True
    ],
)
def test_calculator_reads_ascii_digits_only(expr, message):
    with pytest.raises(ToolError) as err:
        calculate(expr)
    assert str(err.value) == message
    assert run_call(expr) == "?"


@pytest.mark.parametrize("failure", [RecursionError, MemoryError, ZeroDivisionError, KeyError, AttributeError])
def test_any_failure_inside_a_tool_is_the_answer_unknown_and_logged(failure, monkeypatch, caplog):
    import srmzoo.tools as tools

    def broken(expr):
        raise failure("inside the tool")

    monkeypatch.setitem(tools.TOOLS, "calculator", broken)
    with caplog.at_level("WARNING", logger="srmzoo.tools"):
        assert run_call("2 + 3") == "?"
    assert [r.getMessage() for r in caplog.records] == [
        f"tool call '2 + 3' failed with {failure.__name__}: {failure('inside the tool')}"
    ]


def test_tool_caller_forces_unknown_when_the_stack_is_too_full_to_call_the_tool(tokenizer, monkeypatch):
    import srmzoo.tools as tools

    caller = ToolCaller(tokenizer, ["calculator"])

    def no_stack_left(expr, tools):  # what calling run_call raises with no frames left
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(tools, "run_call", no_stack_left)
    ids = tokenizer.encode("so <<2 + 3>>", add_special_tokens=False)
    assert tokenizer.decode(caller.after(ids)) == " = ?"
    assert (caller.calls, caller.failed) == (1, 1)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("formula(CC(=O)Oc1ccccc1C(=O)O)", "C9H8O4"),  # aspirin
        ("formula(C[NH3+])", "CH6N+"),
        ("mw(CC(=O)Oc1ccccc1C(=O)O)", "180.159"),
        ("exact_mass(CC(=O)Oc1ccccc1C(=O)O)", "180.0423"),
        ("hbd(CC(=O)Oc1ccccc1C(=O)O)", "1"),
        ("hba(CC(=O)Oc1ccccc1C(=O)O)", "3"),
        ("rings(C1CC2CCC1C2)", "2"),
        ("aromatic_rings(c1ccc2ccccc2c1)", "2"),
        (" rings( c1ccccc1 ) ", "?"),  # a space inside the call is not part of any SMILES
    ],
)
def test_rdkit_tool_answers_lookups_with_rdkit(expr, value):
    assert run_call(expr, ["rdkit"]) == value
    assert run_call(expr, ["calculator"]) == "?"  # a look-up is not arithmetic


@pytest.mark.parametrize(
    "expr",
    [
        "formula(C1CC)",  # unclosed ring
        "formula(Xx)",
        "mw()",
        "formula(__import__('os').system('id'))",
        "formula(" + "C" * 300 + ")",
        "boiling_point(CCO)",
        "formula(CCO); mw(CCO)",
        "formula(CCO",
        "2 + formula(CCO)",
    ],
)
def test_rdkit_tool_refuses_what_is_not_a_parseable_smiles_lookup(expr, capfd):
    assert run_call(expr, ["rdkit"]) == "?"
    assert capfd.readouterr().err == ""  # RDKit's parse errors do not reach stderr


def test_rdkit_lookup_names_and_description():
    with pytest.raises(ToolError, match="unknown look-up 'logp'"):
        rdkit_lookup("logp", "CCO")
    text = describe(["calculator", "rdkit"])
    assert "<<expression>>" in text and all(name in text for name in RDKIT_LOOKUPS)


def _biopython_truth(name, seq, motif=None):
    from Bio.Seq import Seq
    from Bio.SeqUtils import gc_fraction

    truths = {
        "revcomp": lambda: str(Seq(seq).reverse_complement()),
        "transcribe": lambda: str(Seq(seq).transcribe()),
        "translate": lambda: str(Seq(seq).translate(to_stop=True)),
        "gc": lambda: f"{gc_fraction(seq) * 100:.2f}",
        "count": lambda: str(Seq(seq).count_overlap(motif)),
        "find": lambda: str(Seq(seq).find(motif) + 1),
    }
    return truths[name]()


@pytest.mark.parametrize(
    ("name", "seq", "motif"),
    [
        ("revcomp", "ATGCGTTAACCG", None),
        ("transcribe", "ATGCGTTAACCG", None),
        ("translate", "ATGGCCAAATTTTAGGGG", None),  # stops at TAG
        ("translate", "ATGGCCAAATTT", None),  # no stop: all codons
        ("gc", "ATGCGTTAACCGA", None),
        ("count", "AAAAGAAA", "AA"),  # overlaps count
        ("count", "ACGTACGT", "TTT"),
        ("find", "CCATGATGA", "ATG"),
        ("find", "CCCCCC", "ATG"),  # absent: 0
    ],
)
def test_biopython_tool_answers_sequence_lookups_as_biopython_does(name, seq, motif):
    expr = f"{name}({seq}, {motif})" if motif else f"{name}({seq})"
    assert run_call(expr, ["biopython"]) == _biopython_truth(name, seq, motif)
    assert run_call(expr, ["rdkit", "calculator"]) == "?"  # only the biopython tool answers it
    assert run_call(expr.lower(), ["biopython"]) == _biopython_truth(name, seq, motif)  # lowercase bases


@pytest.mark.parametrize(
    "expr",
    [
        "revcomp()",
        "revcomp(ATGX)",
        "revcomp(ATG C)",
        "revcomp(__import__('os').system('id'))",
        "revcomp(" + "A" * 201 + ")",
        "translate(ATGC)",  # not whole codons
        "count(ATGC)",  # the motif is missing
        "count(ATGC, " + "A" * 13 + ")",
        "revcomp(ATGC, AT)",
        "find(ATGC, ATG, A)",
        "gc(ACGU)",  # RNA is not DNA
        "melting_point(ATGC)",
    ],
)
def test_biopython_tool_refuses_what_is_not_a_dna_lookup(expr):
    assert run_call(expr, ["biopython", "rdkit", "calculator"]) == "?"


def test_sequence_lookup_names_and_description():
    with pytest.raises(ToolError, match="unknown look-up 'tm'"):
        sequence_lookup("tm", "ATGC")
    text = describe(["rdkit", "biopython"])
    assert "Biopython" in text and all(name in text for name in SEQUENCE_LOOKUPS)


def traced(domain, ex, tools, style=None):
    """The example's tool-using trace and its calls, each call's result what the tools answer at inference."""
    text = domain.tool_solution(ex, tools, style)
    found = calls(text)
    assert text.count("<<") == text.count(">>") == len(found), text
    for expr, result in found:
        assert run_call(expr, tools) == result, (ex.id, expr, result)
    return text, found


@pytest.mark.parametrize("split", ["train", "test", "ood"])
def test_science_tool_traces_look_up_rdkit_and_pass_the_verifier(split):
    """With the rdkit tool the property families are look-ups of the question's own SMILES; every result is
    what the tool answers at inference and the boxed answer passes the verifier."""
    domain = get_domain("science")
    examples = domain.examples(split, 12 * 15, seed=2)
    lookup_families = {"molecular_formula", "molecular_weight", "hbond_donors_acceptors", "ring_count",
                       "aromatic_rings"}
    seen = set()
    for ex in examples:
        text, found = traced(domain, ex, ["rdkit"])
        if ex.family in lookup_families:
            assert found, (ex.id, text)
            seen.add(ex.family)
            for expr, _ in found:
                assert expr[expr.index("(") + 1 : -1] == ex.meta["molecule"] and ex.meta["molecule"] in ex.question
            assert domain.check(text, ex).correct, (ex.id, ex.answer, text)
        else:  # no look-up helps (reactions, groups, sequences): the plain trace
            assert text == ex.solution
    assert seen == lookup_families
    assert domain.tool_solution(examples[0], ["calculator"]) == annotate(examples[0].solution)


@pytest.mark.parametrize("split", ["train", "test", "ood"])
def test_science_tool_traces_look_up_biopython_and_pass_the_verifier(split):
    """With the biopython tool each sequence question is one look-up of its own sequence (and motif); the
    result is what the tool answers at inference and the boxed answer passes the verifier. Chemistry keeps
    the rdkit traces when both tools are on."""
    from domains.science.biology import BIOLOGY_FAMILIES

    domain = get_domain("science")
    examples = domain.examples(split, 12 * 10, seed=3)
    seen = set()
    for ex in examples:
        text, found = traced(domain, ex, ["rdkit", "biopython"])
        if ex.family in BIOLOGY_FAMILIES:
            assert len(found) == 1, (ex.id, text)
            expr, _ = found[0]
            assert expr[expr.index("(") + 1 :].split(",")[0].rstrip(")") == ex.meta["sequence"]
            assert ex.meta["sequence"] in ex.question
            assert domain.check(text, ex).correct, (ex.id, ex.answer, text)
            seen.add(ex.meta.get("task", ex.family))
        else:
            assert text == domain.tool_solution(ex, ["rdkit"])
            assert domain.tool_solution(ex, ["biopython"]) == ex.solution  # no rdkit: chemistry stays plain
    assert seen == {"reverse_complement", "transcription", "translation", "gc_content", "first_atg", "motif_count"}


def test_tool_caller_answers_biopython_lookups(tokenizer):
    ids = tokenizer.encode("Reverse complement: <<revcomp(ATGCGT)>>", add_special_tokens=False)
    assert tokenizer.decode(ToolCaller(tokenizer, ["biopython"]).after(ids)) == " = ACGCAT"
    assert tokenizer.decode(ToolCaller(tokenizer, ["rdkit"]).after(ids)) == " = ?"


def test_tool_caller_answers_rdkit_lookups(tokenizer):
    ids = tokenizer.encode("Formula: <<formula(CC(=O)O)>>", add_special_tokens=False)
    assert tokenizer.decode(ToolCaller(tokenizer, ["rdkit"]).after(ids)) == " = C2H4O2"
    assert tokenizer.decode(ToolCaller(tokenizer, ["calculator"]).after(ids)) == " = ?"
    both = ToolCaller(tokenizer, ["calculator", "rdkit"])
    assert tokenizer.decode(both.after(tokenizer.encode("so <<12 × 3>>", add_special_tokens=False))) == " = 36"


@pytest.mark.parametrize("domain", ["math", "healthcare", "science"])
def test_annotated_traces_only_add_call_brackets_and_every_call_agrees_with_the_calculator(domain):
    examples = get_domain(domain).examples("train", 150, seed=1)
    n_calls = 0
    for ex in examples:
        text = annotate(ex.solution)
        assert strip_calls(text) == ex.solution
        for expr, result in calls(text):
            assert calculate(expr) == result, (ex.id, expr, result)
            n_calls += 1
        assert text.count("<<") == text.count(">>") == len(calls(text))
    if domain == "math":  # most of math's computations become calls (fractions' unreduced steps do not)
        total = sum(len(re.findall(r" = ", ex.solution)) for ex in examples)
        assert n_calls / total > 0.6


@pytest.mark.parametrize("split", ["train", "test", "ood"])
def test_healthcare_tool_traces_agree_with_the_calculator_and_pass_the_verifier(split):
    """Every family's tool-using trace: each call's result is what the calculator will answer at inference,
    the boxed answer (the last result, from rounded intermediate values) is within the question's tolerance
    of the gold value, and the measurement families leave no arithmetic to the model."""
    domain = get_domain("healthcare")
    examples = domain.examples(split, 17 * 20, seed=3)
    measurements = {"bmi", "bsa", "mean_arterial_pressure", "anion_gap", "corrected_calcium", "qtc_bazett",
                    "qtc_fridericia", "cockcroft_gault", "ideal_body_weight", "adjusted_body_weight",
                    "maintenance_fluids"}
    families_with_calls = set()
    for ex in examples:
        text, found = traced(domain, ex, ["calculator"])
        check = domain.check(text, ex)
        assert check.correct, (ex.id, ex.answer, text)
        if found:
            families_with_calls.add(ex.family)
        if ex.family in measurements:  # outside the calls only copying: no operator between two numbers
            outside = re.sub(r"<<[^<>]*>>", "", text)
            assert not re.search(r"\d\s*[-+*/×÷^]\s*\d", outside.replace("mg/dL", "").replace("kg/m^2", "")
                                 .replace("m^2", "").replace("µmol/L", "").replace("g/L", "").replace("mL/h", "")
                                 .replace("mL/min", "").replace("mmol/L", "").replace("g/dL", "")), text
    assert families_with_calls == set(domain.families)  # every calculator's trace calls the tool
    assert domain.tool_solution(examples[0], []) == examples[0].solution  # no calculator, no calls


@pytest.mark.parametrize("split", ["train", "test", "ood"])
def test_healthcare_grounded_traces_quote_the_note_and_pass_the_verifier(split):
    """``data.traces: grounded``: every call agrees with the calculator, the boxed answer passes the verifier,
    each quoted fact is the note's own words (seen wordings in train/test, held-out ones in ood), and the
    branchy rules are one fixed template whatever the values."""
    domain = get_domain("healthcare")
    examples = domain.examples(split, 17 * 20, seed=4)
    quoted = 0
    for ex in examples:
        text, _ = traced(domain, ex, ["calculator"], "grounded")
        assert domain.check(text, ex).correct, (ex.id, ex.answer, text)
        note = ex.question.split("\n\n")[0].lower()
        for clause in re.split(r"\.\s+|\n", text):
            if ": " not in clause or " -> " not in clause or re.search(r"[<>=]", clause.split(" -> ")[0]):
                continue  # not a quoted criterion (a rule such as "SBP 156 <= 160", or a call)
            evidence = re.sub(r", (?:not active|too long ago)$", "", clause.split(" -> ")[0].rsplit(": ", 1)[1])
            if evidence not in ("not mentioned", "denied"):
                assert evidence.lower() in note, (ex.id, evidence, note)
                quoted += 1
        if ex.family in ("cockcroft_gault", "ideal_body_weight", "adjusted_body_weight", "cha2ds2_vasc"):
            sex = re.search(r"Sex: (\S+) -> (female|male)", text)
            assert sex and sex[1].lower() in note and (sex[2] == "female") == (ex.meta["inputs"]["sex"] == "female")
        if ex.family == "maintenance_fluids":
            assert re.search(r"<<round\(4 \* min\(([\d.]+), 10\) \+ 2 \* min\(max\(\1 - 10, 0\), 10\) \+ "
                             r"max\(\1 - 20, 0\), 1\)>>", text), text
        if ex.family == "meld_na":
            assert "min(max(" in text and "<<min(round(" in text or "<= 11" in text, text
    assert quoted > 200  # the criteria scores quote the note, not just say "not mentioned"
    plain = domain.examples(split, 17, seed=4)
    same = {"bmi", "bsa", "mean_arterial_pressure", "anion_gap", "corrected_calcium", "qtc_bazett", "qtc_fridericia"}
    for ex in plain:  # the calculators whose default trace has nothing to ground keep it
        if ex.family in same:
            assert domain.tool_solution(ex, ["calculator"], "grounded") == domain.tool_solution(ex, ["calculator"])


@pytest.mark.parametrize("split", ["train", "test", "ood"])
def test_math_direct_traces_are_one_call_on_the_questions_expression_and_pass_the_verifier(split):
    """``data.traces: direct``: arithmetic and fraction items are a single calculator call on the expression
    as the question writes it (fractions bracketed, in frac), whose result is the gold answer; the other
    families keep the default traces."""
    domain = get_domain("math")
    examples = domain.examples(split, 5 * 60, seed=2)
    direct = 0
    for ex in examples:
        text, found = traced(domain, ex, ["calculator"], "direct")
        assert domain.check(text, ex).correct, (ex.id, ex.answer, text)
        if ex.family in ("arithmetic", "fractions"):
            assert len(found) == 1, text
            expr = found[0][0]
            if ex.family == "fractions":
                assert expr.startswith("frac(") and expr.endswith(")")
                expr = re.sub(r"\((\d+/\d+)\)", r"\1", expr[len("frac("):-1])
            assert expr in ex.question, (expr, ex.question)  # copied, not computed
            direct += 1
        else:
            assert text == domain.tool_solution(ex, ["calculator"])
    assert direct == 2 * 60


@pytest.mark.parametrize("split", ["train", "test", "ood"])
def test_coding_tool_traces_call_the_calculator_on_whole_expressions_and_leave_code_alone(split):
    """With the calculator, an output-prediction trace's worked computations are calls on the program's own
    expressions (stages dropped), a comprehension's map one call per item, each result what the tool answers
    and the trace's boxed output unchanged; synthesis and bug-fix solutions (code) are not rewritten."""
    domain = get_domain("coding")
    with_calls = 0
    for ex in domain.examples(split, 3 * 100, seed=1):
        text, found = traced(domain, ex, ["calculator"])
        if ex.family != "output_prediction":
            assert text == ex.solution
            continue
        assert domain.check(text, ex).correct and text.splitlines()[-1] == ex.solution.splitlines()[-1]
        assert re.sub(r"<<[^>]*>> = ", "", text).count(" = ") <= ex.solution.count(" = ")
        for line in text.splitlines():  # one call per computation: no worked stage after a call's result
            assert not re.search(r">> = -?\d+ = ", line), line
        with_calls += bool(found)
        assert domain.tool_solution(ex, []) == ex.solution
    assert with_calls >= 40  # of 100: arithmetic chains, functions, loops, remainders, maps


def test_coding_tool_traces_drop_worked_stages_only_where_the_calculator_agrees():
    from srmzoo.domains.coding.tool_traces import collapse_computations, map_calls

    assert collapse_computations("z = 21 * 4 * 2 = 84 * 2 = 168.") == "z = <<21 * 4 * 2>> = 168."
    assert collapse_computations("z = 21 * 4 * 2 = 84 * 2 = 169.") == "z = 21 * 4 * 2 = 84 * 2 = 169."
    assert collapse_computations("f(0) = (0 + 4) * 7 = 4 * 7 = 28.") == "f(0) = <<(0 + 4) * 7>> = 28."
    assert collapse_computations("xs[1] = 4.") == "xs[1] = 4."
    assert collapse_computations('"a1" * 2 = "a1a1".') == '"a1" * 2 = "a1a1".'
    assert map_calls("x * 5 maps 7, 6 to 35, 31.") == "x * 5 maps 7, 6 to 35, 31."  # one wrong: untouched
    assert map_calls("x * x maps them to 4, 9.") == "x * x maps them to 4, 9."  # no line lists them
    assert map_calls("The items with x > 1 are 2, 3.\nx * x maps them to 4, 9.").endswith(
        "maps them to <<2 * 2>> = 4, <<3 * 3>> = 9.")


def test_math_direct_trace_refuses_what_it_has_no_template_for():
    from srmzoo.domains.math.tool_traces import direct_solution, question_expression

    words = next(ex for ex in get_domain("math").examples("train", 5) if ex.family == "word_problem")
    with pytest.raises(SrmzooError, match="no template for 'word_problem'"):
        direct_solution(words)
    with pytest.raises(SrmzooError, match="no expression"):
        question_expression("What is the capital of France?")
    assert question_expression("Evaluate (3 + 4) × 2 - 1.") == "(3 + 4) × 2 - 1"
    assert question_expression("Work out 3/4 - 1/8 and simplify the result.") == "3/4 - 1/8"


def test_a_trace_style_must_be_the_domains_and_needs_tools(tiny_base_dir, tmp_path):
    from srmzoo.train.stages import train

    def recipe(**data):
        return Recipe.from_dict({"name": "x", "domain": "healthcare",
                                 "model": {"base": "smollm2-135m-instruct", "path": str(tiny_base_dir)},
                                 "data": {"train_size": 4, **data}, "train": {"max_steps": 1}})

    with pytest.raises(SrmzooError, match="no trace style 'grounde'") as err:
        train(recipe(tools=["calculator"], traces="grounde"), tmp_path / "a", progress=False)
    assert "grounded" in err.value.hint
    with pytest.raises(SrmzooError, match="data.tools is empty"):
        train(recipe(traces="grounded"), tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # refused before any work


def test_a_tool_entry_trains_on_its_domains_tool_traces(tiny_base_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    domain = get_domain("healthcare")
    examples = domain.examples("train", 17, seed=0)
    fmt = PromptFormat.for_tokenizer(tokenizer, system_prompt="Solve.")
    tooled = PromptFormat(fmt.chat_template, "Solve.", tools=("calculator",))
    rows, dropped = tokenize_examples(examples, tokenizer, tooled, 1024, domain=domain)
    assert dropped == 0
    texts = [tokenizer.decode(r["input_ids"], skip_special_tokens=True) for r in rows]
    assert all(domain.tool_solution(ex, ["calculator"]) in t for ex, t in zip(examples, texts))
    assert sum("round(" in t for t in texts) >= 10  # the rounding calls, which annotate alone never writes
    generic, _ = tokenize_examples(examples, tokenizer, tooled, 1024)  # without the domain: annotate's calls
    assert not any("round(" in tokenizer.decode(r["input_ids"]) for r in generic)
    grounded, _ = tokenize_examples(examples, tokenizer, tooled, 1024, domain=domain, traces="grounded")
    texts = [tokenizer.decode(r["input_ids"], skip_special_tokens=True) for r in grounded]
    assert all(domain.tool_solution(ex, ["calculator"], "grounded") in t for ex, t in zip(examples, texts))
    assert sum("not mentioned ->" in t for t in texts) >= 3


def test_tokenized_training_examples_carry_the_calls(tiny_base_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    examples = get_domain("math").examples("train", 8, seed=0)
    fmt = PromptFormat.for_tokenizer(tokenizer, system_prompt="Solve.")
    plain, _ = tokenize_examples(examples, tokenizer, fmt, 512)
    tooled, _ = tokenize_examples(examples, tokenizer, PromptFormat(fmt.chat_template, "Solve.", tools=("calculator",)), 512)
    texts = [tokenizer.decode(r["input_ids"]) for r in tooled]
    assert sum("<<" in t for t in texts) >= 6
    assert not any("<<" in tokenizer.decode(r["input_ids"]) for r in plain)


def test_recipe_and_prompt_format_validate_tool_names(tmp_path):
    base = {"name": "x", "domain": "math", "model": {"base": "smollm2-135m-instruct"}}
    assert Recipe.from_dict({**base, "data": {"tools": ["calculator"]}}).data.tools == ("calculator",)
    with pytest.raises(SrmzooError, match=r"data.tools: unknown tool 'calculater'; did you mean: calculator"):
        Recipe.from_dict({**base, "data": {"tools": ["calculater"]}})

    fmt = PromptFormat(PLAIN_CHAT_TEMPLATE, "Solve.", tools=("calculator",))
    fmt.save(tmp_path)
    assert PromptFormat.load(tmp_path) == fmt
    data = json.loads((tmp_path / PROMPT_FILE).read_text())
    data.pop("tools")  # formats saved before tools existed load as tool-free
    (tmp_path / PROMPT_FILE).write_text(json.dumps(data))
    assert PromptFormat.load(tmp_path).tools == ()
    (tmp_path / PROMPT_FILE).write_text(json.dumps({**data, "tools": ["web_search"]}))
    with pytest.raises(SrmzooError, match="needs a tool this srmzoo does not have.*web_search"):
        PromptFormat.load(tmp_path)


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base_dir)


def test_tool_caller_answers_a_call_right_after_it_closes_and_only_once(tokenizer):
    caller = ToolCaller(tokenizer, ["calculator"])
    ids = tokenizer.encode("The price changed by <<70 - 56>>", add_special_tokens=False)
    for cut in range(1, len(ids)):  # no answer before the call closes
        assert caller.after(ids[:cut]) == []
    forced = caller.after(ids)
    assert tokenizer.decode(forced) == " = 14"
    assert caller.after(ids + forced) == []  # answered: nothing more to force
    assert caller.after(ids + forced + tokenizer.encode(". So <<14 × 3>>", add_special_tokens=False)) == (
        tokenizer.encode(" = 42", add_special_tokens=False)
    )
    bad = tokenizer.encode("so <<open('x')>>", add_special_tokens=False)
    assert tokenizer.decode(caller.after(bad)) == " = ?"
    assert (caller.calls, caller.failed) == (3, 1)
    assert caller.after(tokenizer.encode("x >> 2 and a -> b", add_special_tokens=False)) == []


class _ScriptedCaller(ToolCaller):
    """Forces " = 12" after a sequence's third token (a random tiny model never writes a call itself)."""

    def after(self, generated):
        if len(generated) == 3:
            self.calls += 1
            return self.tokenizer.encode(" = 12", add_special_tokens=False)
        return []


@pytest.mark.parametrize("sampling", [False, True])
def test_forced_tool_tokens_enter_every_sequence_greedy_and_sampled(tiny_base_dir, tokenizer, monkeypatch, sampling):
    from transformers import AutoModelForCausalLM

    import srmzoo.backends.hf as generation

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir).eval()
    monkeypatch.setattr(generation, "ToolCaller", _ScriptedCaller)
    prompts = ["What is 2 + 2?", "Hi", "Count: 1, 2, 3,"]
    stats = GenerationStats()
    torch.manual_seed(0)
    out = generate(model, tokenizer, prompts, max_new_tokens=10, batch_size=3, do_sample=sampling,
                   num_return_sequences=2 if sampling else 1, tools=["calculator"], stats=stats)
    for completions in out:
        assert len(completions) == (2 if sampling else 1)
        for text in completions:
            assert " = 12" in text, text
    assert stats.tool_calls == 3 * (2 if sampling else 1)
    plain = generate(model, tokenizer, prompts[:1], max_new_tokens=10, batch_size=1)
    assert " = 12" not in plain[0][0]


def test_run_eval_scores_a_tool_entry_with_and_without_its_tools_on_the_same_items(tiny_run, tmp_path, monkeypatch):
    import shutil

    import srmzoo.backends.hf as generation
    from srmzoo.eval.run import run_eval
    from srmzoo.publish.cards import render_card

    adapter = shutil.copytree(tiny_run / "adapter", tmp_path / "adapter")
    fmt = PromptFormat.load(adapter)
    PromptFormat(fmt.chat_template, fmt.system_prompt, fmt.few_shot, tools=("calculator",)).save(adapter)
    monkeypatch.setattr(generation, "ToolCaller", _ScriptedCaller)
    results = run_eval(adapter, n=4, few_shot=0, max_new_tokens=10, batch_size=4, include_base=False,
                       device="cpu", progress=False)
    with_tools, without = results["reports"]
    assert (with_tools["prompting"], without["prompting"]) == ("adapter", "adapter, no tools")
    assert with_tools["tools"] == ["calculator"] and without["tools"] == []
    assert with_tools["tool_calls"] == 4 and without["tool_calls"] == 0
    samples = [json.loads(line) for line in (adapter / "eval" / "samples_test.jsonl").read_text().splitlines()]
    assert all(" = 12" in s["completions"][0] for s in samples if s["prompting"] == "adapter")
    assert not any(" = 12" in s["completions"][0] for s in samples if s["prompting"] != "adapter")
    card = render_card(adapter)
    assert "This entry calls tools (calculator)" in card and "| adapter, no tools |" in card

    # Without the ablation only the tool row runs, and the reproduce command says so.
    only = run_eval(adapter, n=4, few_shot=0, max_new_tokens=10, batch_size=4, include_base=False,
                    device="cpu", progress=False, tool_ablation=False, out_dir=tmp_path / "only")
    assert [r["prompting"] for r in only["reports"]] == ["adapter"]
    assert only["settings"]["tool_ablation"] is False and "--no-tool-ablation" in only["settings"]["command"]
