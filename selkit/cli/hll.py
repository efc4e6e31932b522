"""``selkit-hll-sel``: semodule's high-level-language compiler for ``.sel`` modules.

libsemanage (3.4, ``semanage_compile_module`` and ``semanage_pipe_data`` in
libsemanage/src/direct_api.c) runs ``COMPILER_DIRECTORY/<extension>``
(``/usr/libexec/selinux/hll/sel``, or the ``compiler-directory`` of semanage.conf) for a module
file whose extension is not ``cil``: no arguments, the file on standard input, CIL expected on
standard output; whatever comes on standard error is shown, each line prefixed with the module
name, and a non-zero exit refuses the module. It writes the whole input first, then reads
standard output to its end, and only then standard error: a compiler that fills the standard
error pipe while its standard output is still open waits forever, and semodule with it. So
this compiler reads all its input, then writes its CIL (if any) and closes standard output,
and only then reports.

The module is named after the file (``semodule -i openvpn.sel`` installs ``openvpn``), which
this compiler is not told: ``selkit compile --bundle`` writes the file under the spec's module
name. A module on standard input cannot read the files its ``use`` lines name (SEL916, with
the bundle as the way out). Names resolve against the base of ``SELKIT_BASE`` and
``SELKIT_BASE_STORE`` (what ``--base`` and ``--base-store`` say to the other commands; by
default this machine's Debian refpolicy), since libsemanage passes its environment on and
nothing else (docs/hll.md).

Exit status: 0 with the CIL on standard output; 2 for a spec that does not compile (coded
diagnostics on standard error, file ``<stdin>``, lines as in the file given to semodule); 1
when a tool refused; 3 for a bug in selkit.
"""

from __future__ import annotations

import contextlib
import os
import sys

from selkit.cli.app import Application, reported

#: How much input is read at a time.
_CHUNK = 1 << 16


def _read_input() -> bytes:
    """All of standard input, whatever its size: libsemanage writes the whole module before it
    reads anything, so a compiler that stops reading early loses its diagnostics to a write
    error of semodule's. What is beyond the size limit is read and dropped (the loader says
    SEL905 for it)."""
    from selkit.dsl.limits import MAX_SOURCE_BYTES  # noqa: PLC0415

    data = bytearray()
    while chunk := sys.stdin.buffer.read(_CHUNK):
        if len(data) <= MAX_SOURCE_BYTES:
            data += chunk
    return bytes(data)


def _close_output() -> None:
    """Close standard output (it is pointed at /dev/null), so that libsemanage, which reads it
    to its end before it reads standard error, goes on to read what is reported next."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main() -> None:
    """Standard input to CIL on standard output; diagnostics on standard error (sys.exit)."""
    app = Application()
    with reported(lambda: app, before_report=_close_output):
        from selkit.cli.options import base_spec  # noqa: PLC0415
        from selkit.compiler import STDIN, compile_standalone, load_standalone  # noqa: PLC0415
        from selkit.dsl.loader import decode_source  # noqa: PLC0415

        data = _read_input()
        # Diagnostics quote the input, never a file that happens to be called <stdin>.
        app.sources[STDIN] = data.decode("utf-8", "replace")
        program = load_standalone(decode_source(data, STDIN))
        # Parsed before the base is read: a syntax error costs no policy load.
        from selkit.base import load_kb  # noqa: PLC0415

        spec = base_spec(os.environ.get("SELKIT_BASE") or None,
                         os.environ.get("SELKIT_BASE_STORE") or None)
        compiled = compile_standalone(program, load_kb(spec))
        app.write(compiled.files[f"{compiled.name}.cil"].decode())
        _close_output()
        if compiled.module.notes:  # warnings and notes that do not refuse the module
            app.diagnostics(compiled.module.notes)


if __name__ == "__main__":
    main()
