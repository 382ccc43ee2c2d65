"""Fixtures for tests that publish to or download from a Hugging Face Hub: a local `HubServer`.

tests/conftest.py makes them available to every test with::

    from conftest_hub import hub_defaults, hub_server  # noqa: F401  (pytest fixtures)

Point clients at the server explicitly (``HfApi(endpoint=hub_server.url, token=HUB_TOKEN)``,
``hf_hub_download(..., endpoint=hub_server.url)``), or ask for `hub_defaults` when the code under test
cannot take an endpoint (``ModelCard.push_to_hub``/``load``, module-level ``upload_file``).

PYTEST_DONT_REWRITE: there are no asserts here, and test modules import this module directly, so pytest
must not warn that it was imported before it could rewrite it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from srmzoo.testing.hub_server import HubServer

HUB_USER = "srmzoo-tester"
HUB_TOKEN = "hf_srmzoo_test_token"


@pytest.fixture
def hub_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """A running, empty local Hub with one user, ``HUB_USER``, whose write token is ``HUB_TOKEN``.

    Function-scoped: each test starts from an empty Hub (no repos, no tampering left by another test),
    and a server starts and stops in a few tens of milliseconds. Apart from lifting offline mode (below)
    it changes no default of huggingface_hub: clients must be given ``endpoint=hub_server.url``.
    """
    import huggingface_hub.constants as hf_constants

    # HF_HUB_OFFLINE=1 (read once, at import) makes huggingface_hub refuse every request, this local
    # server's included; lift it for this test only (monkeypatch puts it back).
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    with HubServer(tokens={HUB_TOKEN: HUB_USER}) as server:
        yield server


@pytest.fixture
def hub_defaults(hub_server: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """`hub_server`, also made huggingface_hub's default Hub, token and cache for this one test.

    For code that does not take an endpoint: ``ModelCard.push_to_hub``/``load``/``validate``, the
    module-level ``upload_file``/``hf_hub_download`` without ``endpoint=``, ``HfApi()``. The cache is a
    fresh folder under ``tmp_path``, so nothing is written to the developer's ~/.cache.
    """
    patch_hub_defaults(monkeypatch, hub_server.url, token=HUB_TOKEN, cache_dir=tmp_path / "hf-cache")
    return hub_server


def patch_hub_defaults(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, *, token: str, cache_dir: Path | str
) -> None:
    """Make huggingface_hub use ``endpoint``, ``token`` and ``cache_dir`` wherever a call names none.

    HF_ENDPOINT and HF_HUB_CACHE are read once, when huggingface_hub is imported, so setting those
    environment variables now would change nothing: the module attributes that captured them are patched
    instead, through ``monkeypatch`` so they come back after the test. HF_TOKEN is read on every call, so
    the environment variable is enough; it also keeps a developer's real token out of test requests.

    Args:
        monkeypatch: The test's monkeypatch (or a ``pytest.MonkeyPatch.context()``).
        endpoint: The local Hub's URL.
        token: The token that requests without one should carry.
        cache_dir: Where downloads without ``cache_dir=`` should go.

    >>> import huggingface_hub.constants as hf_constants
    >>> before = hf_constants.ENDPOINT
    >>> with pytest.MonkeyPatch.context() as mp:
    ...     patch_hub_defaults(mp, "http://127.0.0.1:1", token="hf_x", cache_dir="/tmp/hf-cache")
    ...     hf_constants.ENDPOINT
    'http://127.0.0.1:1'
    >>> hf_constants.ENDPOINT == before
    True
    """
    import huggingface_hub.constants as hf_constants
    import huggingface_hub.hf_api as hf_api

    monkeypatch.setattr(hf_constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(
        hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    )
    # upload_file, model_info, ... at module level are methods of one HfApi built at import time.
    monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache_dir))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", token)
