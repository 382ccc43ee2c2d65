"""The command line: help everywhere, one clear error per bad input, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from srmzoo.cli import COMMANDS, build_parser, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "srmzoo.cli", *args], capture_output=True, text=True, timeout=300)


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"bases", "chat", "demo", "train", "eval"}
    for name in sub.choices:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        assert "usage: srmzoo" in capsys.readouterr().out


def test_every_command_has_exactly_one_parser():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(sub.choices) == ["bases", "chat", "train", "distill", "eval", "forgetting", "data", "demo", "list", "rewards", "verifiers",
                                 "solve", "card", "export", "reproduce", "publish", "pull", "serve"]  # --help's order
    assert set(sub.choices) == set(COMMANDS)
    assert build_parser().parse_args(["list"]).all is False
    assert build_parser().parse_args(["list", "--all"]).all is True
    assert build_parser().parse_args(["bases", "install", "qwen2.5-coder-0.5b-instruct"]).bases_action == "install"
    assert build_parser().parse_args(["serve", "math-135m"]).command == "serve"


def test_bases_lists_every_base(capsys):
    from srmzoo.bases import BASES

    assert main(["bases"]) == 0
    out = capsys.readouterr().out
    for name in BASES:
        assert name in out


def test_unknown_base_is_one_line_error_without_traceback():
    proc = run_cli("chat", "smollm3-135m", "hi")
    assert proc.returncode == 2
    assert "srmzoo: error: unknown base 'smollm3-135m'" in proc.stderr
    assert "Traceback" not in proc.stderr
