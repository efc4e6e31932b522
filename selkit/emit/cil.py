"""CIL: the same module for ``secilc`` and ``semodule -i NAME.cil``."""

from __future__ import annotations

from typing import assert_never

from selkit.emit.base import Output, header_lines, provenance, rule_sections, target_text
from selkit.ir import nodes as ir


def filecon_kind(kind: ir.FileKind) -> str:
    """The CIL ``filecon`` file-type keyword for a file kind."""
    match kind:
        case ir.FileKind.ANY:
            return "any"
        case ir.FileKind.FILE:
            return "file"
        case ir.FileKind.DIR:
            return "dir"
        case ir.FileKind.SYMLINK:
            return "symlink"
        case ir.FileKind.SOCKET:
            return "socket"
        case ir.FileKind.PIPE:
            return "pipe"
        case ir.FileKind.CHAR:
            return "char"
        case ir.FileKind.BLOCK:
            return "block"
        case _:
            assert_never(kind)


class CilEmitter:
    """Emit the ``.cil`` text of a module."""

    # Whether attribute membership may be written as an expression (CIL typeattributeset can).
    ATTRIBUTE_EXPRESSIONS = True

    def emit(self, module: ir.PolicyModule) -> Output:
        """The ``.cil`` file."""
        out = Output(f"{module.name}.cil")
        for line in header_lines(module, ";"):
            out.add(line)
        out.add()
        out.add("; Declarations")
        for decl in module.types:
            out.add(f"(type {decl.name})\t; {provenance(decl.origin)}", decl.origin)
            role = "system_r" if decl.role is ir.TypeRole.DOMAIN else "object_r"
            out.add(f"(roletype {role} {decl.name})", decl.origin)
            for attr in decl.attributes:
                out.add(f"(typeattributeset {attr} ({decl.name}))", decl.origin)
        for title, rules in rule_sections(module):
            out.add()
            out.add(f"; {title}")
            for rule in rules:
                out.add(f"{_rule(rule)}\t; {provenance(rule.origin)}", rule.origin)
        if module.file_contexts:
            out.add()
            out.add("; File contexts")
            for fc in module.file_contexts:
                out.add(f'(filecon "{_cil_string(fc.regex)}" {filecon_kind(fc.kind)} '
                        f"{_context(fc.type, module.mls)})\t; {provenance(fc.origin)}",
                        fc.origin)
        return out


def rule_statement(rule: ir.Rule) -> str:
    """One rule in CIL syntax, without its provenance comment."""
    return _rule(rule)


def _rule(rule: ir.Rule) -> str:
    match rule:
        case ir.Allow():
            return (f"(allow {rule.source} {target_text(rule)} "
                    f"({rule.tclass} ({' '.join(rule.perms)})))")
        case ir.TypeTransition():
            return f"(typetransition {rule.source} {rule.target} {rule.tclass} {rule.default})"
        case ir.TypeBounds():
            return f"(typebounds {rule.parent} {rule.child})"
        case _:
            assert_never(rule)


def _context(type_name: str, mls: bool) -> str:
    level = " ((s0) (s0))" if mls else ""
    return f"(system_u object_r {type_name}{level})"


def _cil_string(text: str) -> str:
    if '"' in text:
        raise ValueError(f"a file context regex cannot contain '\"' in CIL: {text}")
    return text
