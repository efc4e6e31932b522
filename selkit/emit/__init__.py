"""Back ends: one emitter per target format, all reading the same IR."""

from __future__ import annotations

import enum
from typing import assert_never

from selkit.emit import seccomp
from selkit.emit.base import Output
from selkit.emit.cil import CilEmitter
from selkit.emit.te import RAW, REFPOLICY, FcEmitter, IfEmitter, TeEmitter
from selkit.ir import nodes as ir


class Target(str, enum.Enum):
    """The source formats the emitters write (a ``.pp`` is packaged by the toolchain from
    :func:`package_sources`)."""

    TE = "te"     # refpolicy .te/.if/.fc
    CIL = "cil"   # CIL
    SECCOMP = "seccomp"  # each phase's seccomp filter: NAME.seccomp.json and NAME_seccomp.h


def emit(module: ir.PolicyModule, target: Target, attributes: frozenset[str]) -> list[Output]:
    """The source files of ``target`` for ``module``."""
    if target is Target.TE:
        return [TeEmitter(attributes, REFPOLICY).emit(module), IfEmitter().emit(module),
                FcEmitter(REFPOLICY).emit(module)]
    if target is Target.CIL:
        return [CilEmitter().emit(module)]
    if target is Target.SECCOMP:
        return [seccomp.emit_json(module), seccomp.emit_header(module)]
    assert_never(target)


def package_sources(module: ir.PolicyModule, attributes: frozenset[str]) -> tuple[Output, Output]:
    """The raw-flavour ``.te`` and ``.fc`` that checkmodule and semodule_package make a
    ``.pp`` of (no refpolicy macros: the toolchain has no m4)."""
    return TeEmitter(attributes, RAW).emit(module), FcEmitter(RAW).emit(module)


__all__ = ["Output", "Target", "emit", "package_sources", "CilEmitter", "TeEmitter",
           "FcEmitter", "IfEmitter"]
