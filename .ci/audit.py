"""Check the locked dependencies for known vulnerabilities with pip-audit (``make audit``).

pip-audit asks a vulnerability database: PyPI's first, OSV's if PyPI's answered for no
package. A vulnerability found fails (exit 1), and so does pip-audit failing for any other
reason than the network. When no database can be reached, or none knows any of the
packages, the check says so and passes: CI on a machine without that service must not fail
for that reason alone, and the check runs for real wherever the service answers.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SERVICES = ("pypi", "osv")
#: What pip-audit's error output shows when the service could not be asked at all.
NETWORK_ERRORS = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "NameResolutionError",
    "Max retries exceeded",
    "Failed to resolve",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "timed out",
)


@dataclasses.dataclass
class Outcome:
    """What one vulnerability service said about the lock."""

    service: str
    vulnerable: list[str] = dataclasses.field(default_factory=list)
    audited: int = 0
    skipped: int = 0
    unreachable: str | None = None  # why the service could not be used
    failed: str | None = None  # pip-audit failed for another reason


def read(service: str, returncode: int, report: str | None, stderr: str) -> Outcome:
    """Classify one pip-audit run from its exit status, JSON report and error output."""
    outcome = Outcome(service)
    if report is None or not report.strip():
        last = (stderr.strip().splitlines() or ["no output"])[-1][:300]
        if any(marker in stderr for marker in NETWORK_ERRORS):
            outcome.unreachable = f"could not reach the service ({last})"
        else:
            outcome.failed = f"pip-audit failed (exit {returncode}): {last}"
        return outcome
    for dependency in json.loads(report).get("dependencies", []):
        if "skip_reason" in dependency:
            outcome.skipped += 1
            continue
        outcome.audited += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            outcome.vulnerable.append(
                f"{dependency['name']} {dependency.get('version', '?')}: {vuln.get('id')} "
                f"(fixed in {fixes})"
            )
    if outcome.vulnerable:
        return outcome
    if returncode != 0:
        outcome.failed = f"pip-audit exited {returncode} without naming a vulnerability"
    elif outcome.audited == 0:
        outcome.unreachable = f"the service knew none of the {outcome.skipped} packages"
    return outcome


def verdict(outcomes: list[Outcome]) -> tuple[int, list[str]]:
    """The exit status and the lines to print for the runs so far."""
    lines: list[str] = []
    for outcome in outcomes:
        if outcome.vulnerable:
            lines.append(f"audit: known vulnerabilities ({outcome.service}):")
            lines += [f"  {line}" for line in outcome.vulnerable]
            return 1, lines
        if outcome.failed:
            return 1, [*lines, f"audit: {outcome.failed}"]
        if outcome.unreachable is None:
            skipped = f", {outcome.skipped} not known to it" if outcome.skipped else ""
            note = f"{outcome.audited} packages checked{skipped}"
            return 0, [*lines, f"audit: no known vulnerabilities ({outcome.service}: {note})"]
        lines.append(f"audit: {outcome.service}: {outcome.unreachable}")
    lines.append(
        "audit: WARNING: no vulnerability database could be used here; the lock was NOT "
        "checked (not a failure: run `make audit` where the service can be reached)"
    )
    return 0, lines


def run(service: str, lock: Path) -> Outcome:
    """Run pip-audit on the pinned, hashed requirements of ``lock`` (nothing is installed)."""
    pip_audit = Path(sys.executable).parent / "pip-audit"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.json"
        done = subprocess.run(
            [
                str(pip_audit),
                "--requirement",
                str(lock),
                "--require-hashes",
                "--disable-pip",
                "--vulnerability-service",
                service,
                "--format",
                "json",
                "--output",
                str(out),
                "--progress-spinner",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        report = out.read_text(encoding="utf-8") if out.exists() else None
    return read(service, done.returncode, report, done.stderr)


def main(argv: list[str]) -> int:
    lock = Path(argv[0] if argv else "requirements-dev.lock")
    outcomes: list[Outcome] = []
    for service in SERVICES:
        outcomes.append(run(service, lock))
        status, lines = verdict(outcomes)
        if status or outcomes[-1].unreachable is None:
            break
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
