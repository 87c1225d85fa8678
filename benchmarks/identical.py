"""Byte-identical outputs: `mtqa score` on the seed article (`-f json`) and `mtqa batch` on the
first N MQM dev rows, compared byte for byte with the outputs recorded in a folder.

Only what legitimately differs between two runs is masked: mtqa's version (in signatures and
the score JSON's `version`; a release that changes no score moves it), the input path that
`run.json` and `summary.json` record (the corpus is copied to a fresh temporary folder each
run), and `run.json`'s `files` (the names a run may write or remove: a list in the code, which
grows with new outputs such as `ray.log`, not a result). Nothing in the outputs is a timing. Files
compared: the score JSON, and the batch folder's `segments.jsonl`, `documents.jsonl`,
`summary.json` and `run.json`.

Run: `.venv/bin/python benchmarks/identical.py --record /tmp/golden` (before a change), then
`.venv/bin/python benchmarks/identical.py --golden /tmp/golden` (after it); `--rows 300`.
Writes benchmarks/results/identical.json (`--output`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import MQM, ROOT, SEED, write_result

BATCH_FILES = ("segments.jsonl", "documents.jsonl", "summary.json", "run.json")
MASKED_INPUT = "<input>"


#: mtqa's own version where the outputs name it (signatures, the score JSON's `version`): a
#: release that changes no score moves it, and the outputs are the same otherwise.
VERSION = re.compile(rb'(?<=mtqa:)[0-9][^|"]*(?=\|)|(?<="version": ")[0-9][^"]*(?=")')


def mask(name: str, data: bytes) -> bytes:
    """The file with mtqa's version and its run-specific input path replaced (run.json,
    summary.json)."""
    data = VERSION.sub(b"<version>", data)
    if name not in ("run.json", "summary.json"):
        return data
    doc = json.loads(data)
    if isinstance(doc.get("input"), dict) and "input" in doc["input"]:
        doc["input"]["input"] = MASKED_INPUT
    if name == "run.json":
        doc.pop("files", None)  # the names a run may write: the code's list, not a result
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def mtqa(*args: str) -> tuple[bytes, float]:
    """Run the CLI in a fresh process from the repository root: its stdout and wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mtqa.cli", *args],
        cwd=ROOT,
        capture_output=True,
        check=False,
        env=os.environ,
    )
    if done.returncode not in (0, 3):  # 3: a quality gate, not a failure
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"mtqa {' '.join(args)} failed ({done.returncode})")
    return done.stdout, time.perf_counter() - start


def produce(rows: int, folder: Path) -> dict[str, bytes]:
    """Every compared output, masked, by name."""
    corpus = folder / f"dev{rows}.jsonl"
    with (MQM / "dev.jsonl").open(encoding="utf-8") as src:
        corpus.write_text(
            "".join(line for _, line in zip(range(rows), src, strict=False)), encoding="utf-8"
        )
    out: dict[str, bytes] = {}
    article, seconds_score = mtqa("score", str(SEED.relative_to(ROOT)), "-f", "json", "--quiet")
    out["article.json"] = mask("article.json", article)
    _, seconds_batch = mtqa("batch", str(corpus), "-o", str(folder / "batch"), "--quiet")
    for name in BATCH_FILES:
        out[f"batch/{name}"] = mask(name, (folder / "batch" / name).read_bytes())
    print(f"score {seconds_score:.1f} s, batch {seconds_batch:.1f} s (wall, noisy)")
    return out


def compare(mine: dict[str, bytes], golden: Path) -> dict[str, dict[str, object]]:
    report: dict[str, dict[str, object]] = {}
    for name, data in mine.items():
        path = golden / name
        want = mask(Path(name).name, path.read_bytes()) if path.exists() else None
        entry: dict[str, object] = {
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()[:16],
            "identical": want == data,
        }
        if want is None:
            entry["missing_in_golden"] = True
        elif want != data:
            lines, wanted = data.splitlines(), want.splitlines()
            first = next(
                (i for i, (a, b) in enumerate(zip(lines, wanted, strict=False)) if a != b),
                min(len(lines), len(wanted)),
            )
            entry["first_differing_line"] = first + 1
            entry["lines"] = [len(lines), len(wanted)]
        report[name] = entry
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--golden", default="/tmp/golden", help="folder of recorded outputs")
    parser.add_argument("--record", default=None, help="write the outputs to this folder instead")
    parser.add_argument("--rows", type=int, default=300, help="first N MQM dev rows for batch")
    parser.add_argument("--output", default="identical", help="name of the results/*.json file")
    parser.add_argument("--keep", default=None, help="also write this run's outputs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mine = produce(args.rows, Path(tmp))
    for target in filter(None, (args.record, args.keep)):
        target = Path(target)
        for name, data in mine.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(data)
        print(f"wrote {len(mine)} files in {target}")
    if args.record:
        return
    report = compare(mine, Path(args.golden))
    same = all(entry["identical"] for entry in report.values())
    for name, entry in report.items():
        print(f"{'identical' if entry['identical'] else 'DIFFERENT':>9}  {name}  {entry}")
    print("all byte-identical" if same else "outputs DIFFER from the golden ones")
    data = {"golden": args.golden, "rows": args.rows, "identical": same, "files": report}
    print(f"wrote {write_result(args.output, data)}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
