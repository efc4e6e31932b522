"""The text of a scaffold: a :class:`~selkit.scaffold.plan.Plan` as a canonical ``.sel`` file
(``selkit fmt`` leaves it as it is) whose every open decision is a ``TODO`` comment."""

from __future__ import annotations

import textwrap

from selkit.diagnostics import DiagnosticError
from selkit.dsl.parser import parse
from selkit.dsl.pretty import format_module
from selkit.ir.vocab import FORMS
from selkit.scaffold.binary import (
    DAEMON_START,
    DROP_PRIVILEGES,
    STARTUP,
    STEADY,
    SWITCH,
    Suggestion,
    missing,
)
from selkit.scaffold.package import (
    ETC_LEFT_OUT,
    LEFT_OUT_REASONS,
    OTHER_LEFT_OUT,
    Labelled,
    PackageFiles,
)
from selkit.scaffold.plan import Plan

WIDTH = 100
INDENT = "    "

#: Where the fragments the scaffold includes live in selkit's own policies; a spec written
#: beside such a file uses it, any other carries a copy (FRAGMENTS).
COMMON = "include/common.sel"

#: The fragments of policies/include/common.sel, word for word (tests/scaffold checks it).
FRAGMENTS = """\
# What a daemon started by init does before it has done anything tunnel-specific.
fragment daemon_start {
    stdio      # stdin/stdout/stderr inherited from init (systemd's journal)
    nss        # getpwnam()/getgrnam() for the user to drop to
    syslog     # openlog() connects /dev/log before the chroot
    daemonize  # fork into the background
}

# The privilege drop that precedes setcon(): chroot into the daemon's empty jail, then
# setgroups/setgid/setuid.
fragment drop_privileges {
    chroot jail
    setid
}
"""

#: What the two fragments hold, for the comment after each include.
FRAGMENT_SUMMARY = {DAEMON_START: "stdio, nss, syslog, daemonize",
                    DROP_PRIVILEGES: "chroot jail, setid"}

#: The imports that show each fragment's work is the program's own (a "not seen" note
#: otherwise: a library may do it, or the daemon does not).
FRAGMENT_EVIDENCE = {DROP_PRIVILEGES: ("chroot", "setuid", "setgid", "setgroups", "setresuid",
                                       "setresgid", "setreuid", "initgroups")}

#: The switch's placeholder option: valid .sel, so the scaffold checks; the author replaces it.
PLACEHOLDER_OPTION = "--setcon {context}"

#: The switch items ``selkit patch`` needs, commented (places in the daemon's source).
HOOK_ITEMS = (
    ('context "EXPR"', "the C expression that holds the requested context"),
    ('build "MACRO"', "the macro defined when it is built with libselinux"),
    ('prepare "FILE" before "TEXT"', "open the attr fd here, before the chroot"),
    ('patch "FILE" replace "TEXT"', "the setcon() call (or: after \"TEXT\", where startup "
                                    "ends)"),
)

#: The forbid every shipped spec starts from, one group a line.
FORBID = ("exec", "capabilities", "write", "ptrace", "raw_sockets", "name_bind")


def comment(text: str, indent: str = "", first: str = "# ", rest: str = "# ") -> list[str]:
    """``text`` as comment lines of at most :data:`WIDTH` characters."""
    return textwrap.wrap(text, WIDTH, initial_indent=indent + first,
                         subsequent_indent=indent + rest, break_long_words=False,
                         break_on_hyphens=False)


def opening_forms() -> str:
    """The verb forms that open a resource a later phase may use (syslog is in
    daemon_start): what startup chooses from."""
    return " | ".join(f.text() for f in FORMS if f.opens and f.opens != "syslog")


def using_forms() -> str:
    """The verb forms that use what an earlier phase opened: what steady chooses from."""
    return " | ".join(f.text() for f in FORMS if f.uses)


def render(plan: Plan, command: str) -> str:
    """The scaffold's text, canonical."""
    lines = _header(plan, command)
    lines += [""]
    if plan.facts.use_common:
        lines += [f'use "{COMMON}"  # {DAEMON_START}, {DROP_PRIVILEGES}']
    else:
        lines += comment("The fragments every tunnel daemon here starts from, as selkit's "
                         f"policies/{COMMON} has them (a spec beside that file uses it: "
                         f'use "{COMMON}").')
        lines += [""] + FRAGMENTS.splitlines()
    lines += ["", f"daemon {plan.daemon} {{"]
    lines += _declarations(plan)
    lines += [""] + _startup(plan) + [""] + _steady(plan) + [""] + _switch(plan)
    lines += [""] + comment("TODO: forbid what steady must never do; the shipped specs also "
                            "forbid module_load, netlink and name_connect when steady needs "
                            "none of them.", INDENT)
    lines += [f"{INDENT}forbid steady {{"] + [f"{INDENT * 2}{g}" for g in FORBID]
    lines += [f"{INDENT}}}", "}"]
    try:
        return format_module(parse("\n".join(lines) + "\n", "<scaffold>"))
    except DiagnosticError as exc:  # the text is ours: not the user's bad input
        found = "; ".join(f"{d.code} {d.message}" for d in exc.diagnostics)
        raise RuntimeError(f"the scaffold does not parse ({found})") from None


def _header(plan: Plan, command: str) -> list[str]:
    facts = plan.facts
    lines = comment(f"{plan.daemon}: a starting spec, written by `{command}`.")
    lines += ["#"]
    lines += comment(
        "It passes `selkit check` as written and grants only what every tunnel daemon here "
        "shares: startup starts as a daemon and drops its privileges (the two fragments), "
        "steady holds nothing yet, and a switch leads from one to the other. Each TODO is a "
        "decision that is yours. A line 'seen in the binary' is what the program imports "
        "(nm -D) or names in its strings: a hint, never a grant. dsl/REFERENCE.md, "
        "\"Starting a spec\", says how each part was chosen.")
    lines += ["#"]
    package = plan.package
    if package.package is None:
        lines += comment(f"Package: none ({facts.owner.reason}), so no file is declared from "
                         "a package; --package PKG names one.")
    else:
        how = (f"dpkg-query -S {facts.owner.queried}" if facts.owner.queried != "--package"
               else "--package")
        lines += comment(
            f"Package: {package.package} ({how}). Declared from its files: what the daemon "
            "may touch at run time, its entries under /etc named after it and those under "
            "/var/lib, /var/log, /var/cache, /var/spool and /run. A declaration grants "
            "nothing, but installing the module relabels the path: a program that reads it "
            "under its old type loses it unless a rule of its own allows the new one.")
        if package.left_out:
            lines += comment(f"Not declared: {_left_out(package)}.")
        if package.unlabelable:
            lines += comment("Not declared, a file context cannot name them (blanks, quotes "
                             "or non-ASCII): " + ", ".join(package.unlabelable) + ".")
    binary = facts.binary
    if binary.form == "script":
        lines += comment(f"The program is a script ({binary.interpreter}): its imports are "
                         "the interpreter's, so nothing below is seen in its functions.")
    elif binary.form == "static":
        lines += comment("The program has no dynamic symbols (statically linked?): nothing "
                         "below is seen in its functions.")
    elif binary.form == "other":
        lines += comment("The program is neither ELF nor a script: nothing below is seen in "
                         "its functions.")
    if binary.note:
        lines += comment(f"The program's imports: {binary.note}.")
    return lines


def _left_out(package: PackageFiles) -> str:
    """``programs 80, documentation 140, configuration of other programs 4 (/etc/pam.d/su,
    ...)``, in the order of the rule's reasons."""
    order = [reason for reason, _ in LEFT_OUT_REASONS] + [ETC_LEFT_OUT, OTHER_LEFT_OUT]
    parts = []
    for reason in sorted(package.left_out, key=order.index):
        part = f"{reason} {package.left_out[reason]}"
        if reason == ETC_LEFT_OUT:
            shown = package.etc_left_out[:6]
            more = len(package.etc_left_out) - len(shown)
            part += f" ({', '.join(shown)}{f' and {more} more' if more > 0 else ''})"
        parts.append(part)
    return ", ".join(parts)


def _declarations(plan: Plan) -> list[str]:
    facts = plan.facts
    lines = [f"{INDENT}module {plan.module}"]
    if plan.module_note:
        lines += comment(f"The module is '{plan.module}': {plan.module_note}.", INDENT)
    if plan.replaces:
        choose = "" if plan.module_note else " (--name chooses another)"
        lines += comment(
            f"WARNING: the base store has a module '{plan.module}' (the distribution's "
            "policy for it): installing this one replaces it while it is installed, its "
            f"types, rules and file contexts included (semodule -X 400 -r {plan.module} "
            f"restores it). TODO: keep the name only if that is what you want{choose}.",
            INDENT)
    lines += [f'{INDENT}exec "{facts.real}"']
    if facts.real != facts.given:
        lines += comment(f"Given as {facts.given}, which resolves to this file: the label "
                         "goes on the file.", INDENT)
    lines += [f"{INDENT}user nobody  # TODO: the user it drops to"]
    lines += [f"{INDENT}{plan.jail.statement()}  # TODO: its empty chroot directory"]
    lines += [f"{INDENT}{d.statement()}  # {d.origin}" for d in plan.package.declared]
    if plan.seen_files:
        lines += comment("TODO: paths the program names that no declaration covers; "
                         "declare those it uses:", INDENT)
        lines += [f"{INDENT}# {d.statement()}  # {d.origin}" for d in plan.seen_files]
    lines += _labelled(plan.package.labelled + plan.seen_labelled)
    return lines


def _labelled(found: list[Labelled]) -> list[str]:
    if not found:
        return []
    lines = comment("TODO: paths the base labels already, not declared (a declaration would "
                    "take them from their type); grant on the type those it uses:", INDENT)
    for item in found:
        owners = ", ".join(item.owners) or "base"
        how = "the same regex: SEL217" if item.exact else item.regex
        lines += comment(f"{item.path}: {item.base_type} (module {owners}, {how}) -> "
                         f"{item.verb} {item.base_type}", INDENT, first="#   ",
                         rest="#     ")
    return lines


def _suggested(plan: Plan, phase: str, fragment: str | None = None) -> list[str]:
    found: list[Suggestion] = [s for s in plan.suggestions
                               if s.phase == phase and s.in_fragment == fragment]
    return [line for s in found for line in comment(s.comment(), INDENT * 2, rest="#   ")]


def _include(plan: Plan, fragment: str) -> list[str]:
    lines = [f"{INDENT * 2}include {fragment}  # {FRAGMENT_SUMMARY[fragment]}"]
    lines += _suggested(plan, STARTUP, fragment)
    evidence = FRAGMENT_EVIDENCE.get(fragment)
    if evidence and missing(plan.facts.binary, evidence):
        lines += comment(f"TODO: not seen in the binary: {', '.join(evidence[:3])}, ... (a "
                         "library may do it; if the daemon neither chroots nor changes its "
                         f"user, remove this include and the jail).", INDENT * 2, rest="#   ")
    return lines


def _startup(plan: Plan) -> list[str]:
    lines = [f"{INDENT}phase startup {{"]
    lines += _include(plan, DAEMON_START)
    lines += comment("TODO: the devices and sockets it opens before the switch, one line "
                     f"each: {opening_forms()}; then what it reads, runs or sets up.",
                     INDENT * 2, rest="#   ")
    lines += _suggested(plan, STARTUP)
    lines += [f"{INDENT * 2}# {d.use()}  # TODO: if it uses {d.path}"
              for d in plan.package.declared]
    lines += [f"{INDENT * 2}# {d.use()}  # TODO: if it uses {d.path}, with its file line"
              for d in plan.seen_files]
    lines += _include(plan, DROP_PRIVILEGES)
    return lines + [f"{INDENT}}}"]


def _steady(plan: Plan) -> list[str]:
    lines = comment("After the switch the daemon only moves bytes, on what startup opened.",
                    INDENT)
    lines += [f"{INDENT}phase steady {{"]
    lines += comment(f"TODO: one line per resource it keeps: {using_forms()}.",
                     INDENT * 2, rest="#   ")
    lines += _suggested(plan, STEADY)
    return lines + [f"{INDENT}}}"]


def _switch(plan: Plan) -> list[str]:
    lines = [f"{INDENT}switch startup -> steady {{  # TODO: the items for selkit patch, below"]
    lines += [f'{INDENT * 2}option "{PLACEHOLDER_OPTION}"  # TODO: a placeholder for its '
              "option"]
    lines += _suggested(plan, SWITCH)
    if missing(plan.facts.binary, ("setcon", "setcon_raw")):
        lines += comment("not seen in the binary: setcon (libselinux): the daemon cannot "
                         "switch yet; selkit patch writes the switch from the items below.",
                         INDENT * 2, rest="#   ")
    lines += comment("TODO for selkit patch: places in the daemon's source (dsl/REFERENCE.md "
                     "5.8); until 'patch' is filled in, selkit patch stops here (SEL707).",
                     INDENT * 2, rest="#   ")
    width = max(len(item) for item, _ in HOOK_ITEMS)
    lines += [f"{INDENT * 2}# {item.ljust(width)}  # {why}" for item, why in HOOK_ITEMS]
    return lines + [f"{INDENT}}}"]
