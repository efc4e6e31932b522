"""Reading a lab scenario file (``NAME.lab.toml`` beside ``NAME.sel``) into a :class:`Scenario`.

The format is documented in dsl/REFERENCE.md ("Lab scenarios"). Every mistake is a coded
diagnostic at the key's line: SEL771 the file is not TOML, SEL772 a key is unknown, missing or
of the wrong type, SEL773 no scenario for a spec, SEL774 a file or directory it names does not
exist.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from selkit.diagnostics import Diagnostic, DiagnosticError, Span, did_you_mean
from selkit.lab.scenario import (
    SIDES,
    BuildKind,
    BuildSource,
    Command,
    GuestFile,
    Peer,
    Scenario,
    Traffic,
    TrafficKind,
)

#: The file name of the scenario of ``NAME.sel``.
SUFFIX = ".lab.toml"

#: Every key of each table, for "did you mean" and to refuse what the lab would ignore.
KEYS: dict[str, tuple[str, ...]] = {
    "": ("name", "spec", "build", "daemon", "peer", "traffic", "guest", "attacks"),
    "build": ("project", "debian", "orig", "top_dir", "tree", "patches", "steps",
              "build_depends", "binaries"),
    "daemon": ("command", "pidfile", "process", "settle", "restart_signals", "longrun"),
    "peer": ("command", "role", "side", "start", "background", "timeout", "wait", "ready_file",
             "ready_line", "ready_port", "spec"),
    "traffic": ("tcp_echo", "ping", "command", "from", "wait"),
    "guest": ("echo_ports", "sysctl", "kernel_modules", "dirs", "files"),
    "guest.files": ("path", "local", "build", "mode"),
    "attacks": ("skip", "user"),
}
TABLES = ("build", "daemon", "peer", "traffic", "guest", "attacks")


def scenario_path(spec: Path) -> Path:
    """Where the scenario of ``spec`` is: ``NAME.lab.toml`` beside ``NAME.sel``."""
    return spec.with_name(spec.name.removesuffix(".sel") + SUFFIX)


def load_scenario(path: Path, spec: Path | None = None) -> Scenario:
    """The scenario in ``path`` (for ``spec``: the spec named in the file, else the ``.sel``
    beside it with the same name)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DiagnosticError([Diagnostic("SEL773", f"no lab scenario {path}", hint=(
            f"write {path.name} beside the spec (dsl/REFERENCE.md, 'Lab scenarios'), or "
            "give one with --scenario"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticError([Diagnostic("SEL771", f"cannot read {path}: {exc}")]) from None
    return _Reader(path, text).scenario(spec)


class _Reader:
    """One file's reading: its text for positions, its directory for relative paths."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text
        self.lines = text.split("\n")

    # -- diagnostics -----------------------------------------------------------------------
    def where(self, table: str, key: str = "") -> Span:
        """The span of ``key`` in ``[table]`` (its header when ``key`` is empty), as near as
        the text shows it."""
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?") if table else None
        start = 0
        if header is not None:
            start = next((i for i, ln in enumerate(self.lines) if header.match(ln)), -1)
            if start < 0:
                return Span.point(str(self.path))
            if not key:
                return Span.point(str(self.path), start + 1, 1, len(self.lines[start].strip()))
        if not table:
            # A top-level key is a table's header, or a key before the first table.
            as_table = re.compile(r"^(\s*\[\[?\s*)(" + re.escape(key) + r")\s*[\].]")
            for i, line in enumerate(self.lines):
                found = as_table.match(line)
                if found:
                    return Span.point(str(self.path), i + 1, len(found.group(1)) + 1, len(key))
        pattern = re.compile(r"^(\s*)(" + re.escape(key) + r")\s*=")
        for i in range(start, len(self.lines)):
            if (i > start or header is None) and self.lines[i].lstrip().startswith("["):
                break
            found = pattern.match(self.lines[i])
            if found:
                return Span.point(str(self.path), i + 1, len(found.group(1)) + 1, len(key))
        return Span.point(str(self.path), start + 1)

    def fail(self, table: str, key: str, message: str, hint: str | None = None,
             code: str = "SEL772") -> DiagnosticError:
        return DiagnosticError([Diagnostic(code, message, self.where(table, key), hint=hint)])

    # -- typed access ----------------------------------------------------------------------
    def get(self, data: Mapping, table: str, key: str, kind: type | tuple, default: Any = None,
            *, required: bool = False) -> Any:
        if key not in data:
            if required:
                raise self.fail(table, "", f"[{table}] needs '{key}'" if table else
                                f"the scenario needs '{key}'")
            return default
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(
                k.__name__ for k in kind)
            raise self.fail(table, key, f"'{key}' must be a {_toml_type(names)}, not "
                            f"{_toml_type(type(value).__name__)}")
        return value

    def strings(self, data: Mapping, table: str, key: str, *, required: bool = False
                ) -> tuple[str, ...]:
        value = self.get(data, table, key, list, [], required=required)
        if not all(isinstance(v, str) for v in value):
            raise self.fail(table, key, f"'{key}' must be an array of strings")
        return tuple(value)

    def choice(self, data: Mapping, table: str, key: str, choices: tuple[str, ...],
               default: str) -> str:
        value = self.get(data, table, key, str, default)
        if value not in choices:
            raise self.fail(table, key, f"'{key}' is '{value}'; it must be one of "
                            f"{', '.join(choices)}", hint=did_you_mean(value, choices))
        return value

    def local_path(self, table: str, key: str, name: str, *, directory: bool = False) -> Path:
        path = (self.path.parent / name).resolve()
        if not (path.is_dir() if directory else path.is_file()):
            raise self.fail(table, key, f"no {'directory' if directory else 'file'} {name} "
                            f"beside {self.path.name}", code="SEL774")
        return path

    def check_keys(self, data: Mapping, table: str) -> None:
        allowed = KEYS[table]
        for key in data:
            if key not in allowed:
                where = f"[{table}]" if table else "the scenario"
                raise self.fail(table, key, f"unknown key '{key}' in {where}",
                                hint=did_you_mean(key, allowed) or
                                f"known keys: {', '.join(dict.fromkeys(allowed))}")

    # -- the scenario ----------------------------------------------------------------------
    def scenario(self, spec: Path | None) -> Scenario:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line, column = _toml_position(str(exc))
            raise DiagnosticError([Diagnostic(
                "SEL771", f"not a TOML file: {re.sub(r' [(]at line.*', '', str(exc))}",
                Span.point(str(self.path), line, column))]) from None
        self.check_keys(data, "")
        tables = {name: self.get(data, "", name, dict, {}, required=name in (
            "build", "daemon", "peer", "traffic")) for name in TABLES}
        for name, table in tables.items():
            self.check_keys(table, name)
        if "spec" in data:
            named = self.local_path("", "spec", self.get(data, "", "spec", str))
            spec = spec or named   # the spec given on the command line wins
        spec = spec or self.path.with_name(self.path.name.removesuffix(SUFFIX) + ".sel")
        daemon_table, guest, attacks = tables["daemon"], tables["guest"], tables["attacks"]
        command = self.command(daemon_table, "daemon")
        build = self.build(tables["build"])
        names = {name for name, _ in build.binaries}
        peer = self.peer(tables["peer"])
        for table, used in (("daemon", command), ("peer", peer.command)):
            if names and used.program not in names:
                raise self.fail(table, "command", f"'{used.program}' is not a binary of the "
                                "build", hint=did_you_mean(used.program, names) or
                                f"[build] binaries: {', '.join(sorted(names))}")
        skip = self.get(attacks, "attacks", "skip", dict, {})
        return Scenario(
            daemon=self.get(data, "", "name", str, spec.name.removesuffix(".sel")),
            spec=spec, origin=self.path, build=build, command=command, peer=peer,
            traffic=self.traffic(tables["traffic"]),
            pidfile=self.get(daemon_table, "daemon", "pidfile", str, ""),
            process=self.get(daemon_table, "daemon", "process", str, ""),
            settle_seconds=self.get(daemon_table, "daemon", "settle", int, 2),
            restart_signals=self.strings(daemon_table, "daemon", "restart_signals") or ("HUP",),
            longrun_seconds=self.get(daemon_table, "daemon", "longrun", int, 0),
            echo_ports=tuple(self.get(guest, "guest", "echo_ports", list, [])),
            sysctls=tuple(sorted((str(k), str(v)) for k, v in
                                 self.get(guest, "guest", "sysctl", dict, {}).items())),
            kernel_modules=self.strings(guest, "guest", "kernel_modules") or ("tun", "veth"),
            jail_dirs=self.strings(guest, "guest", "dirs"),
            files=self.files(guest),
            skip_attacks=tuple((str(k), str(v)) for k, v in skip.items()),
            battery_user=self.get(attacks, "attacks", "user", str, ""))

    def command(self, table_data: Mapping, table: str) -> Command:
        argv = self.strings(table_data, table, "command", required=True)
        if not argv:
            raise self.fail(table, "command", "'command' is empty: it starts with the program")
        return Command(argv[0], argv[1:])

    def build(self, data: Mapping) -> BuildSource:
        kinds = [k for k in ("project", "debian", "tree") if k in data]
        if len(kinds) > 1:
            raise self.fail("build", kinds[1], f"[build] has both '{kinds[0]}' and "
                            f"'{kinds[1]}': give one source")
        binaries = self.get(data, "build", "binaries", dict, {})
        pairs = tuple(sorted((str(k), str(v)) for k, v in binaries.items()))
        steps = tuple(tuple(step) for step in self.get(data, "build", "steps", list, []))
        if not all(isinstance(s, tuple) and all(isinstance(w, str) for w in s) for s in steps):
            raise self.fail("build", "steps", "'steps' must be an array of commands (arrays "
                            "of strings)")
        series = (self.local_path("build", "patches", data["patches"], directory=True)
                  if "patches" in data else None)
        depends = self.strings(data, "build", "build_depends")
        if "project" in data:
            return BuildSource(BuildKind.PROJECT, project=self.get(data, "build", "project", str))
        if not pairs:
            raise self.fail("build", "", "[build] needs 'binaries' (name = path)")
        if "debian" in data:
            for key in ("orig", "top_dir", "steps"):
                self.get(data, "build", key, (str, list), required=True)
            return BuildSource(BuildKind.DEBIAN, project=self.get(data, "build", "debian", str),
                               orig=data["orig"], top_dir=data["top_dir"], series=series,
                               steps=steps, build_depends=depends, binaries=pairs)
        if "tree" in data:
            tree = self.local_path("build", "tree", self.get(data, "build", "tree", str),
                                   directory=True)
            return BuildSource(BuildKind.TREE, tree=tree, series=series, steps=steps,
                               build_depends=depends, binaries=pairs)
        for name, where in pairs:
            if not Path(where).is_absolute() or not Path(where).is_file():
                raise self.fail("build", "binaries", f"prebuilt binary '{name}': no file "
                                f"{where} (give absolute paths, or a project, debian or tree "
                                "to build from)", code="SEL774")
        return BuildSource(BuildKind.PREBUILT, binaries=pairs)

    def peer(self, data: Mapping) -> Peer:
        spec = data.get("spec")
        return Peer(
            command=self.command(data, "peer"),
            role=self.get(data, "peer", "role", str, required=True),
            side=self.choice(data, "peer", "side", SIDES, "client"),
            start=self.choice(data, "peer", "start", ("traffic", "before"), "traffic"),
            background=self.get(data, "peer", "background", bool, False),
            timeout=self.get(data, "peer", "timeout", int, 0),
            wait=float(self.get(data, "peer", "wait", (int, float), 1)),
            ready_file=self.get(data, "peer", "ready_file", str, ""),
            ready_line=self.get(data, "peer", "ready_line", str, ""),
            ready_port=self.get(data, "peer", "ready_port", int, 0),
            spec=self.local_path("peer", "spec", spec) if isinstance(spec, str) else
            (None if spec is None else self._bad_type("peer", "spec", "string")))

    def _bad_type(self, table: str, key: str, kind: str) -> Path:
        raise self.fail(table, key, f"'{key}' must be a {kind}")

    def traffic(self, data: Mapping) -> Traffic:
        kinds = [k for k in ("tcp_echo", "ping", "command") if k in data]
        if len(kinds) != 1:
            raise self.fail("traffic", kinds[1] if kinds[1:] else "",
                            "[traffic] needs exactly one of tcp_echo = \"HOST:PORT\", ping = "
                            "\"ADDRESS\", command = [ARGV]")
        side = self.choice(data, "traffic", "from", SIDES, "client")
        kind = kinds[0]
        if kind == "command":
            return Traffic(TrafficKind.COMMAND, side, command=self.strings(
                data, "traffic", "command", required=True))
        target = self.get(data, "traffic", kind, str)
        if kind == "tcp_echo" and not re.fullmatch(r"[^:\s]+:\d{1,5}", target):
            raise self.fail("traffic", kind, f"tcp_echo is '{target}'; expected HOST:PORT")
        return Traffic(TrafficKind(kind.replace("_", "-")), side, target=target,
                       wait=self.get(data, "traffic", "wait", int, 3))

    def files(self, guest: Mapping) -> tuple[GuestFile, ...]:
        out = []
        for entry in self.get(guest, "guest", "files", list, []):
            if not isinstance(entry, dict):
                raise self.fail("guest.files", "", "each [[guest.files]] is a table")
            self.check_keys(entry, "guest.files")
            path = self.get(entry, "guest.files", "path", str, required=True)
            mode = int(self.get(entry, "guest.files", "mode", str, "0644"), 8)
            if ("local" in entry) == ("build" in entry):
                raise self.fail("guest.files", "path", f"{path}: give exactly one of local = "
                                "\"FILE beside the scenario\" or build = \"PATH in the build "
                                "tree\"")
            if "local" in entry:
                name = str(self.local_path("guest.files", "local", entry["local"]))
                out.append(GuestFile(path, "local", name, mode))
            else:
                out.append(GuestFile(path, "build", str(entry["build"]), mode))
        return tuple(out)


def _toml_type(python_name: str) -> str:
    return {"str": "string", "int": "integer", "list": "array", "dict": "table",
            "bool": "boolean", "float": "number"}.get(python_name, python_name)


def _toml_position(message: str) -> tuple[int, int]:
    found = re.search(r"at line (\d+), column (\d+)", message)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


def find_scenarios(directory: Path) -> list[Path]:
    """Every scenario file of ``directory``, in name order."""
    return sorted(directory.glob(f"*{SUFFIX}"))

