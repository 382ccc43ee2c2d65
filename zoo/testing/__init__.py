"""Test infrastructure that ships with srmzoo, so downstream projects can test against it too.

Everything here uses only the standard library (plus PyYAML, which ``huggingface_hub`` already requires,
imported lazily where model-card metadata is read).

>>> from srmzoo.testing import HubServer
>>> HubServer.__name__
'HubServer'
"""

from __future__ import annotations

from .hub_server import HubRequest, HubServer

__all__ = ["HubRequest", "HubServer"]
