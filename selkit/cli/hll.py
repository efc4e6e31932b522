"""``selkit-hll-sel``: semodule's high-level-language compiler for ``.sel`` modules.

libsemanage runs ``COMPILER_DIRECTORY/<extension>`` (``/usr/libexec/selinux/hll/sel``, or the
``compiler-directory`` of semanage.conf) for a module file whose extension it does not know,
with no arguments, the file on standard input, and reads CIL from standard output; anything
on standard error is shown, a non-zero exit refuses the module. The module is named after the
file (``semodule -i openvpn.sel`` installs ``openvpn``), so the file should carry the spec's
module name, as ``selkit compile --bundle`` writes it. A module on standard input cannot read
the files its ``use`` lines name: such a spec is refused (SEL916) with the bundle as the way
out. Names resolve against this machine's default policy (docs/hll.md).
"""

from __future__ import annotations

import sys

#: The name diagnostics give the module (libsemanage does not pass the file's name).
STDIN = "<stdin>"

#: Exit status for a refused module (semodule only checks that it is not 0).
REFUSED = 1


def compile_stdin(text: str) -> str:
    """The CIL of the one spec in ``text`` (raises DiagnosticError)."""
    from selkit.base import BaseSpec, load_kb  # noqa: PLC0415
    from selkit.compiler import Artifact, compile_modules, front_end  # noqa: PLC0415
    from selkit.diagnostics import Diagnostic, DiagnosticError  # noqa: PLC0415
    from selkit.dsl import ast  # noqa: PLC0415
    from selkit.dsl.parser import parse  # noqa: PLC0415

    uses = parse(text, STDIN).of(ast.Use)
    if uses:
        raise DiagnosticError([Diagnostic(
            "SEL916", f"'use \"{uses[0].path.value}\"': a module given on standard input "
            "cannot read the files next to it", uses[0].span,
            hint="install a bundle instead: selkit compile --bundle SPEC -o DIR, then "
                 "semodule -i DIR/MODULE.sel")])
    kb = load_kb(BaseSpec())
    _, modules = front_end(STDIN, kb, text)
    if len(modules) != 1:
        raise DiagnosticError([Diagnostic(
            "SEL916", f"semodule installs one module per file; this one declares "
            f"{len(modules)} daemons", hint="give each daemon a file of its own")])
    (compiled,) = compile_modules(modules, kb, (Artifact.CIL,))
    return compiled.files[f"{modules[0].name}.cil"].decode()


def main() -> None:
    """Standard input to standard output; diagnostics on standard error, exit 1 on any."""
    from selkit.diagnostics import DiagnosticError, render_plain  # noqa: PLC0415
    from selkit.dsl.limits import MAX_SOURCE_BYTES  # noqa: PLC0415

    data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
    try:
        if len(data) > MAX_SOURCE_BYTES:
            sys.stderr.write(f"error[SEL905]: {STDIN}: larger than {MAX_SOURCE_BYTES} bytes\n")
            sys.exit(REFUSED)
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        sys.stderr.write(f"error[SEL902]: {STDIN} is not UTF-8 text ({exc.reason})\n")
        sys.exit(REFUSED)
    try:
        cil = compile_stdin(text)
    except DiagnosticError as exc:
        for diagnostic in exc.diagnostics:
            sys.stderr.write(render_plain(diagnostic, {STDIN: text}) + "\n")
        sys.exit(REFUSED)
    sys.stdout.write(cil)


if __name__ == "__main__":
    main()
