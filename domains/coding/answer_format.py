r"""How a coding completion states its answer, and the format checks behind ``coding_format``.

There are two answer forms, one per kind of task (``meta["answer_kind"]``):

* ``"code"`` (``function_synthesis``, ``bug_fix``, HumanEval, MBPP): the **last** fenced code block
  labelled ``python`` (``py`` and ``python3`` are accepted too) in the completion. This is the one
  exception in srmzoo to the ``\boxed{...}`` convention: a function does not fit in a box (it has
  braces and newlines of its own), and a fenced block is what instruction-tuned models already write.
  Earlier blocks (a draft, a quoted line) do not count; an unclosed block (a completion cut off by the
  length limit) is no answer.
* ``"output"`` (``output_prediction``): the content of the last ``\boxed{...}``, compared as text after
  :func:`normalise_output`.
"""

from __future__ import annotations

import ast
import re

from srmzoo.domain import sole_boxed

__all__ = [
    "CODE_BLOCK",
    "ends_with_code_block",
    "ends_with_one_boxed_answer",
    "extract_code",
    "normalise_output",
    "python_block",
]

CODE_BLOCK = re.compile(r"```(?:python3?|py)[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)

def python_block(code: str) -> str:
    """``code`` as the fenced block a solution ends with.

    >>> print(python_block("x = 1"))
    ```python
    x = 1
    ```
    """
    return f"```python\n{code.rstrip()}\n```"


def extract_code(completion: str) -> str | None:
    """The code of the last closed ```` ```python ```` block, or None when there is none (or it is blank).

    >>> extract_code("draft:\\n```python\\nx = 1\\n```\\nfinal:\\n```python\\nx = 2\\n```")
    'x = 2\\n'
    >>> extract_code("```python\\nx = 1") is None  # cut off before the closing fence
    True
    """
    blocks = CODE_BLOCK.findall(completion)
    if not blocks or not blocks[-1].strip():
        return None
    return blocks[-1]


def normalise_output(text: str) -> str:
    """Printed output as it is compared: line endings unified, trailing whitespace of each line and
    surrounding blank lines dropped (``print`` adds a newline that a boxed answer does not show).

    >>> normalise_output("10 15  \\r\\n\\n")
    '10 15'
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n").strip()


def ends_with_code_block(completion: str) -> bool:
    """True when the completion ends with a closed ```` ```python ```` block whose code parses.

    >>> ends_with_code_block("Loop and add.\\n```python\\ndef f(x):\\n    return x\\n```")
    True
    >>> ends_with_code_block("```python\\ndef f(x) return x\\n```"), ends_with_code_block("```python\\nx = 1\\n```\\nmore")
    (False, False)
    """
    matches = list(CODE_BLOCK.finditer(completion))
    if not matches or completion[matches[-1].end() :].strip():
        return False
    code = matches[-1].group(1)
    if not code.strip():
        return False
    try:
        ast.parse(code)
    except Exception:  # SyntaxError, and ValueError / RecursionError / MemoryError on pathological input
        return False
    return True


def ends_with_one_boxed_answer(completion: str) -> bool:
    r"""True when the completion holds exactly one closed, non-empty ``\boxed{}`` and only punctuation follows.

    >>> ends_with_one_boxed_answer(r"y = 19. The output is \boxed{19}.")
    True
    >>> ends_with_one_boxed_answer(r"\boxed{18} no, \boxed{19}"), ends_with_one_boxed_answer(r"\boxed{19} because")
    (False, False)
    """
    # what may follow a final boxed output: closing punctuation and whitespace, nothing that adds an answer
    return bool(sole_boxed(completion, trailing=".!)]"))
