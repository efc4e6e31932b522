"""Back ends: one emitter per target format, all reading the same IR."""

from __future__ import annotations

import enum
from typing import assert_never

from selkit.emit.base import Output
from selkit.emit.cil import CilEmitter
from selkit.emit.te import RAW, REFPOLICY, FcEmitter, IfEmitter, TeEmitter
from selkit.ir import nodes as ir


class Target(str, enum.Enum):
    """What ``selkit compile --target`` can produce."""

    TE = "te"     # refpolicy .te/.if/.fc
    CIL = "cil"   # CIL
    PP = "pp"     # binary module package (checkmodule + semodule_package)


def emit(module: ir.PolicyModule, target: Target, attributes: frozenset[str]) -> list[Output]:
    """The source files of ``target`` for ``module`` (``pp`` is built by the toolchain)."""
    if target is Target.TE:
        return [TeEmitter(attributes, REFPOLICY).emit(module), IfEmitter().emit(module),
                FcEmitter(REFPOLICY).emit(module)]
    if target is Target.CIL:
        return [CilEmitter().emit(module)]
    if target is Target.PP:
        return [TeEmitter(attributes, RAW).emit(module), FcEmitter(RAW).emit(module)]
    assert_never(target)


__all__ = ["Output", "Target", "emit", "CilEmitter", "TeEmitter", "FcEmitter", "IfEmitter"]
