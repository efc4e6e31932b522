"""The vocabulary section of the language reference, rendered from :mod:`selkit.ir.vocab`
through the emitters themselves, so the reference shows exactly what the compiler writes.

``dsl/REFERENCE.md`` embeds this text between markers; a test checks it is current, so the
reference can never drift from what the compiler does. ``selkit doc verbs`` prints it.
"""

from __future__ import annotations

from collections.abc import Callable

from selkit.diagnostics import Span
from selkit.emit import cil, te
from selkit.facts.runtime import baseline, verb_syscalls
from selkit.ir import forbid_groups, vocab
from selkit.ir import nodes as ir

BEGIN = "<!-- BEGIN GENERATED VERBS (selkit doc verbs) -->"
END = "<!-- END GENERATED VERBS -->"

#: Where the forbid groups' rules and exemptions are written out (a link from dsl/REFERENCE.md).
FORBID_GROUPS_DOC = "[`docs/forbid-groups.md`](../docs/forbid-groups.md)"

_SYMBOLS = {ir.SELF: "P", "$opener": "O", "$starter": "S", "$port": "PORT", "$arg": "T",
            "$domain": "D"}


def _sym(name: str) -> str:
    return _SYMBOLS.get(name, name)


def _rules(form: vocab.VerbForm) -> list[tuple[ir.Rule, bool]]:
    """The form's templates as IR rules over symbolic names (P, O, PORT, ...)."""
    origin = ir.Origin(Span("<vocabulary>", 1, 1, 1, 2), form.text())
    out: list[tuple[ir.Rule, bool]] = [
        (ir.Allow(_sym(r.source), _sym(r.target), r.tclass, r.perms, origin),
         r.when == "privileged_port") for r in form.rules]
    out += [(ir.TypeTransition(_sym(t.source), _sym(t.target), t.tclass, _sym(t.default),
                               origin), False) for t in form.transitions]
    return out


def _expansion(form: vocab.VerbForm, statement: Callable[[ir.Rule], str], comment: str
               ) -> list[str]:
    """Each rule exactly as the emitter writes it (``statement``), noting conditional ones."""
    return [statement(rule) + (f"   {comment} only if a port is below 1024" if privileged
                               else "")
            for rule, privileged in _rules(form)]


def verbs_markdown() -> str:
    """Markdown for every verb form: meaning, resources, and exact refpolicy and CIL rules."""
    out = [
        "Symbols in the expansions: `P` the phase's domain; `O` the domain of the earlier phase",
        "that opened the resource (the compiler also adds `allow P O:fd use;`); `S` the domain",
        f"that starts the daemon (`exec ... from`, default `{ir.DEFAULT_STARTER}`); `PORT` each "
        "port type the",
        "`<port>` argument resolves to; `T` the type of a `<file>`/`<dir>`/`<exec>` argument;",
        "`D` the `<domain>` argument.",
        "",
    ]
    for verb in sorted(vocab.VERBS):
        out.append(f"### `{verb}`")
        out.append("")
        for form in vocab.forms_of(verb):
            out.append(f"#### `{form.text()}`")
            out.append("")
            notes = [form.summary + "."]
            if form.opens:
                notes.append(f"Opens a `{form.opens}` resource that later phases may use.")
            if form.uses:
                notes.append(f"Uses the `{form.uses}` resource an earlier phase opened "
                             "(error SEL314 if none did).")
            if form.entry_only:
                notes.append(f"Only in the `{ir.ENTRY_PHASE}` phase (SEL319 elsewhere).")
            listed = verb_syscalls().get(form.text())
            if listed is not None:
                notes.append("Seccomp (5.10): exactly " + " ".join(
                    f"`{n}`" for n in listed.syscalls) + f", not what its permissions gate: "
                    f"{listed.reason}.")
            out.append(" ".join(notes))
            out.append("")
            out.append("```te")
            out.extend(_expansion(form, te.rule_statement, "#"))
            out.append("```")
            out.append("")
            out.append("```lisp")
            out.extend(_expansion(form, cil.rule_statement, ";"))
            out.append("```")
            out.append("")
    out.append("### `forbid` groups")
    out.append("")
    out.append("| group | class: permissions (all permissions where none are listed) |")
    out.append("|---|---|")
    for name, items in sorted(vocab.FORBID_GROUPS.items()):
        text = "; ".join(f"{cls}: {' '.join(perms) if perms else '*'}" for cls, perms in items)
        exemptions = [ex.name for ex in forbid_groups.EXEMPTIONS if ex.group == name]
        if exemptions:  # every group of vocab.SELF_EXEMPT_GROUPS has some
            text += (" (named exemptions "
                     + ", ".join(f"`{ex}`" for ex in exemptions)
                     + f": what each spares and why in {FORBID_GROUPS_DOC})")
        out.append(f"| `{name}` | {text} |")
    out += ["", "### Runtime system call baseline", "",
            "The `@groups` of every phase's seccomp filter (5.10): `every` phase, the `entry` "
            "phase only,",
            "or each phase that `switches` (then traced to the `switch` statement); the data "
            "is",
            "`selkit/facts/data/runtime_syscalls.json`.", "",
            "| group | where | system calls | why |", "|---|---|---|---|"]
    for group in baseline().values():
        calls = " ".join(f"`{n}`" for n in group.syscalls)
        out.append(f"| `@{group.name}` | {group.phases} | {calls} | {group.reason} |")
    return "\n".join(out) + "\n"


def splice(document: str) -> str:
    """``document`` with the generated section between the markers replaced by fresh text."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{verbs_markdown()}{END}{tail}"
