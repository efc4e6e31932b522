"""The vocabulary section of the language reference, rendered from :mod:`selkit.ir.vocab`.

``dsl/REFERENCE.md`` embeds this text between markers; a test checks it is current, so the
reference can never drift from what the compiler does. ``selkit doc verbs`` prints it.
"""

from __future__ import annotations

from selkit.ir import vocab

BEGIN = "<!-- BEGIN GENERATED VERBS (selkit doc verbs) -->"
END = "<!-- END GENERATED VERBS -->"

_SYMBOLS = {"self": "P", "$opener": "O", "$starter": "S", "$port": "PORT", "$arg": "T",
            "$domain": "D"}


def _sym(name: str) -> str:
    return _SYMBOLS.get(name, name)


def _te(form: vocab.VerbForm) -> list[str]:
    lines = []
    for r in form.rules:
        perms = r.perms[0] if len(r.perms) == 1 else "{ " + " ".join(r.perms) + " }"
        target = "self" if r.target == r.source else _sym(r.target)
        line = f"allow {_sym(r.source)} {target}:{r.tclass} {perms};"
        if r.when == "privileged_port":
            line += "   # only if a port is below 1024"
        lines.append(line)
    for t in form.transitions:
        lines.append(f"type_transition {_sym(t.source)} {_sym(t.target)}:{t.tclass} "
                     f"{_sym(t.default)};")
    return lines


def _cil(form: vocab.VerbForm) -> list[str]:
    lines = []
    for r in form.rules:
        target = "self" if r.target == r.source else _sym(r.target)
        line = f"(allow {_sym(r.source)} {target} ({r.tclass} ({' '.join(r.perms)})))"
        if r.when == "privileged_port":
            line += "   ; only if a port is below 1024"
        lines.append(line)
    for t in form.transitions:
        lines.append(f"(typetransition {_sym(t.source)} {_sym(t.target)} {t.tclass} "
                     f"{_sym(t.default)})")
    return lines


def verbs_markdown() -> str:
    """Markdown for every verb form: meaning, resources, and exact refpolicy and CIL rules."""
    out = [
        "Symbols in the expansions: `P` the phase's domain; `O` the domain of the earlier phase",
        "that opened the resource (the compiler also adds `allow P O:fd use;`); `S` the domain",
        "that starts the daemon (`exec ... from`, default `init_t`); `PORT` each port type the",
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
                notes.append("Only in the `startup` phase (SEL319 elsewhere).")
            out.append(" ".join(notes))
            out.append("")
            out.append("```te")
            out.extend(_te(form))
            out.append("```")
            out.append("")
            out.append("```lisp")
            out.extend(_cil(form))
            out.append("```")
            out.append("")
    out.append("### `forbid` groups")
    out.append("")
    out.append("| group | class: permissions (all permissions where none are listed) |")
    out.append("|---|---|")
    for name, items in sorted(vocab.FORBID_GROUPS.items()):
        text = "; ".join(f"{cls}: {' '.join(perms) if perms else '*'}" for cls, perms in items)
        if name in vocab.SELF_EXEMPT_GROUPS:
            text += " (not on the phase's own domain: its /proc/PID files)"
        out.append(f"| `{name}` | {text} |")
    return "\n".join(out) + "\n"


def splice(document: str) -> str:
    """``document`` with the generated section between the markers replaced by fresh text."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{verbs_markdown()}{END}{tail}"
