"""Prompt formats: how a conversation becomes the exact text a model sees.

Every base renders through a Jinja chat template, so training and inference build prompts with one code
path (``tokenizer.apply_chat_template``). Bases without a template of their own (Gemma-3-270M is a
pretrained, not instruction-tuned, model) get :data:`PLAIN_CHAT_TEMPLATE`, a documented plain-text format::

    <system prompt>

    Question: <user message>
    Answer: <assistant message><eos>

A :class:`PromptFormat` (template + system prompt + few-shot turns) is saved beside every adapter as
``srmzoo_prompt.json``, so loading an adapter never guesses how it was prompted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import SrmzooError, UnknownNameError
from .tools import check_tools

__all__ = ["PLAIN_CHAT_TEMPLATE", "PROMPT_FILE", "PromptFormat"]

PROMPT_FILE = "srmzoo_prompt.json"

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
        """The exact prompt text, through the one template training also uses."""
        return tokenizer.apply_chat_template(
            messages, chat_template=self.chat_template, tokenize=False, add_generation_prompt=add_generation_prompt
        )

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
            data = json.loads(path.read_text())
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
        except (ValueError, KeyError, TypeError) as err:
            raise SrmzooError(f"corrupted prompt format {path}: {err}", hint="re-download or retrain the adapter") from None
