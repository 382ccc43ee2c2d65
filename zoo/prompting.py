"""Prompt formats: how a conversation becomes the exact text a model sees.

Every base renders through a Jinja chat template, so training and inference build prompts with one code
path (``tokenizer.apply_chat_template``). Bases without a template of their own (Gemma-3-270M is a
pretrained, not instruction-tuned, model) get :data:`PLAIN_CHAT_TEMPLATE`, a documented plain-text format::

    <system prompt>

    Question: <user message>
    Answer: <assistant message><eos>

A :class:`PromptFormat` (template + system prompt + few-shot turns) is saved beside every adapter as
``srmzoo_prompt.json``, so loading an adapter never guesses how it was prompted.

A chat template is code from wherever the adapter came from, so srmzoo renders it itself
(:func:`render_chat_template`), in the environment transformers' ``apply_chat_template`` builds (an
``ImmutableSandboxedEnvironment`` with the same options, globals and filters, so a template renders to
the same text) but within limits: at most 64 KiB of template, 10,000 steps (loop iterations, calls,
filters, ``range()`` items), 8 Mi characters of text built and one second per prompt. A template past a
limit is one :class:`~srmzoo.errors.SrmzooError`, not minutes of CPU or gigabytes of memory.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.ext import Extension, loopcontrols
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

from .errors import SrmzooError, UnknownNameError
from .tools import check_tools

__all__ = [
    "MAX_RENDER_CHARS",
    "MAX_RENDER_SECONDS",
    "MAX_RENDER_STEPS",
    "MAX_TEMPLATE_CHARS",
    "PLAIN_CHAT_TEMPLATE",
    "PROMPT_FILE",
    "PromptFormat",
    "render_chat_template",
]

PROMPT_FILE = "srmzoo_prompt.json"
MAX_PROMPT_FILE_BYTES = 4 << 20  # a template and a few worked examples
MAX_TEMPLATE_CHARS = 64 * 1024  # the shipped bases' templates are 0.3-4 KiB
MAX_RENDER_STEPS = 10_000  # a conversation of a dozen turns takes about a hundred
MAX_RENDER_CHARS = 8 << 20  # text built (output, joins, filter results): far past any context length
MAX_RENDER_SECONDS = 1.0
MAX_INT_ARGUMENT = 100_000  # jinja's own range() cap
MAX_INT_BITS = 4096
_WEIGH_VISITS = 100_000

PLAIN_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{{ message['content'] + '\\n\\n' }}"
    "{%- elif message['role'] == 'user' -%}{{ 'Question: ' + message['content'] + '\\n' }}"
    "{%- elif message['role'] == 'assistant' -%}{{ 'Answer: ' + message['content'] + eos_token + '\\n\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Answer:' }}{%- endif -%}"
)


@dataclass(frozen=True)
class PromptFormat:
    """How a problem is put to a model.

    Attributes:
        chat_template: Jinja template (the base's own, or :data:`PLAIN_CHAT_TEMPLATE`).
        system_prompt: instruction sent as the system turn; None sends none.
        few_shot: worked examples as (user, assistant) pairs placed before the question.
        tools: tools the model was trained to call (:mod:`srmzoo.tools`); generation answers their calls.

    >>> fmt = PromptFormat(chat_template=PLAIN_CHAT_TEMPLATE, system_prompt="Be brief.")
    >>> fmt.messages("2+2?")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': '2+2?'}]
    """

    chat_template: str
    system_prompt: str | None = None
    few_shot: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    tools: tuple[str, ...] = ()

    def messages(self, question: str) -> list[dict[str, str]]:
        """The conversation for one question: system turn, few-shot turns, then the question."""
        msgs: list[dict[str, str]] = []
        if self.system_prompt:
            msgs.append({"role": "system", "content": self.system_prompt})
        for user, assistant in self.few_shot:
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        msgs.append({"role": "user", "content": question})
        return msgs

    def render(self, tokenizer: Any, messages: list[dict[str, str]], *, add_generation_prompt: bool = True) -> str:
        """The exact prompt text, through the one template training also uses.

        The template sees the tokenizer's special tokens (``bos_token``, ``eos_token``, ...) as
        ``apply_chat_template`` shows them, and renders within the limits of :func:`render_chat_template`.
        A tokenizer without ``special_tokens_map`` (a test's stand-in) renders with its own
        ``apply_chat_template``.

        Raises:
            SrmzooError: a template over 64 KiB, past a render limit, or failing (``raise_exception``, a
                syntax error, an undefined operation).
        """
        special = getattr(tokenizer, "special_tokens_map", None)
        if not isinstance(special, dict):
            _check_template_size(self.chat_template, "the chat template")
            return tokenizer.apply_chat_template(
                messages, chat_template=self.chat_template, tokenize=False, add_generation_prompt=add_generation_prompt
            )
        return render_chat_template(self.chat_template, messages, add_generation_prompt=add_generation_prompt,
                                    **special)

    def with_few_shot(self, examples: list[tuple[str, str]]) -> PromptFormat:
        return replace(self, few_shot=tuple((u, a) for u, a in examples))

    @classmethod
    def for_tokenizer(cls, tokenizer: Any, system_prompt: str | None = None) -> PromptFormat:
        """The format a tokenizer implies: its own chat template, else the plain one."""
        return cls(chat_template=tokenizer.chat_template or PLAIN_CHAT_TEMPLATE, system_prompt=system_prompt)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["few_shot"] = [list(pair) for pair in self.few_shot]
        data["tools"] = list(self.tools)
        return data

    def save(self, directory: str | Path) -> Path:
        """Write ``srmzoo_prompt.json`` into ``directory``."""
        path = Path(directory) / PROMPT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> PromptFormat:
        """Read ``srmzoo_prompt.json`` from ``directory``."""
        path = Path(directory) / PROMPT_FILE
        try:
            size = path.stat().st_size
            if size > MAX_PROMPT_FILE_BYTES:
                raise SrmzooError(f"{path} is {size:,} bytes, more than the {MAX_PROMPT_FILE_BYTES:,} a prompt "
                                  "format may have", hint="re-download or retrain the adapter")
            data = json.loads(path.read_text())
            if not isinstance(data.get("chat_template"), str):
                raise TypeError("chat_template is not a string")
            _check_template_size(data["chat_template"], f"{path}: chat_template")
            return cls(
                chat_template=data["chat_template"],
                system_prompt=data.get("system_prompt"),
                few_shot=tuple(tuple(pair) for pair in data.get("few_shot", [])),
                tools=check_tools(data.get("tools", [])),
            )
        except UnknownNameError as err:
            raise SrmzooError(
                f"{path} needs a tool this srmzoo does not have: {err.message}",
                hint="upgrade srmzoo (pip install -U srmzoo)",
            ) from None
        except FileNotFoundError:
            raise SrmzooError(
                f"no prompt format at {path}", hint="the adapter was not saved by srmzoo; retrain or copy the file"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise SrmzooError(f"corrupted prompt format {path}: {str(err)[:200]}",
                              hint="re-download or retrain the adapter") from None


# ------------------------------------------------------------------------------ bounded template rendering


class _RenderLimit(Exception):
    """A chat template went past one of the render limits."""


@dataclass
class _Budget:
    """What one render may still spend; every loop iteration, call, filter and operator draws on it."""

    steps: int = MAX_RENDER_STEPS
    chars: int = MAX_RENDER_CHARS
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_RENDER_SECONDS)

    def step(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise _RenderLimit(f"more than {MAX_RENDER_STEPS:,} steps (loop iterations, calls, filters, range() "
                               "items)")
        if time.monotonic() > self.deadline:
            raise _RenderLimit(f"more than {MAX_RENDER_SECONDS:g} s")

    def allow(self, chars: int) -> None:
        """Refuse an operation before it runs when it could build more text than is left."""
        if chars > self.chars:
            raise _RenderLimit(f"more than {MAX_RENDER_CHARS:,} characters of text")

    def spend(self, chars: int) -> None:
        self.allow(chars)
        self.chars -= chars


_BUDGET: ContextVar[_Budget | None] = ContextVar("srmzoo_chat_template_budget", default=None)


def _active() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:  # jinja folding a constant at compile time: it has to wait for the render
        raise _RenderLimit("outside a bounded render")
    return budget


def _weigh(value: Any) -> int:
    """How many characters ``value`` can turn into: string lengths, summed through lists, tuples and dicts
    (a shared element counts each time, as ``join`` or ``tojson`` would write it). Past
    :data:`MAX_RENDER_CHARS`, or too many elements to count, it is just "too many"."""
    total, stack, visits = 0, [value], 0
    while stack and total <= MAX_RENDER_CHARS:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            visits += len(item)
            if visits > _WEIGH_VISITS:
                return MAX_RENDER_CHARS + 1
            total += len(item)
            stack.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 1
    return total


_INLINE_NUMBER = re.compile(r"[0-9]+")


def _guard(budget: _Budget, subject: Any, others: Iterable[Any], *, format_string: str | None = None) -> None:
    """An operation may not ask for more text than is left, before it runs. Its result is bounded by its
    subject (the string or list it works on) times 1 + the largest of its other arguments (a number such
    as a width, or the length of a string such as replace's new text; a width written in a format string
    included), plus those arguments."""
    others = list(others)
    numbers = [abs(a) for a in others if isinstance(a, int) and not isinstance(a, bool)]
    if format_string is not None:
        for digits in _INLINE_NUMBER.findall(format_string):
            if len(digits) > 6:
                raise _RenderLimit(f"a width of {len(digits)} digits in a format string")
            numbers.append(int(digits))
    largest = max(numbers, default=0)
    if largest > MAX_INT_ARGUMENT:
        raise _RenderLimit(f"an argument of {largest:,}, more than {MAX_INT_ARGUMENT:,}")
    weights = [_weigh(a) for a in others]
    texts = [w for a, w in zip(others, weights) if isinstance(a, str)]
    budget.allow(_weigh(subject) * (1 + max(largest, *texts, 0)) + sum(weights))


def _spend_result(budget: _Budget, result: Any) -> Any:
    if isinstance(result, (str, list, tuple, dict)):
        budget.spend(_weigh(result))
    return result


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _active()
    for item in iterable:
        budget.step()
        yield item


@jinja2.pass_context
def _loop_filter(context: Any, iterable: Any) -> Iterator[Any]:
    return _counted(iterable)


@jinja2.pass_context
def _output_filter(context: Any, value: Any) -> Any:
    _active().spend(_weigh(value))
    return value


@jinja2.pass_context
def _text_filter(context: Any, value: Any) -> Any:
    return _spend_result(_active(), value)


_INTERNAL_FILTERS = {"_srmzoo_loop": _loop_filter, "_srmzoo_output": _output_filter, "_srmzoo_text": _text_filter}


def _wrapped(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Metering(NodeTransformer):
    """Routes every loop's iterable, every piece of output and every ``~`` through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = _wrapped(node.iter, "_srmzoo_loop")
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Output:
        self.generic_visit(node)
        node.nodes = [_wrapped(child, "_srmzoo_output") for child in node.nodes]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        self.generic_visit(node)
        return _wrapped(node, "_srmzoo_text")


class _MeteredCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        _Metering().visit(node)
        super().visit_Template(node, frame)


def _bounded_filter(name: str, func: Any) -> Any:
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # the context jinja passes first

    @functools.wraps(func)  # keeps jinja's pass_context / pass_eval_context marker
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _active()
        budget.step()
        subject = args[skip] if len(args) > skip else None
        formats = name == "format" and isinstance(subject, str)
        _guard(budget, subject, [*args[skip + 1 :], *kwargs.values()], format_string=subject if formats else None)
        return _spend_result(budget, func(*args, **kwargs))

    return bounded


class _TemplateDict:
    """``dict`` in a template, as transformers gives it (no access to the type itself)."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict:
        return dict.fromkeys(*args, **kwargs)


class _TemplateNamespace(jinja2.utils.Namespace):
    """``namespace`` in a template, as transformers gives it: no underscore-prefixed attributes."""

    def __init__(*args: Any, **kwargs: Any) -> None:  # noqa: N805 — jinja's signature trick: namespace(self=...)
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            _TemplateNamespace._check_name(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        _TemplateNamespace._check_name(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check_name(name: Any) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise SecurityError(f"chat templates cannot store underscore-prefixed attributes on a namespace: {name!r}")


class _GenerationTag(Extension):
    """``{% generation %}...{% endgeneration %}``, which marks assistant text for transformers' assistant
    masks; rendering it is rendering its body."""

    tags = {"generation"}

    def parse(self, parser: Any) -> nodes.CallBlock:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller: Any) -> str:
        return caller()


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    # transformers' tojson: no HTML escaping, and its options
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format: str) -> str:  # noqa: A002 — the name templates call it with
    return datetime.now().strftime(format)


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """transformers' chat-template environment (same options, globals and filters), metered."""

    code_generator_class = _MeteredCodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self) -> None:
        # optimized=False: nothing of the template is evaluated while it compiles
        super().__init__(trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, loopcontrols],
                         optimized=False)
        self.filters["tojson"] = _tojson
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters.update(_INTERNAL_FILTERS)
        self.globals.pop("lipsum", None)  # random text: a prompt is deterministic
        self.globals.update(range=self._range, raise_exception=_raise_exception, strftime_now=_strftime_now,
                            dict=_TemplateDict(), namespace=_TemplateNamespace)

    @staticmethod
    def _range(*args: int) -> range:
        numbers = range(*args)
        _active().step(len(numbers))
        return numbers

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = _active()
        budget.step()
        if isinstance(__obj, LoopContext) and args:  # loop(children) in a recursive loop
            args = (_counted(args[0]), *args[1:])
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        owner = owner if isinstance(owner, (str, list, tuple, dict)) else None
        formats = isinstance(owner, str) and getattr(target, "__name__", "") in ("format", "format_map")
        _guard(budget, owner, [*args, *kwargs.values()], format_string=owner if formats else None)
        return _spend_result(budget, super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _active()
        budget.step()
        ints = all(isinstance(x, int) and not isinstance(x, bool) for x in (left, right))
        if ints and operator == "*" and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _RenderLimit(f"a product of more than {MAX_INT_BITS} bits")
        if ints and operator == "**" and abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise _RenderLimit(f"a power of more than {MAX_INT_BITS} bits")
        if operator == "*" and not ints:
            count = next((x for x in (left, right) if isinstance(x, int) and not isinstance(x, bool)), 1)
            budget.allow((_weigh(left) + _weigh(right)) * max(count, 1))
        elif operator == "+":
            budget.allow(_weigh(left) + _weigh(right))
        elif operator == "%" and isinstance(left, str):
            _guard(budget, left, right if isinstance(right, tuple) else [right], format_string=left)
        return _spend_result(budget, super().call_binop(context, operator, left, right))


@functools.lru_cache(maxsize=1)
def _environment() -> _BoundedEnvironment:
    return _BoundedEnvironment()


@functools.lru_cache(maxsize=32)
def _compile(template: str) -> jinja2.Template:
    return _environment().from_string(template)


def _check_template_size(template: str, what: str) -> None:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise SrmzooError(
            f"{what} is {len(template):,} characters, more than the {MAX_TEMPLATE_CHARS:,} a prompt format may have",
            hint="a chat template is a few kilobytes; re-download or retrain the adapter, or use the base's template",
        )


def _template_failed(message: str) -> SrmzooError:
    return SrmzooError(message, hint="the chat template is broken or hostile; re-download or retrain the adapter, "
                                     "or use the base's own template")


def render_chat_template(template: str, messages: list[dict[str, Any]], *, add_generation_prompt: bool = True,
                         **variables: Any) -> str:
    """Render a chat template as ``tokenizer.apply_chat_template(..., tokenize=False)`` does, within limits.

    The template sees ``messages``, ``add_generation_prompt``, ``tools`` and ``documents`` (None) and
    ``variables`` (the tokenizer's special tokens), in transformers' sandboxed environment, metered: at most
    :data:`MAX_TEMPLATE_CHARS` characters of template, :data:`MAX_RENDER_STEPS` steps,
    :data:`MAX_RENDER_CHARS` characters of text and :data:`MAX_RENDER_SECONDS` per render.

    >>> render_chat_template(PLAIN_CHAT_TEMPLATE, [{"role": "user", "content": "2+2?"}], eos_token="</s>")
    'Question: 2+2?\\nAnswer:'
    >>> render_chat_template("{% for i in range(200) %}{% for j in range(200) %}.{% endfor %}{% endfor %}", [])
    Traceback (most recent call last):
    ...
    srmzoo.errors.SrmzooError: the chat template went past a render limit: more than 10,000 steps (loop iterations, calls, filters, range() items)
      hint: the chat template is broken or hostile; re-download or retrain the adapter, or use the base's own template

    Raises:
        SrmzooError: a template over the size limit, past a render limit, with a syntax error, or raising
            (``raise_exception``, an undefined name, a refused operation).
    """
    _check_template_size(template, "the chat template")
    try:
        compiled = _compile(template)
    except jinja2.TemplateSyntaxError as err:
        raise _template_failed(f"the chat template is not valid Jinja (line {err.lineno}): {str(err)[:200]}") from None
    except RecursionError:
        raise _template_failed("the chat template is nested too deeply to compile") from None
    chat = [{k: v for k, v in message.items() if v is not None} for message in messages]
    token = _BUDGET.set(_Budget())
    try:
        return compiled.render(messages=chat, tools=None, documents=None, add_generation_prompt=add_generation_prompt,
                               **variables)
    except _RenderLimit as err:
        raise _template_failed(f"the chat template went past a render limit: {err}") from None
    except Exception as err:  # noqa: BLE001 — the template is untrusted code: whatever it raises is its failure
        raise _template_failed(f"the chat template failed: {type(err).__name__}: {str(err)[:200]}") from None
    finally:
        _BUDGET.reset(token)


def prompt_completion_ids(tokenizer: Any, fmt: PromptFormat, question: str, answer: str) -> tuple[list[int], list[int]]:
    """The token ids of ``question``'s prompt in ``fmt`` and of ``answer`` as the assistant turn the template
    renders after it (end of turn included): what training learns and what a likelihood scores.

    Raises:
        SrmzooError: a template that renders the prompt differently once an answer follows, or that alters the
            assistant's text (training and inference would see different things).
    """
    messages = fmt.messages(question)
    prompt = fmt.render(tokenizer, messages, add_generation_prompt=True)
    full = fmt.render(tokenizer, [*messages, {"role": "assistant", "content": answer}], add_generation_prompt=False)
    if not full.startswith(prompt):
        raise SrmzooError(
            "the chat template renders the prompt differently once an answer follows, so training and "
            "inference would see different prompts",
            hint="use a template whose generation prompt is a prefix of the full conversation",
        )
    completion = full[len(prompt):]
    if answer not in completion:
        raise SrmzooError(
            "the chat template alters the assistant's text (e.g. strips <think> reasoning), so the "
            "reasoning would not be trained on",
            hint="use a template that keeps the assistant message verbatim",
        )
    return (tokenizer(prompt, add_special_tokens=False)["input_ids"],
            tokenizer(completion, add_special_tokens=False)["input_ids"])
