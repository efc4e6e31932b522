"""Refpolicy module sources: ``.te``, ``.fc`` and ``.if``.

Two flavours of the same rules:

* ``refpolicy`` — what ships: ``policy_module()``, ``gen_require()``, ``gen_context()``; builds
  with ``make -f /usr/share/selinux/devel/Makefile``.
* ``raw`` — the same text with the macros already expanded (``module``, ``require``, plain
  contexts); fed straight to ``checkmodule`` so building a ``.pp`` needs no m4 pass over the
  whole refpolicy interface tree.

Rules are written out one by one (no interface calls): refpolicy interfaces grant more than a
phase needs, and minimality is the point. The ``.if`` offers interfaces to *other* modules.
"""

from __future__ import annotations

from typing import assert_never

from selkit.emit.base import (
    Output,
    external_names,
    header_lines,
    perms_text,
    provenance,
    rule_sections,
    target_text,
    used_classes,
)
from selkit.ir import nodes as ir
from selkit.ir.passes import starter_rules

REFPOLICY = "refpolicy"
RAW = "raw"

#: The caller of an interface in a ``.if`` (its first argument).
CALLER = "$1"


def fc_kind_column(kind: ir.FileKind) -> str:
    """The ``.fc`` file-type column for a file kind (empty: every kind)."""
    match kind:
        case ir.FileKind.ANY:
            return ""
        case ir.FileKind.FILE:
            return "--"
        case ir.FileKind.DIR:
            return "-d"
        case ir.FileKind.SYMLINK:
            return "-l"
        case ir.FileKind.SOCKET:
            return "-s"
        case ir.FileKind.PIPE:
            return "-p"
        case ir.FileKind.CHAR:
            return "-c"
        case ir.FileKind.BLOCK:
            return "-b"
        case _:
            assert_never(kind)


class TeEmitter:
    """Emit the ``.te`` text of a module."""

    # Whether the output may use refpolicy's m4 support macros.
    USES_MACROS = True

    def __init__(self, attributes: frozenset[str], flavour: str = REFPOLICY):
        self.attributes = attributes
        self.flavour = flavour

    def emit(self, module: ir.PolicyModule) -> Output:
        """The ``.te`` file."""
        out = Output(f"{module.name}.te")
        macros = self.flavour == REFPOLICY
        if macros:
            out.add(f"policy_module({module.name}, {module.version})")
        else:
            out.add(f"module {module.name} {module.version};")
        out.add()
        _banner(out, header_lines(module, "#"))
        self._require(out, module, macros)
        self._declarations(out, module)
        for title, rules in rule_sections(module):
            out.add()
            _banner(out, [f"# {title}"])
            for rule in rules:
                out.add(_rule_text(rule), rule.origin)
        return out

    def _require(self, out: Output, module: ir.PolicyModule, macros: bool) -> None:
        types, attrs = external_names(module, self.attributes)
        body = []
        if types:
            body.append("type " + ", ".join(types) + ";")
        if attrs:
            body.append("attribute " + ", ".join(attrs) + ";")
        if not macros:
            body.append("role system_r;")
            for cls, perms in used_classes(module).items():
                body.append(f"class {cls} {{ {' '.join(perms)} }};" if perms else f"class {cls};")
        if not body:
            return
        out.add()
        if macros:
            out.add("gen_require(`")
            for line in body:
                out.add("\t" + line)
            out.add("')")
        else:
            out.add("require {")
            for line in body:
                out.add("\t" + line)
            out.add("}")

    def _declarations(self, out: Output, module: ir.PolicyModule) -> None:
        out.add()
        _banner(out, ["# Declarations"])
        for decl in module.types:
            out.add(f"type {decl.name};\t# {provenance(decl.origin)}", decl.origin)
            if decl.attributes:
                out.add(f"typeattribute {decl.name} {', '.join(decl.attributes)};", decl.origin)
            if decl.role is ir.TypeRole.DOMAIN:
                out.add(f"role system_r types {decl.name};", decl.origin)
            out.add()
        if out.lines[-1] == "":
            out.lines.pop()


def _banner(out: Output, lines: list[str]) -> None:
    out.add("#" * 40)
    out.add("#")
    for line in lines:
        out.add(line)
    out.add("#")


def rule_statement(rule: ir.Rule) -> str:
    """One rule in refpolicy syntax, without its provenance comment."""
    match rule:
        case ir.Allow():
            return (f"allow {rule.source} {target_text(rule)}:{rule.tclass} "
                    f"{perms_text(rule.perms)};")
        case ir.TypeTransition():
            return f"type_transition {rule.source} {rule.target}:{rule.tclass} {rule.default};"
        case ir.TypeBounds():
            return f"typebounds {rule.parent} {rule.child};"
        case _:
            assert_never(rule)


def _rule_text(rule: ir.Rule) -> str:
    return f"{rule_statement(rule)}\t# {provenance(rule.origin)}"


class FcEmitter:
    """Emit the ``.fc`` file (``gen_context()`` in the refpolicy flavour)."""

    def __init__(self, flavour: str = REFPOLICY):
        self.flavour = flavour

    def emit(self, module: ir.PolicyModule) -> Output:
        """The ``.fc`` file."""
        out = Output(f"{module.name}.fc")
        for line in header_lines(module, "#"):
            out.add(line)
        out.add()
        for fc in module.file_contexts:
            if self.flavour == REFPOLICY:
                ctx = f"gen_context(system_u:object_r:{fc.type},s0)" if module.mls else \
                    f"gen_context(system_u:object_r:{fc.type})"
            else:
                ctx = f"system_u:object_r:{fc.type}" + (":s0" if module.mls else "")
            kind = fc_kind_column(fc.kind)
            columns = [fc.regex, kind, ctx] if kind else [fc.regex, ctx]
            out.add("\t".join(columns), fc.origin)
        return out


class IfEmitter:
    """Emit the ``.if`` file: interfaces other modules may call to reach this daemon."""

    def emit(self, module: ir.PolicyModule) -> Output:
        """The ``.if`` file."""
        out = Output(f"{module.name}.if")
        out.add(f"## <summary>{module.name}, confined in phases by selkit "
                f"({module.source_path}).</summary>")
        for line in header_lines(module, "##")[:3]:
            out.add(line)
        entry = module.entry
        for decl in module.types:
            if decl.role is not ir.TypeRole.EXEC:
                continue
            # The same rules the .te grants the module's own starter, offered to any caller.
            rules = starter_rules(module, decl.name, CALLER, decl.origin)
            self._interface(out, f"{module.name}_domtrans", [
                f"Execute {module.name} and enter its {entry.name} domain.",
            ], [entry.domain, decl.name], [rule_statement(rule) for rule in rules])
        for decl in module.types:
            if decl.role is not ir.TypeRole.FILE:
                continue
            # File types are named after the daemon, which may differ from the module name.
            short = ir.own_name_of(module.daemon or module.name, decl.name)
            self._interface(out, f"{module.name}_read_{short}", [
                f"Read {module.name}'s {short} files ({decl.name}).",
            ], [decl.name], [
                f"allow {CALLER} {decl.name}:dir {{ getattr ioctl lock open read search }};",
                f"allow {CALLER} {decl.name}:file {{ getattr ioctl lock open read }};",
                f"allow {CALLER} {decl.name}:lnk_file {{ getattr read }};",
            ])
        return out

    @staticmethod
    def _interface(out: Output, name: str, summary: list[str], requires: list[str],
                   body: list[str]) -> None:
        out.add()
        out.add("#" * 40)
        out.add("## <summary>")
        for line in summary:
            out.add(f"##\t{line}")
        out.add("## </summary>")
        out.add('## <param name="domain">')
        out.add("##\t<summary>")
        out.add("##\tDomain allowed access.")
        out.add("##\t</summary>")
        out.add("## </param>")
        out.add("#")
        out.add(f"interface(`{name}',`")
        out.add("\tgen_require(`")
        out.add("\t\ttype " + ", ".join(requires) + ";")
        out.add("\t')")
        out.add()
        for line in body:
            out.add("\t" + line)
        out.add("')")
