"""The `revops` command line: options in, library call, renderer, exit code."""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import re
import sys
import traceback
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO
from zoneinfo import ZoneInfo

import typer
from rich.console import Console, RenderableType
from typer.core import TyperCommand, TyperGroup

from revops_cli import __version__
from revops_cli.allocator import tune_allocator
from revops_cli.errors import ConfigError, RevopsError, flat
from revops_cli.formats import OutputFormat

# The library is imported inside the commands, so that `revops --help` does not load polars.
if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext  # the base of typer.Context

    from revops_cli.checks import Rule
    from revops_cli.config import Config
    from revops_cli.history import HistoryStore
    from revops_cli.load.dataset import Dataset
    from revops_cli.results import AuditReport, MetricsReport, RuleOutcome

EXIT_OK, EXIT_FINDINGS, EXIT_SETUP, EXIT_BUG = 0, 1, 2, 3
AS_OF_RANGE = (date(1900, 1, 1), date(9000, 12, 31))  # --as-of days accepted


class _Panic(BaseException):
    """Stands for pyo3's PanicException (a panic inside polars) until polars is imported."""


def _panic_type() -> type[BaseException]:
    polars = sys.modules.get("polars")
    return polars.exceptions.PanicException if polars is not None else _Panic


class Compare(StrEnum):
    PREVIOUS = "previous"
    YOY = "yoy"
    NONE = "none"


class Dimension(StrEnum):
    OWNER = "owner"
    TEAM = "team"
    SEGMENT = "segment"
    SOURCE = "source"
    DEAL_TYPE = "deal_type"


class ReportFormat(StrEnum):
    HTML = "html"
    MD = "md"


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


REPORT_URL = "https://github.com/revops-cli/revops/issues"


class FlagHelp(TyperCommand):
    """A command whose `--help` shows no value in the help (typer 0.29 writes `<bool>` after
    every flag it does not know to be one)."""

    def get_help_option(self, ctx: ClickContext) -> Any:
        return _without_value(super().get_help_option(ctx))


def _without_value(option: Any) -> Any:
    if option is not None:
        option.metavar = ""
    return option


class OneLineErrors(TyperGroup):
    """Bad usage (a missing or unknown option, a bad value) is one line on stderr and exit 2
    (CLI.md), not Click's usage block and box; `--help` and a bare `revops` still show help."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: ClickContext | None = None,
        **extra: Any,
    ) -> ClickContext:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.TyperException as exc:
            usage_error(exc, info_name or "revops")

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:
            usage_error(exc, ctx.command_path)

    def get_help_option(self, ctx: ClickContext) -> Any:
        return _without_value(super().get_help_option(ctx))


def usage_error(exc: typer.TyperException, command: str) -> NoReturn:
    """Print Click's usage error as `error: MESSAGE (see revops CMD --help)` and exit 2."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `revops` alone: the help, as before
        raise exc
    message = " ".join(exc.format_message().split()).rstrip(".")
    message = message.replace(": Value error, ", ": ")  # typer's prefix to a bad choice
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else command
    typer.echo(f"error: {message} (see {where} --help)", err=True)
    raise typer.Exit(EXIT_SETUP)


app = typer.Typer(
    name="revops",
    cls=OneLineErrors,
    help="Audit CRM and billing exports and compute revenue metrics from them.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: $REVOPS_CONFIG, ./revops.yaml, ./config.example.yaml).",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Reference day YYYY-MM-DD (default: today in metrics.timezone)."),
]
FormatOpt = Annotated[
    OutputFormat | None, typer.Option("--format", "-f", help="Output format (default table).")
]


def output_path(value: str) -> Path:
    """An output path as given: one ending in `/` names a folder, which Path would drop (and
    `-o new/` then wrote a file named `new`)."""
    if value.endswith("/"):
        raise typer.BadParameter(f"{value} names a folder: give the path of a file to write")
    return Path(value)


OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", parser=output_path, help="Write the output to PATH (atomically)."
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", metavar="", help="No progress; only the result.")
]
NoColorOpt = Annotated[
    bool, typer.Option("--no-color", metavar="", help="Plain text without colour.")
]
DebugOpt = Annotated[
    bool, typer.Option("--debug", metavar="", help="Show the traceback of an error.")
]
HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="SQLite run history to append this run to (default: `history:` in the config).",
    ),
]
HistoryKeepOpt = Annotated[
    int | None,
    typer.Option(
        "--history-keep",
        min=0,
        max=36500,
        metavar="DAYS",
        help="Drop runs older than DAYS from the history (at most 36500, 100 years).",
    ),
]


@dataclass(frozen=True)
class Common:
    """The global options every command takes (CLI.md)."""

    config: str | None
    as_of: str | None
    format: OutputFormat
    output: Path | None
    quiet: bool
    no_color: bool
    debug: bool

    def config_path(self) -> Path:
        from revops_cli.config import find_config

        return find_config(self.config, os.environ.get("REVOPS_CONFIG"), Path())

    def config_shown(self) -> str:
        """The config path as the user gave it (`./revops.yaml` stays so, CLI.md), else as
        found."""
        given = self.config or os.environ.get("REVOPS_CONFIG")
        return given if given else str(self.config_path())

    def reference_day(self, config: Config) -> date:
        """--as-of, else today in the config's time zone (DECISIONS D16)."""
        return self.as_of_given() or datetime.now(ZoneInfo(config.metrics.timezone)).date()

    def as_of_given(self) -> date | None:
        """--as-of as a day in range, or None when it was not given."""
        if self.as_of is None:
            return None
        try:
            text = self.as_of.strip()
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # fromisoformat also takes 20261001
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise RevopsError(
                f"--as-of: '{self.as_of}' is not a date", "write it as YYYY-MM-DD"
            ) from None
        if not AS_OF_RANGE[0] <= day <= AS_OF_RANGE[1]:
            # the rules and periods reach a few years around it; year 1 and 9999 overflow
            low, high = AS_OF_RANGE
            raise RevopsError(f"--as-of: {day} is out of range", f"use a day from {low} to {high}")
        return day

    def emit(self, content: RenderableType | str) -> None:
        """Print to stdout, or write atomically to --output; colour only on a terminal."""
        if self.output is not None:
            from revops_cli.report.output import write_atomic

            buffer = io.StringIO()
            if not isinstance(content, str):
                Console(file=buffer, **PLAIN).print(content, soft_wrap=True)
            write_atomic(self.output, content if isinstance(content, str) else buffer.getvalue())
            return
        stdout = open_stdout()
        try:
            if isinstance(content, str):
                stdout.write(content)
                stdout.flush()
                return
            # piped output is plain (whatever FORCE_COLOR says) and wide enough that tables
            # are not cut at 80 columns
            console = (
                _Stdout(no_color=self.no_color, highlight=False)
                if stdout.isatty()
                else _Stdout(**PLAIN, highlight=False)
            )
            console.print(content, soft_wrap=True)
        except BrokenPipeError:
            # a reader that stopped early (`| head`): neither a finding nor a bug, so the run
            # keeps its own exit code
            _stdout_to_devnull()
        except OSError as exc:  # a full disk or a closed terminal: the user's setup, not a bug
            raise RevopsError(
                f"cannot write the output to stdout: {exc.strerror}", "check the disk or use -o"
            ) from None


# rich for a file or a pipe: no colour and no bold, even under FORCE_COLOR or TTY_COMPATIBLE
PLAIN: dict[str, Any] = {"force_terminal": False, "color_system": None, "width": 160}


def open_stdout() -> TextIO:
    """sys.stdout; a setup error when it is closed (`>&-`: Python then sets it to None)."""
    if sys.stdout is None:
        raise RevopsError(
            "cannot write the output to stdout: it is closed", "redirect stdout or use -o"
        )
    return sys.stdout


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null once its reader is gone, so that Python's last flush does not
    fail again on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _Stdout(Console):
    """rich's console, without its exit 1 when the reader of stdout has gone."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _stdout_to_devnull()


@dataclass(frozen=True)
class Before:
    """The global options given before the command name (`revops -c X audit`)."""

    config: str | None = None
    as_of: str | None = None
    format: OutputFormat | None = None
    output: Path | None = None
    quiet: bool = False
    no_color: bool = False
    debug: bool = False


def common_options(
    ctx: typer.Context,
    config: str | None,
    as_of: str | None,
    format: OutputFormat | None,
    output: Path | None,
    quiet: bool,
    no_color: bool,
    debug: bool,
) -> Common:
    """The global options of a command: given after the command name, else before it."""
    before = ctx.obj if isinstance(ctx.obj, Before) else Before()
    return Common(
        config if config is not None else before.config,
        as_of if as_of is not None else before.as_of,
        format or before.format or OutputFormat.TABLE,
        output if output is not None else before.output,
        quiet or before.quiet,
        no_color or before.no_color,
        debug or before.debug,
    )


def run(common: Common, body: Callable[[], int]) -> None:
    """Run a command body and turn its outcome into the exit codes of CLI.md."""
    try:
        if common.output is not None:
            from revops_cli.report.output import check_writable

            check_writable(common.output)
        code = body()
    except ConfigError as exc:
        for line in exc.problems or (exc.one_line(),):
            typer.echo(f"error: {flat(line)}", err=True)
        if exc.problems and exc.hint:
            typer.echo(f"hint: {exc.hint}", err=True)
        code = EXIT_SETUP
    except RevopsError as exc:
        typer.echo(f"error: {exc.one_line()}", err=True)
        code = EXIT_SETUP
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        code = 130
    except (Exception, _panic_type()) as exc:  # an unexpected exception is a bug: one line
        if isinstance(exc, OSError) and exc.filename is not None:
            # a path the system refuses (a name over 255 bytes, a loop of links): the setup
            name = exc.filename if isinstance(exc.filename, str) else repr(exc.filename)
            typer.echo(f"error: {flat(name)}: {exc.strerror} (check the path)", err=True)
            raise typer.Exit(EXIT_SETUP) from None
        if common.debug:
            traceback.print_exc()
        else:
            typer.echo(
                f"internal error: {type(exc).__name__}: {flat(str(exc))} (this is a bug; run "
                f"again with --debug for the traceback and report it at {REPORT_URL})",
                err=True,
            )
        code = EXIT_BUG
    raise typer.Exit(code)


def crashed_rules(common: Common, outcomes: Sequence[RuleOutcome]) -> bool:
    """Whether a rule crashed. After the full report (D2), exit 3 says it on one line of stderr
    (CLI.md), naming the rules; with --debug, the traceback of each follows."""
    from revops_cli.results import RuleState

    crashed = [o for o in outcomes if o.status is RuleState.ERROR]
    if not crashed:
        return False
    codes = ", ".join(o.code for o in crashed)
    what = f"rule {codes} crashed" if len(crashed) == 1 else f"rules {codes} crashed"
    how = "" if common.debug else "run again with --debug for the traceback and "
    typer.echo(f"internal error: {what} (this is a bug; {how}report it at {REPORT_URL})", err=True)
    if common.debug:
        for outcome in crashed:
            typer.echo(f"{outcome.code}: {outcome.traceback or outcome.reason}".rstrip(), err=True)
    return True


def load(
    common: Common,
    unread: Callable[[Config], Mapping[str, Collection[str]]] | None = None,
) -> tuple[Config, Dataset, date]:
    """The config, the reference day and the loaded dataset (without the `unread(config)`
    columns)."""
    from revops_cli.checks import rule_catalog
    from revops_cli.config import load_config
    from revops_cli.load.dataset import load_dataset

    config_path = common.config_path()
    config = load_config(config_path, rule_catalog())
    as_of = common.reference_day(config)
    skipped = unread(config) if unread is not None else None
    return config, load_dataset(config, as_of, skipped), as_of


NO_HISTORY = "pass --history PATH or set `history:` in the config"


@dataclass(frozen=True)
class History:
    """--history and --history-keep of `audit`, `metrics` and `report`."""

    path: Path | None
    keep: int | None

    @contextmanager
    def open(
        self, config: Config, outputs: Mapping[str, Path | None]
    ) -> Iterator[HistoryStore | None]:
        """The store named by --history, else by the config; None when neither names one. The
        command's `outputs` (option -> path) and the store must be files of their own."""
        from revops_cli.report.output import check_distinct

        path = self.path if self.path is not None else config.history_path()
        check_distinct(
            {**outputs, "--history": path},
            ("--baseline", "--write-baseline"),
            config.inputs().items(),
        )
        if path is None:
            if self.keep is not None:
                raise RevopsError("--history-keep: no run history is configured", NO_HISTORY)
            yield None
            return
        from revops_cli.history import open_store

        new = not path.exists()
        try:
            with open_store(path) as store:
                yield store
        except BaseException:
            if new:  # a run that failed leaves no empty history behind it
                _remove_if_empty(path)
            raise

    def record(
        self,
        store: HistoryStore | None,
        command: str,
        config: Config,
        dataset: Dataset,
        exit_code: int,
        audit: AuditReport | None = None,
        metrics: MetricsReport | None = None,
    ) -> None:
        """Append the finished run to the store in one transaction, pruning with --history-keep."""
        if store is None:
            return
        from revops_cli.history import run_record

        now = datetime.now(UTC)
        run = run_record(command, config, dataset, exit_code, __version__, now, audit, metrics)
        store.record(run, self.keep)


def _remove_if_empty(path: Path) -> None:
    """Delete the history file at `path` (and its WAL files) when it records no run."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return
    if runs == 0:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{path}{suffix}").unlink()


def _stored(common: Common, history: Path | None) -> HistoryStore:
    """The existing store of `history` and `trend`: --history, else the config's `history:`."""
    from revops_cli.config import load_config
    from revops_cli.history import open_store

    path, inputs = history, []
    if path is None:
        config = load_config(common.config_path())
        path, inputs = config.history_path(), [("the config", config.path)]
    if path is None:
        raise RevopsError("no run history is configured", NO_HISTORY)
    from revops_cli.report.output import check_distinct

    # -o must not overwrite the store or the config
    check_distinct({"--output": common.output, "--history": path}, None, inputs)
    return open_store(path, create=False)


def _codes(option: str, value: str | None) -> list[str]:
    from revops_cli.checks import rule_catalog
    from revops_cli.config import rule_token_problems

    tokens = [t.strip() for t in (value or "").split(",") if t.strip()]
    problems = rule_token_problems(option, tokens, rule_catalog())
    if problems:
        raise RevopsError(problems[0], "`revops rules` lists every code")
    return tokens


@app.command(cls=FlagHelp)
def audit(
    ctx: typer.Context,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
    select: Annotated[
        str | None, typer.Option("--select", help="Rules to run: codes or prefixes, e.g. D,L001.")
    ] = None,
    ignore: Annotated[
        str | None, typer.Option("--ignore", help="Rules to leave out: codes or prefixes.")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")
    ] = FailOn.ERROR,
    findings: Annotated[
        Path | None, typer.Option("--findings", help="Write every flagged record to this CSV.")
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", min=0, help="Sample records shown per rule.")
    ] = 5,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Known findings that do not fail the run.")
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Write the current findings here.")
    ] = None,
    history: HistoryOpt = None,
    history_keep: HistoryKeepOpt = None,
) -> None:
    """Check data quality: run the rules and list every finding, ranked by severity and money."""
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)
    runs = History(history, history_keep)

    def body() -> int:
        chosen, left_out = _codes("--select", select), _codes("--ignore", ignore)
        cfg, dataset, day = load(common)
        outputs = {
            "--output": common.output,
            "--findings": findings,
            "--write-baseline": write_baseline,
            "--baseline": baseline,  # read, and may be rewritten by --write-baseline only
        }
        with runs.open(cfg, outputs) as store:
            return audit_run(cfg, dataset, day, store, chosen, left_out)

    def audit_run(
        cfg: Config,
        dataset: Dataset,
        day: date,
        store: HistoryStore | None,
        chosen: list[str],
        left_out: list[str],
    ) -> int:
        from revops_cli.checks.baseline import (
            apply_baseline,
            baseline_document,
            failing,
            is_failing,
            read_baseline,
        )
        from revops_cli.checks.runner import chosen_rules
        from revops_cli.history import run_audit
        from revops_cli.report.audit import (
            render_audit_csv,
            render_audit_json,
            render_audit_md,
            render_audit_table,
            render_findings_csv,
        )
        from revops_cli.report.output import check_writable, to_json, write_atomic
        from revops_cli.results import RuleState

        for path in (findings, write_baseline):
            if path is not None:
                check_writable(path)
        known = read_baseline(baseline) if baseline is not None else None
        total = len(chosen_rules(cfg.rules, chosen or None, left_out, store is not None))
        with rule_progress(common, total) as on_rule:
            report = run_audit(dataset, store, chosen or None, left_out, samples, on_rule)
        if known is not None:
            report = apply_baseline(report, known)
        failed = is_failing(report, fail_on.value)
        if findings is not None:
            write_atomic(findings, render_findings_csv(report))
        if write_baseline is not None:
            write_atomic(write_baseline, to_json(baseline_document(report)))
        crashed = any(r.status is RuleState.ERROR for r in report.rules)
        code = EXIT_BUG if crashed else EXIT_FINDINGS if failed else EXIT_OK
        # D23: --quiet trims the table on a terminal; --output always gets the full document
        trimmed = common.quiet and common.output is None
        renderers: dict[OutputFormat, Callable[[], RenderableType | str]] = {
            OutputFormat.TABLE: lambda: render_audit_table(
                report, failed, samples, failing(report, fail_on.value) if trimmed else None
            ),
            OutputFormat.JSON: lambda: render_audit_json(
                report, dataset, common.config_shown(), day, failed
            ),
            OutputFormat.CSV: lambda: render_audit_csv(report),
            OutputFormat.MD: lambda: render_audit_md(report, failed),
        }
        if not (common.format is OutputFormat.TABLE and trimmed and code == EXIT_OK):
            common.emit(renderers[common.format]())  # D23: nothing on a clean quiet run
        crashed_rules(common, report.rules)
        runs.record(store, "audit", cfg, dataset, code, audit=report)
        return code

    run(common, body)


PERIOD_HELP = (
    "Period: 2024-Q3, Q3, FY2024, CY2024-Q3, H1, 2024-07, 2024, 2024-07-10..2024-08-20, mtd, qtd, "
    "ytd, last-month, last-quarter. Quarters and halves are fiscal; bare years and months are "
    "calendar; FY forces fiscal and CY calendar."
)
PeriodOpt = Annotated[str, typer.Option("--period", "-p", help=PERIOD_HELP)]
CompareOpt = Annotated[
    Compare,
    typer.Option("--compare", help="Compare with the previous period, a year ago, or not."),
]


@app.command(cls=FlagHelp)
def metrics(
    ctx: typer.Context,
    period: PeriodOpt,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
    compare: CompareOpt = Compare.PREVIOUS,
    by: Annotated[
        Dimension | None,
        typer.Option("--by", help="Break the deal and lead metrics down by this dimension."),
    ] = None,
    history: HistoryOpt = None,
    history_keep: HistoryKeepOpt = None,
) -> None:
    """Compute the revenue metrics for a period and compare them with the period before."""
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)
    runs = History(history, history_keep)

    def body() -> int:
        from revops_cli.metrics import compute_metrics, unread_columns
        from revops_cli.report.metrics import (
            render_metrics_csv,
            render_metrics_json,
            render_metrics_md,
            render_metrics_table,
        )

        cfg, dataset, _ = load(common, unread_columns)
        with runs.open(cfg, {"--output": common.output}) as store:
            report = compute_metrics(dataset, period, compare.value, by.value if by else None)
            renderers: dict[OutputFormat, Callable[[], RenderableType | str]] = {
                OutputFormat.TABLE: lambda: render_metrics_table(report),
                OutputFormat.JSON: lambda: render_metrics_json(
                    report, dataset, common.config_shown()
                ),
                OutputFormat.CSV: lambda: render_metrics_csv(report),
                OutputFormat.MD: lambda: render_metrics_md(report),
            }
            common.emit(renderers[common.format]())
            runs.record(store, "metrics", cfg, dataset, EXIT_OK, metrics=report)
        return EXIT_OK

    run(common, body)


@app.command(cls=FlagHelp)
def report(
    ctx: typer.Context,
    period: PeriodOpt,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format", "-f", help="html: one self-contained page (default); md: Markdown."
        ),
    ] = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
    compare: CompareOpt = Compare.PREVIOUS,
    history: HistoryOpt = None,
    history_keep: HistoryKeepOpt = None,
) -> None:
    """Write one self-contained HTML page (or Markdown): headline KPIs, charts, data-quality grades,
    the records to fix first and every metric. Not a gate: findings never change the exit code.
    With a run history, the page adds the trend of the findings and of ARR."""
    # --format here is html|md; a global `--format md` before the command name means md too
    common = common_options(ctx, config, as_of, None, output, quiet, no_color, debug)
    if format is None and common.format not in (OutputFormat.TABLE, OutputFormat.MD):
        raise typer.BadParameter(
            f"'{common.format.value}' is not one of 'html', 'md'", param_hint="'--format' / '-f'"
        )
    page_format = format or (
        ReportFormat.MD if common.format is OutputFormat.MD else ReportFormat.HTML
    )
    runs = History(history, history_keep)

    def body() -> int:
        from revops_cli.checks.runner import SAMPLES, chosen_rules
        from revops_cli.history import run_audit
        from revops_cli.metrics import compute_metrics
        from revops_cli.metrics.series import monthly_mrr
        from revops_cli.report.page import build_page, history_charts

        cfg, dataset, _ = load(common)
        by_owner = any(
            frame is not None and "owner_id" in frame.columns
            for frame in (dataset.table("deals"), dataset.table("leads"))
        )
        shared: dict[Hashable, Any] = {}  # the metrics' frames, reused by the monthly series
        with runs.open(cfg, {"--output": common.output}) as store:
            metrics_report = compute_metrics(
                dataset, period, compare.value, "owner" if by_owner else None, shared
            )
            total = len(chosen_rules(cfg.rules, None, [], store is not None))
            with rule_progress(common, total) as on_rule:
                audit_report = run_audit(dataset, store, None, [], SAMPLES, on_rule)
            series = monthly_mrr(dataset, metrics_report.effective_end, cache=shared)
            page = build_page(cfg.path, dataset, audit_report, metrics_report, series)
            if store is not None:
                page = history_charts(page, store, audit_report, metrics_report)
            if page_format is ReportFormat.MD:
                from revops_cli.report.markdown import render_report_md

                common.emit(render_report_md(page))
            else:
                from revops_cli.report.html import render_report_html

                common.emit(render_report_html(page))
            crashed = crashed_rules(common, audit_report.rules)
            code = EXIT_BUG if crashed else EXIT_OK  # D2: the full report, then exit 3
            runs.record(store, "report", cfg, dataset, code, audit_report, metrics_report)
        return code

    run(common, body)


@app.command(cls=FlagHelp)
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The folder holding your CSV exports.")] = Path(
        "."
    ),
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the config (default DIR/revops.yaml; - for stdout).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Overwrite an existing config.")
    ] = False,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", metavar="", help="Do not show the table of recognised files."
        ),
    ] = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Recognise the exports in DIR from their headers and write a starter config."""
    # --config, --as-of and --format mean nothing here; --output names the config to write
    given = common_options(
        ctx, config, as_of, format, Path(output) if output else None, quiet, no_color, debug
    )
    common = Common(None, None, OutputFormat.TABLE, None, given.quiet, given.no_color, given.debug)
    written = str(given.output) if given.output is not None else None

    def body() -> int:
        from revops_cli.load.discover import discover
        from revops_cli.report.init import render_config, render_init_table
        from revops_cli.report.output import check_distinct, descriptor, write_atomic

        given.as_of_given()  # unused, but a bad value is bad usage here too
        found = discover(directory)
        # /dev/stdout is `-`: the config alone on stdout, with paths from the working folder
        to_stdout = written == "-" or (written is not None and descriptor(Path(written)) == 1)
        target = Path(written) if written and not to_stdout else directory / "revops.yaml"
        text = render_config(found, directory, Path.cwd() if to_stdout else target.parent)
        if to_stdout:
            open_stdout().write(text)
            if not common.quiet:
                Console(stderr=True, no_color=common.no_color).print(render_init_table(found))
            return EXIT_OK
        exports = [("an export of the folder", item.path) for item in found]
        check_distinct({"--output": target}, None, exports)  # not even with --force
        if target.exists() and not force:
            raise RevopsError(f"{target}: already exists", "pass --force to overwrite it")
        write_atomic(target, text)
        if not common.quiet:
            common.emit(render_init_table(found))
        used = sum(item.table is not None for item in found)
        typer.echo(f"wrote {target}: {used} of {len(found)} files mapped")
        if used:
            typer.echo(f"next: revops validate -c {target}")
        else:  # validate would stop at "no source is configured"
            typer.echo(f"next: map your exports under `sources:` in {target}")
        return EXIT_OK

    run(common, body)


@contextmanager
def rule_progress(common: Common, total: int) -> Iterator[Callable[[Rule], None] | None]:
    """A progress bar over `total` rules on stderr, only on a terminal and without --quiet;
    plain with --no-color."""
    if common.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    console = Console(stderr=True, no_color=common.no_color)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("auditing", total=total)

        def advance(rule: Rule) -> None:
            progress.update(task, advance=1, description=f"{rule.code} {rule.name}")

        yield advance


@app.command(cls=FlagHelp)
def rules(
    ctx: typer.Context,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List every rule: code, name, tables, default severity, parameters and defaults."""
    # --config, --as-of and --quiet are accepted like everywhere and mean nothing here
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)

    def body() -> int:
        from revops_cli.checks.registry import catalogue
        from revops_cli.report.rules import render_rules

        common.as_of_given()  # unused, but a bad value is bad usage here too
        common.emit(render_rules(catalogue(), common.format))
        return EXIT_OK

    run(common, body)


@app.command(cls=FlagHelp)
def explain(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="A rule code such as D001, or a metric key.")],
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Explain a rule (logic, parameters, an example, the fix) or a metric key in full."""
    # --config, --as-of and --quiet are accepted like everywhere and mean nothing here
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)

    def body() -> int:
        from revops_cli.checks import RULES
        from revops_cli.config import suggest, suggest_rule
        from revops_cli.metrics import METRICS
        from revops_cli.report.metric_help import render_metric_explain
        from revops_cli.report.rules import render_explain

        head = _head(common, "explain")
        name = code.strip()
        if name.lower() in METRICS:
            common.emit(render_metric_explain(METRICS[name.lower()], common.format, head))
            return EXIT_OK
        found = RULES.get(name.upper())
        if found is None:
            known = [*sorted(RULES), *METRICS]
            guess = suggest_rule(name, sorted(RULES), False) or suggest(name.lower(), known)
            raise RevopsError(
                f"unknown rule or metric '{code}'{guess}",
                "`revops rules` lists every code; METRICS.md every metric key",
            )
        common.emit(render_explain(found, common.format, head))
        return EXIT_OK

    run(common, body)


@app.command(cls=FlagHelp)
def validate(
    ctx: typer.Context,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Load the config and every source; show the column mapping, row counts and parse problems."""
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)

    def body() -> int:
        from revops_cli.report.output import check_distinct
        from revops_cli.report.validate import (
            render_validate_csv,
            render_validate_json,
            render_validate_md,
            render_validate_table,
        )

        cfg, dataset, day = load(common)
        check_distinct(
            {"--output": common.output, "--history": cfg.history_path()}, None, cfg.inputs().items()
        )
        renderers: dict[OutputFormat, Callable[[], RenderableType | str]] = {
            OutputFormat.TABLE: lambda: render_validate_table(dataset),
            OutputFormat.JSON: lambda: render_validate_json(dataset, common.config_shown(), day),
            OutputFormat.CSV: lambda: render_validate_csv(dataset),
            OutputFormat.MD: lambda: render_validate_md(dataset),
        }
        common.emit(renderers[common.format]())
        return EXIT_OK

    run(common, body)


class PeriodKind(StrEnum):
    QUARTER = "quarter"
    MONTH = "month"


StoreOpt = Annotated[
    Path | None,
    typer.Option("--history", help="The run history file (default: `history:` in the config)."),
]


@app.command("history", cls=FlagHelp)
def history_command(
    ctx: typer.Context,
    config: ConfigOpt = None,
    history: StoreOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=2**63 - 1, help="Show the latest N runs.")
    ] = 20,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the runs stored in the run history, newest first."""
    # --as-of and --quiet are accepted like everywhere and mean nothing here
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)

    def body() -> int:
        from revops_cli.history import list_runs
        from revops_cli.report.history import render_runs

        with _stored(common, history) as store:
            runs = list_runs(store, limit)
            common.emit(render_runs(runs, common.format, store.path, _head(common, "history")))
        return EXIT_OK

    run(common, body)


@app.command(cls=FlagHelp)
def trend(
    ctx: typer.Context,
    rule: Annotated[
        str | None, typer.Option("--rule", help="A rule code: its flagged records per run.")
    ] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="A metric key: its value per stored period.")
    ] = None,
    period_kind: Annotated[
        PeriodKind | None,
        typer.Option(
            "--period-kind",
            help="Metric periods of this kind (default quarter); for a rule, the latest run of "
            "each calendar month or quarter.",
        ),
    ] = None,
    config: ConfigOpt = None,
    history: StoreOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show the series of one rule or one metric over the stored runs, with a sparkline."""
    # --as-of and --quiet are accepted like everywhere and mean nothing here
    common = common_options(ctx, config, as_of, format, output, quiet, no_color, debug)

    def body() -> int:
        from revops_cli.history.trends import metric_trend, rule_trend
        from revops_cli.report.history import render_trend

        if (rule is None) == (metric is None):
            raise RevopsError("trend: pass exactly one of --rule CODE and --metric KEY")
        kind = period_kind.value if period_kind is not None else None
        with _stored(common, history) as store:
            if rule is not None:
                from revops_cli.checks import RULES

                hint = "`revops rules` lists every code"
                code = _known("--rule", rule, rule.strip().upper(), sorted(RULES), hint)
                series = rule_trend(store, code, kind)
            else:
                from revops_cli.metrics import METRICS

                given, hint = str(metric), "METRICS.md lists every metric key"
                key = _known("--metric", given, given.strip().lower(), list(METRICS), hint)
                series = metric_trend(store, key, kind or "quarter")
            common.emit(render_trend(series, common.format, store.path, _head(common, "trend")))
        return EXIT_OK

    run(common, body)


def _head(common: Common, command: str) -> dict[str, Any]:
    """The common JSON fields (CLI.md) of a command that loads no source: --as-of is checked as
    everywhere, else today in UTC (the config is not read); `tables` is empty."""
    from revops_cli.report.output import bare_envelope

    return bare_envelope(command, common.config, common.as_of_given() or datetime.now(UTC).date())


def _known(option: str, given: str, name: str, known: Sequence[str], hint: str) -> str:
    """`name` when it is one of `known`, else a one-line error with the closest suggestion."""
    from revops_cli.config import suggest

    if name not in known:
        what = option.removeprefix("--")
        raise RevopsError(f"{option}: unknown {what} '{given}'{suggest(name, list(known))}", hint)
    return name


def _version(value: bool) -> None:
    if value:
        typer.echo(f"revops {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, metavar="", help="Show the version."
        ),
    ] = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Audit CRM and billing exports and compute revenue metrics from them.

    The global options may also come before the command name; after it, they win.
    """
    ctx.obj = Before(config, as_of, format, output, quiet, no_color, debug)


def main() -> None:
    """Console-script entry point."""
    tune_allocator()  # before anything loads polars
    standard_streams()
    app()


def standard_streams() -> None:
    """stdout writes UTF-8 whatever the locale, as `-o` writes files: a latin-1 or ASCII stdout
    made a '→' or an 'é' an internal error. stderr escapes what its encoding lacks, and a closed
    stderr (`2>&-`) becomes /dev/null: a message or a progress bar must not fail the run. A closed
    stdout stays closed: writing the output to it is a setup error (`emit`)."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open for the run
    elif isinstance(sys.stderr, io.TextIOWrapper) and not _utf8(sys.stderr):
        sys.stderr.reconfigure(errors="backslashreplace")
    if isinstance(sys.stdout, io.TextIOWrapper) and not _utf8(sys.stdout):
        sys.stdout.reconfigure(encoding="utf-8")


def _utf8(stream: io.TextIOWrapper) -> bool:
    return codecs.lookup(stream.encoding).name == "utf-8"
