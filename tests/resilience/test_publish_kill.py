"""SIGKILL during publish: readers see the old publication or the new one whole, never a half one."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable

import duckdb

from cltv.config import PROJECT_ROOT
from cltv.publish import (
    CURRENT_LINK,
    MANIFEST_FILE,
    PARQUET_LINK,
    PUBLICATIONS_DIR,
    read_manifest,
    table_checksum,
)
from tests.resilience.conftest import (
    RUN_TIMEOUT_SECONDS,
    Reference,
    Site,
    driver_command,
    kill_during,
    run_driver,
)
from tests.resilience.driver import KILL_BEFORE_RENAME_TO

# Publishing this small gold takes 0.3-0.6 s, varying with load: kills spread over the reference run's
# publish time land before the build, inside it and around the swap; a kill that comes too late finds
# the publish done (allowed: the check after it is the same), but at least one must interrupt it.
KILL_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)


def current_publication(site: Site) -> tuple[str, dict]:
    """The current run id after checking that file, Parquet link and manifest all belong to it, whole."""
    serving = site.settings.serving_dir
    manifest = read_manifest(site.settings)
    folder = serving / PUBLICATIONS_DIR / manifest["publication_id"]
    assert (folder / MANIFEST_FILE).exists(), f"current manifest names an incomplete folder {folder}"
    assert os.path.realpath(serving / PARQUET_LINK) == str((folder / PARQUET_LINK).resolve())
    con = duckdb.connect(str(serving / "cltv.duckdb"), read_only=True)
    try:
        recorded = con.execute("select publication_id, run_id from gold.publication").fetchone()
        checksums = {t["name"]: table_checksum(con, f"gold.{t['name']}") for t in manifest["tables"]}
    finally:
        con.close()
    assert recorded == (manifest["publication_id"], manifest["run_id"])
    assert checksums == {t["name"]: t["checksum"] for t in manifest["tables"]}
    return manifest["run_id"], manifest


def run_driver_killed(site: Site, *, stages: str, **env: str) -> str:
    """Run the driver until it SIGKILLs itself (the driver's kill hook); its output."""
    result = subprocess.run(
        driver_command("2024-06-30", "next-run", stages),
        cwd=PROJECT_ROOT,
        env=site.env(**env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        start_new_session=True,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    return result.stdout


def table_contents(manifest: dict) -> dict[str, tuple[int, str]]:
    return {table["name"]: (table["rows"], table["checksum"]) for table in manifest["tables"]}


def test_kill_during_publish_keeps_a_whole_publication_current_and_rerun_swaps_in_the_new_one(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    site = site_from("publish")  # the reference run's publication is current
    assert current_publication(site)[0] == "reference"
    seen, interrupted = [], 0
    for fraction in KILL_FRACTIONS:
        delay = fraction * reference.seconds["publish"]
        lines = kill_during(
            site, "next-run", "publish", after_seconds=delay, stages="publish", must_interrupt=False
        )
        interrupted += not any(line.startswith("DONE publish") for line in lines)
        seen.append(current_publication(site)[0])
    leftovers = [
        path.name
        for path in (site.settings.serving_dir / PUBLICATIONS_DIR).iterdir()
        if not (path / MANIFEST_FILE).exists()
    ]
    print(f"{interrupted} publishes interrupted; current after each kill: {seen}; half-built: {leftovers}")
    assert interrupted >= 1
    assert set(seen) <= {"reference", "next-run"}

    run_driver(site, "next-run", stages="publish")

    run_id, manifest = current_publication(site)
    assert run_id == "next-run"
    folders = list((site.settings.serving_dir / PUBLICATIONS_DIR).iterdir())
    assert all((path / MANIFEST_FILE).exists() for path in folders), "a half-built folder survived"
    assert table_contents(manifest) == table_contents(read_manifest(reference.final.settings))


def test_kill_at_the_swap_of_publish_keeps_the_old_publication_whole_and_a_rerun_swaps(
    site_from: Callable[[str], Site],
) -> None:
    """Killed at the exact instant before the one rename that switches publications (the driver's
    KILL_BEFORE_RENAME_TO), not by timing: file, Parquet and manifest all still name the old run."""
    site = site_from("publish")
    target = str(site.settings.serving_dir / CURRENT_LINK)

    output = run_driver_killed(site, stages="publish", **{KILL_BEFORE_RENAME_TO: target})

    assert f"KILLING before rename to {target}" in output
    assert current_publication(site)[0] == "reference"
    run_driver(site, "next-run", stages="publish")
    assert current_publication(site)[0] == "next-run"
