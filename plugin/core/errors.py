"""The plugin's error tree; each class knows the exit status it maps to.

    PluginError (exit 1: expected failure outside AWS)
    ├── ConfigError (exit 2: bad configuration, every problem listed at once)
    ├── AwsError (exit 3: an AWS call failed after retries)
    ├── RunError (exit 1: a process could not start, dockerd not up, registry refused, file not writable)
    ├── BuildError (exit = the builder's own status)
    └── Signalled (exit 128+N: the plugin was told to stop; the child got the signal first)

Modules raise these and never exit; ``plugin.__main__.main`` maps them to exit statuses. Every class
pickles to itself (``__reduce__``): the AWS worker process (``plugin.aws.worker``) hands its error to the
plugin, which reports it as if it had been raised there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_AWS = 3
EXIT_BUG = 70


class PluginError(Exception):
    """An expected failure with a message meant for the user."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,))


@dataclass(frozen=True)
class Problem:
    """One bad setting: the variable the user set, its (masked) value, and what was expected."""

    variable: str
    value: str | None
    expected: str

    def render(self) -> str:
        shown = "" if self.value is None else f"={self.value!r}"
        return f"{self.variable}{shown}: {self.expected}"


class ConfigError(PluginError):
    """Bad configuration: one message that names every bad variable."""

    exit_code = EXIT_CONFIG

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"  - {p.render()}" for p in problems]
        noun = "setting" if len(problems) == 1 else "settings"
        super().__init__(f"invalid configuration ({len(problems)} bad {noun}):\n" + "\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))

    @classmethod
    def single(cls, variable: str, value: str | None, expected: str) -> ConfigError:
        return cls([Problem(variable, value, expected)])


@dataclass
class AwsError(PluginError):
    """An AWS call failed (after the retry policy gave up, or at once for a non-retryable error)."""

    operation: str
    repository: str | None
    code: str
    detail: str
    exit_code: int = field(default=EXIT_AWS, init=False)

    def __post_init__(self) -> None:
        where = f" on repository {self.repository!r}" if self.repository else ""
        super().__init__(f"AWS {self.operation}{where} failed: {self.code}: {self.detail}")

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.operation, self.repository, self.code, self.detail))


class RunError(PluginError):
    """A step outside AWS failed: a process did not start, dockerd never answered, a push was refused."""


class BuildError(PluginError):
    """The builder ran and failed; the plugin exits with the builder's own status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.exit_code = status if 0 < status < 256 else EXIT_FAILURE
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.status))


class Signalled(PluginError):
    """The plugin received SIGTERM/SIGINT; it forwarded the signal to its child and now exits 128+N."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum
        self.exit_code = 128 + signum

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.signum,))
