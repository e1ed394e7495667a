"""js/: the npm package of warden.js, the same file the Python package ships.

Node's test runner runs the package's own tests; these tests also prove the two copies of warden.js
cannot drift, that the npm version is the Python version, and that ``npm install ./js`` works.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from packaging.version import Version

import channels_warden

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "js"
SHIPPED = ROOT / "src" / "channels_warden" / "static" / "channels_warden" / "warden.js"


def semver(version: str) -> str:
    """PEP 440 to semver: 0.1.0.dev0 is 0.1.0-dev.0, 1.2.0rc1 is 1.2.0-rc.1."""
    parsed = Version(version)
    release = ".".join(map(str, (*parsed.release, 0, 0)[:3]))
    if parsed.pre is not None:
        label = {"a": "alpha", "b": "beta", "rc": "rc"}[parsed.pre[0]]
        return f"{release}-{label}.{parsed.pre[1]}"
    if parsed.dev is not None:
        return f"{release}-dev.{parsed.dev}"
    return release


def npm_env(tmp_path: Path) -> dict[str, str]:
    """npm with a private cache and no registry traffic (audit, funding, update checks)."""
    return {
        **os.environ,
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "npm_config_offline": "true",
    }


def test_npm_module_is_the_file_the_python_package_ships() -> None:
    """js/warden.js and the static file are byte-identical (fix: cp the static file to js/)."""
    assert (JS / "warden.js").read_bytes() == SHIPPED.read_bytes(), (
        "js/warden.js drifted: cp src/channels_warden/static/channels_warden/warden.js js/warden.js"
    )


def test_semver_mapping() -> None:
    """The PEP 440 forms the project uses map to valid semver."""
    assert [semver(v) for v in ("0.1.0.dev0", "0.1.0", "1.2.0rc1", "2.0b3", "1.0a1")] == [
        "0.1.0-dev.0",
        "0.1.0",
        "1.2.0-rc.1",
        "2.0.0-beta.3",
        "1.0.0-alpha.1",
    ]


def test_npm_version_is_the_python_version() -> None:
    """package.json's version is channels_warden.__version__ in semver."""
    package = json.loads((JS / "package.json").read_text())
    assert package["version"] == semver(channels_warden.__version__) == "0.1.0-dev.0"


def test_node_test_runner_passes() -> None:
    """`node --test` in js/ runs the package's tests, and none fails."""
    result = subprocess.run(
        ["node", "--test"], cwd=JS, capture_output=True, text=True, timeout=60, check=False
    )
    counts = dict(re.findall(r"^# (pass|fail|cancelled|skipped|todo) (\d+)$", result.stdout, re.MULTILINE))
    assert (result.returncode, counts) == (
        0,
        {"pass": counts.get("pass"), "fail": "0", "cancelled": "0", "skipped": "0", "todo": "0"},
    ), result.stdout + result.stderr
    assert int(counts["pass"]) >= 9


def test_npm_pack_ships_the_module_its_types_and_readme(tmp_path: Path) -> None:
    """The tarball npm would publish holds warden.js, warden.d.ts, README.md and package.json only."""
    result = subprocess.run(
        ["npm", "pack", "--dry-run", "--json"],
        cwd=JS,
        env=npm_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (packed,) = json.loads(result.stdout)
    assert (packed["name"], packed["version"]) == ("channels-warden", "0.1.0-dev.0")
    assert sorted(entry["path"] for entry in packed["files"]) == [
        "README.md",
        "package.json",
        "warden.d.ts",
        "warden.js",
    ]


def test_npm_install_from_the_checkout(tmp_path: Path) -> None:
    """`npm install <checkout>/js` in another project makes `import ... from "channels-warden"` work."""
    project = tmp_path / "app"
    project.mkdir()
    (project / "package.json").write_text('{"name": "app", "private": true, "type": "module"}')
    env = npm_env(tmp_path)
    subprocess.run(
        ["npm", "install", str(JS)], cwd=project, env=env, capture_output=True, timeout=120, check=True
    )
    script = (
        'import { WardenSocket, closeMessage } from "channels-warden";'
        "console.log(typeof WardenSocket, closeMessage({ code: 4499, reason: 'logout' }));"
    )
    node = shutil.which("node") or "node"
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    installed = project / "node_modules" / "channels-warden"
    assert (result.returncode, result.stdout, (installed / "warden.d.ts").is_file()) == (
        0,
        "function Signed out elsewhere (4499 logout)\n",
        True,
    ), result.stderr
