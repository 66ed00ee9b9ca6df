"""The three kinds of failure curate distinguishes.

    CurateError
    ├── RecipeError      the user's recipe or command line is wrong: shown as one line, exit 2,
    │                    raised before any work starts
    ├── InputError       an input path is missing or unreadable, or changed since the output's run
    │                    began: one line, exit 2
    ├── OutputInUseError another `curate run` holds the output folder: one line, exit 2
    ├── RecordError      one record is unusable (bad JSON, bad UTF-8, no text): it is
    │   │                quarantined with its file and line and counted; the run goes on
    │   └── ParseError   a model's answer cannot become a record: counted under its reason
    │                    and kept in failures/ for `--retry-failures`; never a junk row
    ├── AccountingError  the per-stage numbers do not add up: the run fails loudly, exit 3
    ├── RunStateError    the run's work files contradict each other mid-run (a stage ran with
    │                    another task count, a file a stage needs is missing): exit 1
    └── RetryableError   a transient failure (network, engine): retried, then recorded
"""


class CurateError(Exception):
    """Base of every error curate raises on purpose."""

    exit_code = 1


class RecipeError(CurateError):
    """The recipe (or a --set override) is invalid; the message names the YAML path."""

    exit_code = 2


class InputError(CurateError):
    """An input path does not exist or cannot be opened, or differs from what the output's run read."""

    exit_code = 2


class OutputInUseError(CurateError):
    """Another run holds the output folder's lock; nothing ran."""

    exit_code = 2


class RecordError(CurateError):
    """One record cannot be used; it is quarantined, never fatal."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class AccountingError(CurateError):
    """Records entered a stage and did not leave it as kept, dropped or quarantined."""

    exit_code = 3


class RunStateError(CurateError):
    """The files one stage left for the next do not match what the next stage expects."""


class RetryableError(CurateError):
    """A transient failure worth retrying (timeouts, HTTP 429/5xx)."""


class ParseError(RecordError):
    """A model's answer cannot be turned into a record; `reason` is the counted failure reason."""
