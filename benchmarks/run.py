"""Time `revops` against a parse-only polars baseline (and, with --peer, against DuckDB).

    python benchmarks/run.py --data DIR [--rounds 3] [--period 2026-Q3] [--as-of 2026-10-01]
    python benchmarks/run.py --data DIR --peer [--rounds 3]
    options: --json PATH (raw results), --timeout S, --floor

Default mode, on a dataset of `generate.py --scale N`: every round runs, one after the other,
    audit     revops audit -c DIR/revops.yaml --as-of D --format json -o /dev/null --fail-on never
    metrics   revops metrics -c DIR/revops.yaml --period P --as-of D --format json -o /dev/null
    parse     python benchmarks/parse_baseline.py <every file of the config>
              (pl.read_csv(path, infer_schema=False): all columns, all text)
    floor     (with --floor) python benchmarks/floor.py DIR/revops.yaml: the parse, then every
              date and number column typed the cheapest way and its failed cells counted
    floor-metrics  (with --floor) the same, typing only the columns the metrics read
    help      revops --help
    sample    revops audit -c config.example.yaml --as-of 2026-10-01   (the shipped sample data)
--peer mode, on the dataset of `generate.py --peer` (PEER_PERF.md section 2):
    revops7   revops audit -c DIR/revops.yaml --select S004,O001,D001,D002,D003,D005,S005
              --as-of 2025-06-30 --format json -o /dev/null --fail-on never
    duckdb    python benchmarks/peer_duckdb.py DIR --as-of 2025-06-30   (one SQL query)
    parse     as above
and then, untimed, compares the counts of revops, DuckDB and the generator's ground truth.

Method (PEER_PERF.md section 3): one warm-up round, then --rounds measured rounds with the tasks
alternated; each task is a separate process, timed by wall clock, with its user+sys CPU and peak
RSS (ru_maxrss) from os.wait4. Noise control: before each run the runner waits for an idle box
(less than 10% of a core busy over 0.5 s, at most --idle-wait seconds); a run is redone (up to
twice) when the whole machine's CPU time over the run (from /proc/stat) exceeds the process's own
user+sys by more than 0.1 s + 5% of its wall time. The table gives the median wall time, min-max,
median CPU, the highest peak RSS, the ratio to the parse baseline's median, and peak RSS over the
total size of the CSV files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEER_AS_OF = "2025-06-30"
PEER_RULES = "S004,O001,D001,D002,D003,D005,S005"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
ON_DATASET = ("audit", "metrics", "parse", "floor", "floor-metrics", "revops7", "duckdb")

# Targets of issue 6 (scale 1) and of the peer comparison.
TARGETS = {
    "audit": "wall <= 2.0x parse; peak RSS <= 3x CSV bytes",
    "metrics": "wall <= 1.5x parse; peak RSS <= 3x CSV bytes",
    "help": "wall <= 0.5 s",
    "sample": "wall <= 1.5 s",
    "revops7": "wall <= duckdb",
}


@dataclass
class Task:
    name: str
    argv: list[str]
    ok_codes: tuple[int, ...] = (0,)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


@dataclass
class Run:
    task: str
    round: int  # 0 = warm-up
    attempt: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mib: float
    exit_code: int
    machine_cpu_s: float  # CPU time of the whole machine during the run (/proc/stat)
    noisy: bool
    ok: bool
    timed_out: bool = False
    idle_wait_s: float = 0.0
    stderr_tail: str = ""


# --- the machine --------------------------------------------------------------------------


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores; idle and iowait excluded)."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_idle(max_wait: float, window: float = 0.5, busy_cores: float = 0.1) -> float:
    """Wait until the box is idle (< busy_cores of CPU over `window`); the seconds waited."""
    start = time.perf_counter()
    while True:
        b0 = machine_busy_s()
        time.sleep(window)
        if machine_busy_s() - b0 < busy_cores * window:
            return time.perf_counter() - start
        if time.perf_counter() - start > max_wait:
            return time.perf_counter() - start


def noisy(run_cpu: float, machine_cpu: float, wall: float) -> bool:
    return machine_cpu - run_cpu > 0.1 + 0.05 * wall


def excess(run: Run) -> float:
    """CPU time used by others during `run`, beyond the allowance (<= 0 for a clean run)."""
    return run.machine_cpu_s - run.user_s - run.sys_s - (0.1 + 0.05 * run.wall_s)


# --- one run ------------------------------------------------------------------------------


def run_once(
    task: Task, timeout: float
) -> tuple[float, float, float, float, int, float, bool, str]:
    """Run `task` once: wall, user, sys, maxrss MiB, exit code, machine CPU, timed out, stderr."""
    # Python's own bytecode cache, as an installed revops has it (pip compiles on install): with
    # PYTHONDONTWRITEBYTECODE set, every run would compile the edited modules again (0.1-0.2 s)
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**inherited, **task.env}
    with tempfile.TemporaryFile() as err:
        m0 = machine_busy_s()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            task.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=task.cwd,
            start_new_session=True,  # a timeout kills the whole process group
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        machine = machine_busy_s() - m0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    return (
        wall,
        usage.ru_utime,
        usage.ru_stime,
        usage.ru_maxrss / 1024,  # KiB on Linux
        proc.returncode,
        machine,
        timed_out.is_set(),
        tail,
    )


def measure(task: Task, rnd: int, args: argparse.Namespace) -> list[Run]:
    """Every attempt of one run of `task` (more than one when a run was disturbed)."""
    attempts = 1 if rnd == 0 else 3  # warm-up runs are never redone
    attempts_made: list[Run] = []
    for attempt in range(1, attempts + 1):
        waited = 0.0 if args.no_idle_wait else wait_idle(args.idle_wait)
        wall, user, sys_s, rss, code, machine, timed_out, tail = run_once(task, args.timeout)
        ok = code in task.ok_codes and not timed_out
        run = Run(
            task.name,
            rnd,
            attempt,
            wall,
            user,
            sys_s,
            rss,
            code,
            machine,
            noisy(user + sys_s, machine, wall),
            ok,
            timed_out,
            waited,
            "" if ok else tail,
        )
        attempts_made.append(run)
        status = "ok" if ok else ("TIMEOUT" if timed_out else f"FAILED exit {code}")
        flag = " noisy" if run.noisy else ""
        print(
            f"  round {rnd}{' (warm-up)' if rnd == 0 else ''} {task.name:8s} "
            f"{wall:8.2f} s  cpu {user + sys_s:7.2f} s  rss {rss:8.0f} MiB  "
            f"others {max(0.0, machine - user - sys_s):6.2f} s  {status}{flag}",
            file=sys.stderr,
            flush=True,
        )
        if not ok:
            print("    " + tail.strip().replace("\n", "\n    "), file=sys.stderr)
            break
        if not run.noisy:
            break
    return attempts_made


# --- tasks ----------------------------------------------------------------------------------


def revops_argv() -> list[str]:
    script = Path(sys.executable).parent / "revops"
    if script.exists():
        return [str(script)]
    found = shutil.which("revops")
    return [found] if found else [sys.executable, "-m", "revops_cli"]


def config_files(config: Path) -> list[Path]:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    return [(config.parent / src["path"]).resolve() for src in raw.get("sources", {}).values()]


def build_tasks(args: argparse.Namespace, config: Path, files: list[Path]) -> list[Task]:
    revops = revops_argv()
    py = sys.executable
    parse = Task("parse", [py, str(HERE / "parse_baseline.py"), *map(str, files)])
    if args.peer:
        return [
            Task(
                "revops7",
                [
                    *revops,
                    "audit",
                    "-c",
                    str(config),
                    "--select",
                    PEER_RULES,
                    "--as-of",
                    args.as_of,
                    "--format",
                    "json",
                    "-o",
                    os.devnull,
                    "--fail-on",
                    "never",
                ],
            ),
            Task(
                "duckdb", [py, str(HERE / "peer_duckdb.py"), str(args.data), "--as-of", args.as_of]
            ),
            parse,
        ]
    floors = floor_tasks(config) if args.floor else []
    return [
        Task(
            "audit",
            [
                *revops,
                "audit",
                "-c",
                str(config),
                "--as-of",
                args.as_of,
                "--format",
                "json",
                "-o",
                os.devnull,
                "--fail-on",
                "never",
            ],
        ),
        Task(
            "metrics",
            [
                *revops,
                "metrics",
                "-c",
                str(config),
                "--period",
                args.period,
                "--as-of",
                args.as_of,
                "--format",
                "json",
                "-o",
                os.devnull,
            ],
        ),
        parse,
        *floors,
        Task("help", [*revops, "--help"]),
        Task(
            "sample",
            [*revops, "audit", "-c", "config.example.yaml", "--as-of", "2026-10-01"],
            ok_codes=(0, 1),  # 1: the sample has error findings on purpose
            cwd=str(REPO),
        ),
    ]


def floor_tasks(config: Path) -> list[Task]:
    """The floors (`floor.py`) of the audit (every date and number column) and of the metrics
    (those they read)."""
    from revops_cli.config import load_config
    from revops_cli.metrics import unread_columns

    unread = unread_columns(load_config(config))
    skip = [f"--skip={table}.{column}" for table, columns in unread.items() for column in columns]
    floor = [sys.executable, str(HERE / "floor.py"), str(config)]
    return [Task("floor", floor), Task("floor-metrics", [*floor, *skip])]


# --- summary --------------------------------------------------------------------------------


def summarise(
    runs: list[Run], tasks: list[Task], csv_bytes: int
) -> dict[str, dict[str, float | int | None]]:
    out: dict[str, dict[str, float | int | None]] = {}
    for task in tasks:
        measured = [r for r in runs if r.task == task.name and r.round > 0 and r.ok]
        # per round, the attempt that counts is the clean one, else the least disturbed one
        by_round: dict[int, Run] = {}
        for r in measured:
            best = by_round.get(r.round)
            if best is None or excess(r) < excess(best):
                by_round[r.round] = r
        final = list(by_round.values())
        failed = sum(1 for r in runs if r.task == task.name and r.round > 0 and not r.ok)
        redone = sum(1 for r in runs if r.task == task.name and r.round > 0 and r.attempt > 1)
        if not final:
            out[task.name] = {"n": 0, "failed": failed}
            continue
        walls = [r.wall_s for r in final]
        out[task.name] = {
            "n": len(final),
            "median_wall_s": statistics.median(walls),
            "min_wall_s": min(walls),
            "max_wall_s": max(walls),
            "median_cpu_s": statistics.median(r.user_s + r.sys_s for r in final),
            "peak_rss_mib": max(r.maxrss_mib for r in final),
            "rss_over_csv": (
                max(r.maxrss_mib for r in final) * MIB / csv_bytes
                if csv_bytes and task.name in ON_DATASET
                else None
            ),
            "noisy_kept": sum(1 for r in final if r.noisy),
            "redone": redone,
            "failed": failed,
        }
    base = out.get("parse", {}).get("median_wall_s")
    for name, stats in out.items():
        if name in ON_DATASET and base and stats.get("median_wall_s") is not None:
            stats["ratio_to_parse"] = stats["median_wall_s"] / base  # type: ignore[operator]
    return out


def table(summary: dict[str, dict[str, float | int | None]], csv_bytes: int) -> str:
    head = (
        "| task | median wall s | min-max s | CPU s (median) | peak RSS MiB | ratio to parse "
        "| RSS / CSV bytes | runs (redone, noisy kept) | target |"
    )
    lines = [head, "|" + " --- |" * 9]
    for name, s in summary.items():
        if not s.get("n"):
            lines.append(
                f"| {name} | failed | | | | | | 0 ({s.get('failed', 0)} failed) "
                f"| {TARGETS.get(name, '')} |"
            )
            continue
        ratio = s.get("ratio_to_parse")
        rss_ratio = s.get("rss_over_csv")
        lines.append(
            f"| {name} | {s['median_wall_s']:.2f} | {s['min_wall_s']:.2f}-{s['max_wall_s']:.2f} "
            f"| {s['median_cpu_s']:.2f} | {s['peak_rss_mib']:.0f} "
            f"| {f'{ratio:.2f}x' if ratio is not None else '-'} "
            f"| {f'{rss_ratio:.2f}x' if rss_ratio is not None else '-'} "
            f"| {s['n']} ({s['redone']}, {s['noisy_kept']}) | {TARGETS.get(name, '')} |"
        )
    lines.append(f"\nTotal CSV bytes: {csv_bytes:,d} ({csv_bytes / 1e6:.1f} MB)")
    return "\n".join(lines)


# --- peer counts ----------------------------------------------------------------------------

PEER_KEYS = [
    ("a_missing_owner", "O001"),
    ("b_duplicate_deal_id", "S004"),
    ("c_orphan_deals", "D001"),
    ("d_open_past_close", "D002"),
    ("e_open_stale", "D003"),
    ("f_won_bad_amount", "D005"),
    ("g_invalid_stage", "S005"),
]


def peer_counts(tasks: list[Task], args: argparse.Namespace) -> dict[str, dict[str, int | None]]:
    """Untimed: the counts of revops and DuckDB next to the generator's ground truth."""
    result: dict[str, dict[str, int | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        argv = list(tasks[0].argv)
        argv[argv.index("-o") + 1] = str(out)
        subprocess.run(argv, check=False, stdout=subprocess.DEVNULL)
        revops: dict[str, int] = {}
        if out.exists():
            for finding in json.loads(out.read_text())["findings"]:
                if finding["table"] == "deals":
                    revops[finding["code"]] = revops.get(finding["code"], 0) + int(finding["count"])
    duck = subprocess.run(tasks[1].argv, check=False, capture_output=True, text=True)
    duckdb = json.loads(duck.stdout) if duck.returncode == 0 else {}
    expected_path = args.data / "expected.json"
    expected = json.loads(expected_path.read_text()) if expected_path.exists() else {}
    for key, code in PEER_KEYS:
        result[key] = {
            "expected": expected.get(key),
            "duckdb": duckdb.get(key),
            f"revops {code}": revops.get(code, 0),
        }
    return result


def peer_table(counts: dict[str, dict[str, int | None]]) -> str:
    lines = [
        "| check | ground truth | DuckDB | revops (rule: findings on deals) |",
        "| --- | --- | --- | --- |",
    ]
    for (key, code), row in zip(PEER_KEYS, counts.values(), strict=True):
        vals = list(row.values())
        lines.append(f"| {key} | {vals[0]} | {vals[1]} | {code}: {vals[2]} |")
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------


def report(path: Path) -> int:
    """Print the tables of a results file written by --json."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    runs = [Run(**r) for r in payload["runs"]]
    tasks = [Task(**t) for t in payload["tasks"]]
    summary = summarise(runs, tasks, payload["csv_bytes"])
    print(
        f"revops benchmark: {payload['mode']} dataset {payload['data']}, as-of {payload['as_of']}"
        f"{'' if payload['period'] is None else ', period ' + payload['period']}, "
        f"{payload['rounds']} rounds"
    )
    print(table(summary, payload["csv_bytes"]))
    if payload.get("peer_counts"):
        print()
        print(peer_table(payload["peer_counts"]))
    return 0


def revops_source() -> dict[str, str | bool | None]:
    """The commit of the revops checkout (read-only git calls) and whether it has local edits."""

    def git(*argv: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(REPO), *argv], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain", "--", "revops_cli", "pyproject.toml")
    return {
        "commit": git("rev-parse", "HEAD"),
        "local_edits": None if status is None else bool(status),
    }


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("revops-cli", "polars", "duckdb"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="dataset folder with revops.yaml")
    ap.add_argument("--report", type=Path, help="print the tables of a --json file and exit")
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    ap.add_argument("--period", default="2026-Q3", help="metrics period (default 2026-Q3)")
    ap.add_argument(
        "--as-of", default=None, help="reference day (default 2026-10-01; --peer 2025-06-30)"
    )
    ap.add_argument("--peer", action="store_true", help="revops vs DuckDB on the peer dataset")
    ap.add_argument(
        "--floor", action="store_true", help="also time floor.py (parse + typing); not with --peer"
    )
    ap.add_argument("--json", type=Path, help="write the raw results here")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run (default 1800)")
    ap.add_argument("--idle-wait", type=float, default=120, help="max seconds to wait for idle")
    ap.add_argument("--no-idle-wait", action="store_true", help="do not wait for an idle box")
    args = ap.parse_args(argv)
    if args.report:
        return report(args.report)
    if args.data is None:
        ap.error("--data is required")
    args.data = args.data.resolve()
    if args.as_of is None:
        args.as_of = PEER_AS_OF if args.peer else "2026-10-01"
    config = args.data / "revops.yaml"
    if not config.is_file():
        ap.error(f"{config} not found: generate the data first (benchmarks/generate.py)")
    files = config_files(config)
    csv_bytes = sum(f.stat().st_size for f in files)
    tasks = build_tasks(args, config, files)
    print(
        f"data {args.data}: {len(files)} files, {csv_bytes / 1e6:.1f} MB; "
        f"{args.rounds} rounds + 1 warm-up; tasks {', '.join(t.name for t in tasks)}",
        file=sys.stderr,
    )
    source = revops_source()
    runs: list[Run] = []
    t_start = time.time()
    for rnd in range(args.rounds + 1):
        for task in tasks:
            runs.extend(measure(task, rnd, args))
    summary = summarise(runs, tasks, csv_bytes)
    after = revops_source()
    if after != source:
        print(
            f"warning: the revops source changed during the run: {source} -> {after}",
            file=sys.stderr,
        )
    print()
    print(
        f"revops benchmark: {'peer' if args.peer else 'canonical'} dataset {args.data}, "
        f"as-of {args.as_of}{'' if args.peer else f', period {args.period}'}, "
        f"{args.rounds} rounds; "
        f"revops {source['commit'] or 'unknown commit'}"
        f"{' + local edits' if source['local_edits'] else ''}"
    )
    print(table(summary, csv_bytes))
    counts = None
    if args.peer:
        counts = peer_counts(tasks, args)
        print()
        print(peer_table(counts))
    failed = any(not r.ok for r in runs)
    if args.json:
        payload = {
            "mode": "peer" if args.peer else "canonical",
            "data": str(args.data),
            "files": {str(f): f.stat().st_size for f in files},
            "csv_bytes": csv_bytes,
            "rounds": args.rounds,
            "as_of": args.as_of,
            "period": None if args.peer else args.period,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t_start)),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), **versions()},
            "revops_source": {"before": source, "after": after},
            "tasks": [asdict(t) for t in tasks],
            "runs": [asdict(r) for r in runs],
            "summary": summary,
            "peer_counts": counts,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
