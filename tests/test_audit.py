"""`make audit`: a vulnerability found fails; a database out of reach only warns."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from types import ModuleType

from tests.conftest import ROOT


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


audit = _audit()

OFFLINE = """Traceback (most recent call last):
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='db', port=443): Max retries
exceeded with url: /v1/query (Caused by NameResolutionError("Failed to resolve 'db'"))"""


def report(*dependencies: dict[str, object]) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


VULNERABLE = {
    "name": "aiohttp",
    "version": "3.9.0",
    "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.9.2"], "aliases": [], "description": ""}],
}
CLEAN = {"name": "babel", "version": "2.19.0", "vulns": []}
UNKNOWN = {"name": "uv", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def test_a_vulnerability_fails_even_when_another_service_was_out_of_reach() -> None:
    offline = audit.read("pypi", 1, None, OFFLINE)
    found = audit.read("osv", 1, report(VULNERABLE, CLEAN, UNKNOWN), "")
    status, lines = audit.verdict([offline, found])
    assert status == 1
    assert "aiohttp 3.9.0: GHSA-xxxx (fixed in 3.9.2)" in "\n".join(lines)


def test_no_database_reachable_warns_and_passes() -> None:
    offline = audit.read("osv", 1, None, OFFLINE)
    knows_nothing = audit.read("pypi", 0, report(UNKNOWN, {**UNKNOWN, "name": "pip"}), "")
    assert knows_nothing.unreachable and offline.unreachable
    status, lines = audit.verdict([knows_nothing, offline])
    assert status == 0
    assert re.search(r"WARNING: .*NOT checked", lines[-1])


def test_a_clean_lock_passes_and_other_failures_fail() -> None:
    status, lines = audit.verdict([audit.read("pypi", 0, report(CLEAN, UNKNOWN), "")])
    assert status == 0 and "1 packages checked, 1 not known to it" in lines[-1]
    broken = audit.read("pypi", 2, None, "ERROR: invalid requirement: 'aiohttp=='")
    assert audit.verdict([broken])[0] == 1  # not the network: the lock itself is wrong
    assert audit.verdict([audit.read("pypi", 1, report(CLEAN), "")])[0] == 1
