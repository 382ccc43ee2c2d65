"""Hostile model text, recipes, prompt formats and adapter metadata: what srmzoo must answer or refuse.

Each case mounts one attack in a fresh folder and returns what happened as one string;
tests/test_hostile_inputs.py asserts it equals the case's ``expected``. The folder's path in a message is
written as ``<tmp>``. Nothing here loads a model: the tool caller is driven with a one-token-per-character
stand-in tokenizer (it only decodes and encodes), and the adapters are the metadata files alone.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from srmzoo.errors import SrmzooError
from srmzoo.tools import CALL_CLOSE, MAX_NESTING, ToolCaller, ToolError, calculate, run_call

HERE = Path(__file__).resolve().parent


# Loaded only by tests/hostile/cases.py (load_cases), which registers itself as "hostile_cases" first.
Case = sys.modules["hostile_cases"].Case

ALIASES_REFUSED = "YAML anchors and aliases are not allowed"
MINIMAL_RECIPE = "name: bomb\ndomain: math\nmodel:\n  base: smollm2-135m\n"
# The billion laughs: nine levels of nine aliases, 9**9 = 387,420,489 "lol"s (about 2 GB as text) if expanded.
LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{level}: &{level} [{','.join([f'*{below}'] * 9)}]\n" for below, level in zip("abcdefgh", "bcdefghi")
)
# As a recipe's description, a str field: the old type error quoted the value in full.
BOMB_RECIPE = MINIMAL_RECIPE + "description:\n" + "".join(f"  {line}\n" for line in LAUGHS.splitlines())
BOMB_BYTES = 491
HUGE_RECIPE = MINIMAL_RECIPE + "description: " + "x" * (2 << 20) + "\n"


def _bomb_recipe() -> str:
    """:data:`BOMB_RECIPE` headed by its command, padded to 491 bytes."""
    header = "# srmzoo train bomb.yaml --dry-run: an alias bomb"
    header += "." * (BOMB_BYTES - len(header) - 1 - len(BOMB_RECIPE)) + "\n"
    text = header + BOMB_RECIPE
    assert len(text.encode()) == BOMB_BYTES, len(text.encode())
    return text


def _refusal(err: SrmzooError, tmp: Path) -> str:
    return "SrmzooError: " + err.message.replace(str(tmp), "<tmp>")


def _outcome(tmp: Path, attempt: Callable[[], str]) -> str:
    try:
        return attempt()
    except SrmzooError as err:
        return _refusal(err, tmp)


# ------------------------------------------------------------------------------------------- calculator


def _calculated(expr: str) -> str:
    try:
        return f"value {calculate(expr)}"
    except ToolError as err:
        return f"ToolError: {err}"


def _unicode_digits(tmp: Path) -> str:
    return f"calculate: {_calculated('٣ + ３')} | tool answer: {run_call('٣ + ３')}"


class _CharTokenizer:
    """One token per character. ToolCaller only decodes and encodes; ``saw_call`` records that the text
    with the closed call was decoded, i.e. that the caller got as far as the call itself."""

    def __init__(self) -> None:
        self.saw_call = False

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        text = "".join(map(chr, ids))
        if CALL_CLOSE in text:
            self.saw_call = True
        return text

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return list(map(ord, text))


class _Counting(logging.Handler):
    """Takes the tool's log records the way a real handler does (Python frames included), keeping none."""

    def emit(self, record: logging.LogRecord) -> None:
        record.getMessage()


def _frames() -> int:
    frame, n = sys._getframe(1), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def _after_at_depth(levels: int, caller: ToolCaller, ids: list[int]) -> list[int]:
    return caller.after(ids) if levels <= 0 else _after_at_depth(levels - 1, caller, ids)


def _call_at_full_stack(tmp: Path) -> str:
    """The deepest call the calculator takes (32 brackets: its parser recurses about 200 frames), closed
    by the model while the decoding loop's stack has 1 to 399 frames left."""
    tokenizer = _CharTokenizer()
    caller = ToolCaller(tokenizer, ["calculator"])
    ids = tokenizer.encode(f"so <<{'(' * MAX_NESTING}1{')' * MAX_NESTING}>>")
    logger = logging.getLogger("srmzoo.tools")
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers, logger.propagate = [_Counting()], False
    logger.setLevel(logging.DEBUG)
    answers: set[str] = set()
    escaped = 0
    try:
        room = sys.getrecursionlimit() - _frames()
        for headroom in range(1, 400):
            tokenizer.saw_call = False
            try:
                answers.add(tokenizer.decode(_after_at_depth(room - headroom, caller, ids)))
            except RecursionError:  # raised before the call was read it is the caller's; after, the tool's
                escaped += tokenizer.saw_call
    finally:
        logger.handlers, logger.level, logger.propagate = saved
    return f"exceptions once the call was read: {escaped}; answers: {', '.join(sorted(map(repr, answers)))}"


# ----------------------------------------------------------------------------------------------- recipes


def _load_recipe(tmp: Path, text: str, overrides: list[str] | None = None) -> str:
    from srmzoo.recipe import load_recipe

    path = tmp / "recipe.yaml"
    path.write_text(text)
    return _outcome(tmp, lambda: f"loaded {load_recipe(path, overrides).name}")


def _pulled_recipe_bomb(tmp: Path) -> str:
    from srmzoo.artifacts import RECIPE_FILE, eval_config_for

    adapter = tmp / "pulled-adapter"
    adapter.mkdir()
    (adapter / RECIPE_FILE).write_text(BOMB_RECIPE)
    return _outcome(tmp, lambda: f"eval settings n={eval_config_for(adapter).n}")


def _override_of_self_containing_data(tmp: Path) -> str:
    from srmzoo.recipe import apply_overrides

    data = {"name": "loop", "model": {"base": "smollm2-135m"}}
    data["model"]["again"] = data["model"]  # what an alias to its own node builds
    return _outcome(tmp, lambda: f"overridden: {sorted(apply_overrides(data, ['train.lr=1e-4']))}")


def _cli_dry_run_bomb(tmp: Path) -> str:
    from srmzoo.cli import main

    path = tmp / "bomb.yaml"
    path.write_text(_bomb_recipe())
    err, out = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(["train", str(path), "--dry-run"])
    finally:
        root.handlers[:] = saved[0]  # main() sets up logging for a process; put it back
        root.setLevel(saved[1])
    said = err.getvalue() + out.getvalue()
    first = said.strip().splitlines()[0].replace(str(tmp), "<tmp>") if said.strip() else "(nothing)"
    return (f"{path.stat().st_size} bytes: exit {code}; {first} | output under 2,000 characters: "
            f"{'yes' if len(said) < 2000 else f'no ({len(said):,})'}")


# --------------------------------------------------------------------------------------- chat templates


class _Tokenizer:
    """A tokenizer as PromptFormat.render sees one: its special tokens (it then renders the template itself)."""

    special_tokens_map = {"bos_token": "<s>", "eos_token": "</s>"}


def _pulled_oversized_template(tmp: Path) -> str:
    from srmzoo.prompting import MAX_TEMPLATE_CHARS, PROMPT_FILE, PromptFormat

    template = "{{ messages[0].content }}" + " " * MAX_TEMPLATE_CHARS
    (tmp / PROMPT_FILE).write_text(json.dumps({"chat_template": template}))
    return _outcome(tmp, lambda: f"loaded a {len(PromptFormat.load(tmp).chat_template):,}-character template")


def _oversized_template_render(tmp: Path) -> str:
    from srmzoo.prompting import MAX_TEMPLATE_CHARS, PromptFormat

    fmt = PromptFormat(chat_template="{{ messages[0].content }}" + " " * MAX_TEMPLATE_CHARS)
    return _outcome(tmp, lambda: f"rendered {len(fmt.render(_Tokenizer(), [{'role': 'user', 'content': 'hi'}]))}")


def _nested_loop_template(tmp: Path) -> str:
    from srmzoo.prompting import PromptFormat

    # 1,000 characters of question, looped over three deep: 10**9 iterations unmetered
    loops = "{% for a in messages[0].content %}{% for b in messages[0].content %}{% for c in messages[0].content %}"
    fmt = PromptFormat(chat_template=loops + "{{ c }}{% endfor %}{% endfor %}{% endfor %}")
    started = time.perf_counter()
    outcome = _outcome(tmp, lambda: f"rendered {len(fmt.render(_Tokenizer(), [{'role': 'user', 'content': 'x' * 1000}]))}")
    return f"{outcome} | under 1 s: {'yes' if time.perf_counter() - started < 1 else 'no'}"


# ------------------------------------------------------------------------------------------------ cards


def _card_of(meta_lora: dict) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        from srmzoo.artifacts import ADAPTER_META_FILE
        from srmzoo.publish.cards import render_card

        adapter = tmp / "adapter"
        adapter.mkdir()
        meta = {"entry": "toy", "domain": "math", "lora": meta_lora,
                "base": {"name": "smollm2-135m", "hub_id": "HuggingFaceTB/SmolLM2-135M"}}
        (adapter / ADAPTER_META_FILE).write_text(json.dumps(meta))
        return _outcome(tmp, lambda: f"rendered {len(render_card(adapter))} characters")

    return run


def _hub_card_bomb(tmp: Path) -> str:
    """A README whose front matter is the billion laughs, committed to the test Hub, then asked for by
    the repo-info call every client makes (its ``cardData`` would be the expanded bomb, as JSON)."""
    import urllib.request

    from srmzoo.testing.hub_server import HubServer

    with HubServer(tokens={"hf_bomb": "bomber"}) as hub:
        hub.create_repo("bomber/laughs")
        hub.commit("bomber/laughs", {"README.md": f"---\n{LAUGHS}---\n# laughs\n".encode()})
        with urllib.request.urlopen(f"{hub.url}/api/models/bomber/laughs", timeout=10) as answer:
            info = json.loads(answer.read())
        return f"repo info: {answer.status}, cardData: {'present' if 'cardData' in info else 'none'}"


_TOO_DEEP = "nested deeper than 32 levels"

CASES = [
    Case(
        name="calculator-199-brackets",
        area="calculator",
        attack='calculate("(" * 199 + "1"): 200 characters, within the length limit, 199 brackets deep',
        expected=f"ToolError: {_TOO_DEEP}",
        run=lambda tmp: _calculated("(" * 199 + "1"),
    ),
    Case(
        name="tool-call-199-brackets",
        area="calculator",
        attack="the model closes a call of 199 brackets and a 1 (run_call, as decoding answers it)",
        expected="tool answer: ?",
        run=lambda tmp: f"tool answer: {run_call('(' * 199 + '1')}",
    ),
    Case(
        name="calculator-unicode-digits",
        area="calculator",
        attack="digits that are not ASCII: Arabic-Indic three plus full-width three (٣ + ３)",
        expected="calculate: ToolError: unexpected '٣ + ３' | tool answer: ?",
        run=_unicode_digits,
    ),
    Case(
        name="tool-call-at-a-nearly-full-stack",
        area="calculator",
        attack="a call 32 brackets deep closed while the decoding stack has 1-399 frames left, so the parser "
        "(or logging its failure) hits RecursionError",
        expected="exceptions once the call was read: 0; answers: ' = 1', ' = ?'",
        run=_call_at_full_stack,
    ),
    Case(
        name="recipe-alias-bomb",
        area="recipe",
        attack="a recipe file holding the billion laughs (9 levels of 9 aliases)",
        expected=f"SrmzooError: <tmp>/recipe.yaml: line 7: {ALIASES_REFUSED} (found &a)",
        run=lambda tmp: _load_recipe(tmp, _bomb_recipe()),
    ),
    Case(
        name="pulled-recipe-alias-bomb",
        area="pulled adapter",
        attack="a pulled adapter's recipe.yaml whose description is the billion laughs (read for its eval "
        "settings when the adapter is evaluated)",
        expected=f"SrmzooError: <tmp>/pulled-adapter/recipe.yaml: line 6: {ALIASES_REFUSED} (found &a)",
        run=_pulled_recipe_bomb,
    ),
    Case(
        name="recipe-self-alias-with-override",
        area="recipe",
        attack="a section that aliases itself (model: &m {loop: *m}) and a command-line override train.lr=1e-4",
        expected=f"SrmzooError: <tmp>/recipe.yaml: line 3: {ALIASES_REFUSED} (found &m)",
        run=lambda tmp: _load_recipe(
            tmp, "name: loop\ndomain: math\nmodel: &m\n  base: smollm2-135m\n  loop: *m\n", ["train.lr=1e-4"]
        ),
    ),
    Case(
        name="override-of-self-containing-data",
        area="recipe",
        attack="apply_overrides on recipe data (Python API) whose model section contains itself",
        expected=f"SrmzooError: <command line>: recipe data {_TOO_DEEP} (a value that contains itself?)",
        run=_override_of_self_containing_data,
    ),
    Case(
        name="recipe-override-alias",
        area="recipe",
        attack="an override whose value is itself a self-referential alias: train.lr='&a [*a]'",
        expected=f"SrmzooError: <command line>: override train.lr: line 1: {ALIASES_REFUSED} (found &a)",
        run=lambda tmp: _load_recipe(tmp, MINIMAL_RECIPE, ["train.lr=&a [*a]"]),
    ),
    Case(
        name="recipe-10000-levels",
        area="recipe",
        attack="a recipe value 10,000 brackets deep (PyYAML's composer recurses per level)",
        expected=f"SrmzooError: <tmp>/recipe.yaml: line 5: YAML {_TOO_DEEP}",
        run=lambda tmp: _load_recipe(tmp, MINIMAL_RECIPE + "description: " + "[" * 10_000 + "\n"),
    ),
    Case(
        name="recipe-over-1-mib",
        area="recipe",
        attack="a 2 MiB recipe file (refused by its size, before it is read)",
        expected=f"SrmzooError: <tmp>/recipe.yaml: {len(HUGE_RECIPE):,} bytes of YAML, more than the 1,048,576 a "
        "recipe may have",
        run=lambda tmp: _load_recipe(tmp, HUGE_RECIPE),
    ),
    Case(
        name="cli-dry-run-491-byte-bomb",
        area="cli",
        attack="srmzoo train bomb.yaml --dry-run on a 491-byte recipe whose description is the billion laughs",
        expected=f"491 bytes: exit 2; srmzoo: error: <tmp>/bomb.yaml: line 7: {ALIASES_REFUSED} (found &a) | "
        "output under 2,000 characters: yes",
        run=_cli_dry_run_bomb,
    ),
    Case(
        name="pulled-prompt-format-oversized-template",
        area="chat template",
        attack="a pulled adapter's srmzoo_prompt.json with a chat template of 64 KiB + 25 characters",
        expected="SrmzooError: <tmp>/srmzoo_prompt.json: chat_template is 65,561 characters, more than the 65,536 "
        "a prompt format may have",
        run=_pulled_oversized_template,
    ),
    Case(
        name="chat-template-oversized-render",
        area="chat template",
        attack="rendering a PromptFormat whose chat template is 64 KiB + 25 characters",
        expected="SrmzooError: the chat template is 65,561 characters, more than the 65,536 a prompt format may have",
        run=_oversized_template_render,
    ),
    Case(
        name="chat-template-nested-loops",
        area="chat template",
        attack="a template looping three deep over a 1,000-character question (10**9 iterations)",
        expected="SrmzooError: the chat template went past a render limit: more than 10,000 steps (loop "
        "iterations, calls, filters, range() items) | under 1 s: yes",
        run=_nested_loop_template,
    ),
    Case(
        name="card-empty-lora",
        area="model card",
        attack="render_card on an adapter whose srmzoo_adapter.json says lora: {}",
        expected="SrmzooError: <tmp>/adapter/srmzoo_adapter.json: lora.r, lora.alpha, lora.target_modules are "
        "missing; the model card states them",
        run=_card_of({}),
    ),
    Case(
        name="card-missing-weights",
        area="model card",
        attack="render_card on an adapter with complete metadata but no adapter_model.safetensors",
        expected="SrmzooError: adapter <tmp>/adapter is incomplete: adapter_model.safetensors is missing",
        run=_card_of({"r": 8, "alpha": 16, "target_modules": ["q_proj", "v_proj"]}),
    ),
    Case(
        name="hub-server-card-alias-bomb",
        area="hub server",
        attack="a README whose YAML front matter is the billion laughs, committed to the test Hub, then its "
        "repo info asked for",
        expected="repo info: 200, cardData: none",
        run=_hub_card_bomb,
    ),
]
