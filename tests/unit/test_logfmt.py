"""Logs for people: short human lines, colour only on a terminal, JSON lines on request, one summary."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from plugin.core import log as plugin_log
from plugin.core.logfmt import HumanRenderer, JsonRenderer, sentence, use_colour
from plugin.run.outputs import BuildResult
from plugin.run.summary import Timeline, log_summary

STAMP = "2026-05-01T12:34:56.789012Z"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ROOT = Path(__file__).resolve().parents[2]


def human(event: str, level: str = "info", colour: bool = False, **fields: object) -> str:
    return HumanRenderer(colour)(None, level, {"event": event, "level": level, "timestamp": STAMP, **fields})


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def buffer() -> Iterator[io.StringIO]:
    """The plugin's real logging chain (Redactor included) writing human lines to a buffer."""
    out = io.StringIO()
    plugin_log.configure(stream=out, colour=False)
    yield out
    structlog.reset_defaults()


class TestSentence:
    """An event's sentence: its template with fields filled in; the used fields are reported."""

    def test_fields_fill_the_template(self) -> None:
        assert sentence("ecr.token", {"endpoint": REGISTRY, "username": "AWS"}) == (
            f"Got an ECR login for {REGISTRY}",
            {"endpoint"},
        )

    def test_optional_part_is_dropped_when_its_field_is_none(self) -> None:
        text, _ = sentence("settings.unknown_variable", {"variable": "PLUGIN_FOO", "closest": None})
        assert text == "Unknown variable PLUGIN_FOO"

    def test_optional_part_is_kept_when_its_field_is_set(self) -> None:
        text, _ = sentence("settings.unknown_variable", {"variable": "PLUGIN_FOO", "closest": "PLUGIN_FORCE"})
        assert text == "Unknown variable PLUGIN_FOO; did you mean PLUGIN_FORCE?"

    def test_a_list_field_reads_as_a_list(self) -> None:
        text, _ = sentence("ecr.policies", {"repository": "team/app", "applied": ["lifecycle", "repository"]})
        assert text == "Applied lifecycle, repository to team/app"

    def test_an_event_without_a_sentence_is_shown_by_its_name(self) -> None:
        assert sentence("some.new_event", {"x": 1}) == ("some.new_event", set())


class TestHumanRenderer:
    """`HH:MM:SS LEVEL sentence  key=value ...  (event.id)`."""

    def test_one_short_line_time_level_sentence_details_id(self) -> None:
        line = human("ecr.token", endpoint=REGISTRY, username="AWS", expires="2026-05-01 13:34:56")
        assert line == (
            f'12:34:56 INFO  Got an ECR login for {REGISTRY}  username=AWS expires="2026-05-01 13:34:56"'
            "  (ecr.token)"
        )

    def test_warning_level_and_missing_values_are_left_out(self) -> None:
        line = human("settings.unknown_variable", "warning", variable="PLUGIN_FOO", closest=None)
        assert line == "12:34:56 WARN  Unknown variable PLUGIN_FOO  (settings.unknown_variable)"

    def test_a_command_trace_is_printed_as_it_is(self) -> None:
        assert (
            human("+ docker build --file=Dockerfile .") == "12:34:56 INFO  + docker build --file=Dockerfile ."
        )

    def test_a_multi_line_sentence_continues_under_it_and_the_details_follow(self) -> None:
        message = "invalid configuration (1 bad setting):\n  - PLUGIN_REPO: a repository name"
        assert human("plugin.failed", "error", error=message, exit_code=2).splitlines() == [
            "12:34:56 ERROR invalid configuration (1 bad setting):",
            "                 - PLUGIN_REPO: a repository name",
            "               exit_code=2  (plugin.failed)",
        ]

    def test_a_multi_line_value_is_indented_under_its_key(self) -> None:
        lines = human("plugin.bug", "error", traceback="Traceback:\n  File x\nValueError").splitlines()
        assert lines[1:] == [
            "               traceback:",
            "                 Traceback:",
            "                   File x",
            "                 ValueError",
        ]

    def test_a_dict_value_is_one_readable_line(self) -> None:
        lines = human("outputs.written", seconds={"build": 7.5, "total": 8.0}).splitlines()
        assert lines[1] == "               seconds: build 7.50, total 8.00"

    def test_a_long_list_gets_one_line_per_item(self) -> None:
        images = [f"{REGISTRY}/team/app:{t}" for t in ("1.0.0", "1.0", "1", "latest")]
        lines = human("outputs.written", images=images).splitlines()
        assert lines[1:] == [f"               images: {i}" for i in images]

    def test_a_list_of_dicts_reads_as_records_not_a_python_repr(self) -> None:
        tags = [{"tag": "1.0", "source": "PLUGIN_TAGS"}, {"tag": "latest", "source": "PLUGIN_TAGS"}]
        line = human("tags.resolved", tags=tags)
        assert line == (
            "12:34:56 INFO  The tags of this run, with what made each"
            '  tags="1.0 (PLUGIN_TAGS), latest (PLUGIN_TAGS)"  (tags.resolved)'
        )
        assert "{" not in line and "'" not in line

    def test_a_long_list_of_dicts_gets_one_record_per_line(self) -> None:
        tags = [
            {"tag": "1.2.3", "source": "PLUGIN_TAG_RULES", "rule": "line 1: type=semver,pattern={{version}}"},
            {"tag": "latest", "source": "PLUGIN_TAG_FLAVOR", "rule": "latest=auto, after line 1"},
        ]
        assert human("tags.resolved", tags=tags).splitlines()[1:] == [
            "               tags: 1.2.3 (PLUGIN_TAG_RULES; line 1: type=semver,pattern={{version}})",
            "               tags: latest (PLUGIN_TAG_FLAVOR; latest=auto, after line 1)",
        ]

    def test_a_dict_inside_a_dict_is_a_record_too(self) -> None:
        lines = human("x.y", outer={"a": {"name": "n", "why": "w"}, "b": [1, 2]}).splitlines()
        assert lines[1] == "               outer: a n (w), b 1, 2"

    def test_json_keeps_a_list_of_dicts_as_it_is(self) -> None:
        tags = [{"tag": "1.0", "source": "PLUGIN_TAGS"}]
        line = JsonRenderer()(None, "info", {"event": "tags.resolved", "level": "info", "tags": tags})
        assert json.loads(line)["tags"] == tags

    def test_values_with_spaces_or_quotes_are_quoted(self) -> None:
        assert human("x.y", hint='say "hi" now', plain="a,b").endswith(
            'hint="say \\"hi\\" now" plain=a,b  (x.y)'
        )

    def test_colour_marks_time_level_keys_and_id(self) -> None:
        line = human("dockerd.ready", "warning", colour=True, seconds=1.5)
        assert line == (
            "\x1b[2m12:34:56\x1b[0m \x1b[33mWARN \x1b[0m dockerd answers, 1.50s after it was started  "
            "\x1b[2m(dockerd.ready)\x1b[0m"
        )

    def test_without_colour_there_is_no_escape_code(self) -> None:
        assert "\x1b" not in human("dockerd.ready", "error", seconds=1.5)


class TestUseColour:
    """Colour only on a terminal; NO_COLOR always wins; FORCE_COLOR for CI viewers that render ANSI."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def test_a_terminal_gets_colour(self) -> None:
        assert use_colour(self.Tty(), {}) is True

    def test_a_pipe_gets_none(self) -> None:
        assert use_colour(io.StringIO(), {}) is False

    def test_no_color_wins_even_on_a_terminal(self) -> None:
        assert use_colour(self.Tty(), {"NO_COLOR": "1", "FORCE_COLOR": "1"}) is False

    def test_force_color_colours_a_pipe(self) -> None:
        assert use_colour(io.StringIO(), {"FORCE_COLOR": "1"}) is True

    @pytest.mark.parametrize("value", ["", "0"])
    def test_force_color_zero_or_empty_does_not(self, value: str) -> None:
        assert use_colour(io.StringIO(), {"FORCE_COLOR": value}) is False


class TestJsonRenderer:
    """JSON lines: the event id, the sentence as `message`, and every field as it is."""

    def test_one_json_object_with_the_sentence(self) -> None:
        line = JsonRenderer()(
            None, "info", {"event": "ecr.token", "level": "info", "timestamp": STAMP, "endpoint": REGISTRY}
        )
        assert json.loads(line) == {
            "timestamp": STAMP,
            "level": "info",
            "event": "ecr.token",
            "message": f"Got an ECR login for {REGISTRY}",
            "endpoint": REGISTRY,
        }


class TestConfiguredChain:
    """configure() keeps the Redactor before the renderer, for human and JSON lines alike."""

    def test_secrets_are_masked_in_human_lines(self, buffer: io.StringIO) -> None:
        plugin_log.REDACTOR.add("sentinel-secret-123")
        plugin_log.get_logger().info("ecr.token", endpoint="x", note="has sentinel-secret-123 in it")
        assert "sentinel-secret-123" not in buffer.getvalue()
        assert 'note="has *** in it"' in buffer.getvalue()

    def test_secrets_are_masked_in_json_lines(self) -> None:
        out = io.StringIO()
        plugin_log.configure(json_lines=True, stream=out)
        try:
            plugin_log.REDACTOR.add("sentinel-secret-123")
            plugin_log.get_logger().info("ecr.token", endpoint="sentinel-secret-123", password="p4ss")
        finally:
            structlog.reset_defaults()
        record = json.loads(out.getvalue())
        assert (record["endpoint"], record["password"], record["message"]) == (
            "***",
            "***",
            "Got an ECR login for ***",
        )

    def test_debug_lines_are_filtered_at_info(self, buffer: io.StringIO) -> None:
        plugin_log.get_logger().debug("run.exit", step="build", status=0)
        assert buffer.getvalue() == ""

    def test_the_dev_console_renderer_is_not_used(self) -> None:
        """style.md: no rich ConsoleRenderer (its tracebacks show locals, after every processor)."""
        sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "plugin").rglob("*.py"))
        assert "ConsoleRenderer" not in sources
        assert "structlog.dev" not in sources


class TestTimeline:
    """Seconds per phase; after a failure the phase that failed is still named."""

    def test_phases_and_total(self) -> None:
        clock = FakeClock()
        timeline = Timeline(clock)
        with timeline.phase("settings"):
            clock.now += 0.25
        with timeline.phase("build"):
            clock.now += 7.5
        clock.now += 0.5
        assert timeline.seconds() == {"settings": 0.25, "build": 7.5, "total": 8.25}
        assert timeline.current is None

    def test_a_failed_phase_stays_current(self) -> None:
        timeline = Timeline(FakeClock())
        with pytest.raises(RuntimeError), timeline.phase("prepare"):
            raise RuntimeError("boom")
        assert timeline.current == "prepare"
        assert "prepare" in timeline.phases


class TestSummary:
    """The last line says what was pushed where, the digest, and the time of each phase."""

    @staticmethod
    def timeline() -> Timeline:
        clock = FakeClock()
        timeline = Timeline(clock)
        with timeline.phase("build"):
            clock.now += 2.0
        return timeline

    def test_pushed(self, buffer: io.StringIO) -> None:
        result = BuildResult(REGISTRY, "team/app", ["1.0.0", "latest"], "sha256:" + "a" * 64)
        log_summary(result, pushed=True, timeline=self.timeline())
        assert buffer.getvalue().splitlines()[0][8:] == (
            f" INFO  Pushed team/app to {REGISTRY}  tags=1.0.0,latest digest=sha256:{'a' * 64}"
            "  (summary.pushed)"
        )
        assert buffer.getvalue().splitlines()[1] == "               seconds: build 2.00, total 2.00"

    def test_pushed_to_extra_registries_names_them(self, buffer: io.StringIO) -> None:
        other = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
        images = [f"{REGISTRY}/team/app:1", f"{other}/team/app:1"]
        log_summary(BuildResult(REGISTRY, "team/app", ["1"], "sha256:b", images), pushed=True)
        assert f"also_pushed_to={other}/team/app" in buffer.getvalue()

    def test_built_without_a_push(self, buffer: io.StringIO) -> None:
        log_summary(BuildResult(REGISTRY, "team/app", ["1"], tar_path="/out/image.tar"), pushed=False)
        first = buffer.getvalue().splitlines()[0]
        assert "Built team/app without pushing it" in first
        assert "tarball=/out/image.tar" in first

    def test_skipped(self, buffer: io.StringIO) -> None:
        result = BuildResult(REGISTRY, "team/app", ["1"], "sha256:c", skipped=True)
        log_summary(result, pushed=False, reason="tags exist (1)")
        assert "Skipped team/app: tags exist (1)" in buffer.getvalue()


class TestFailureOutput:
    """A failed run ends with the message, the exit status, the phase and the time (no traceback)."""

    def run(self, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "plugin", "plan"],
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    def test_human_failure(self) -> None:
        done = self.run({"PLUGIN_REPO": "a", "PLUGIN_ACCOUNT": "12345"})
        assert done.returncode == 2
        lines = done.stderr.splitlines()
        assert lines[0][8:] == " ERROR invalid configuration (1 bad setting):"
        assert lines[1].startswith("                 - PLUGIN_ACCOUNT='12345': an AWS account id")
        assert lines[2].startswith("               exit_code=2 phase=settings seconds=")
        assert lines[2].endswith("error_type=ConfigError  (plugin.failed)")
        assert "Traceback" not in done.stderr

    def test_plan_logs_the_tags_readably(self) -> None:
        env = {"PLUGIN_REGISTRY": REGISTRY, "PLUGIN_REPO": "team/app", "PLUGIN_TAGS": "1.0,latest"}
        done = self.run({**env, "PLUGIN_BUILDER": "kaniko"})
        assert done.returncode == 0, done.stderr
        assert 'tags="1.0 (PLUGIN_TAGS), latest (PLUGIN_TAGS)"  (tags.resolved)' in done.stderr
        record = json.loads(self.run({**env, "PLUGIN_BUILDER": "kaniko", "PLUGIN_LOG_JSON": "true"}).stderr)
        assert record["tags"] == [
            {"tag": "1.0", "source": "PLUGIN_TAGS"},
            {"tag": "latest", "source": "PLUGIN_TAGS"},
        ]

    def test_json_failure_from_the_first_line(self) -> None:
        done = self.run({"PLUGIN_REPO": "a", "PLUGIN_ACCOUNT": "12345", "PLUGIN_LOG_JSON": "true"})
        record = json.loads(done.stderr)
        assert (record["event"], record["exit_code"], record["phase"]) == ("plugin.failed", 2, "settings")
        assert "PLUGIN_ACCOUNT='12345'" in record["error"]
