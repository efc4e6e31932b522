"""The permission -> syscall table of ``selkit prove`` (selkit/facts/data/syscalls.json)."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from selkit.facts.syscalls import MEDIATION, Family, load_table
from selkit.ir import vocab
from selkit.prove import syscalls as analysis

SYSCALL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
HOOK_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@pytest.fixture(scope="module")
def raw() -> dict:
    text = resources.files("selkit.facts").joinpath("data/syscalls.json").read_text("utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def table():
    return load_table()


def _vocab_perms() -> set[tuple[str, str]]:
    """Every (class, perm) a verb form can emit."""
    return {(tpl.tclass, perm) for form in vocab.FORMS for tpl in form.rules
            for perm in tpl.perms}


# --- schema -------------------------------------------------------------------------------

def test_top_level_shape(raw):
    assert set(raw) >= {"source", "permissions", "families", "unmediated"}
    src = raw["source"]
    assert src["kernel"] == "Linux v6.1 security/selinux/hooks.c"
    assert src["kernel_release"].startswith("6.1.")
    assert set(src["mediation_values"]) == set(MEDIATION)
    assert set(raw["unmediated"]) >= {"syscalls", "note"}


def test_permission_entries_are_well_formed(raw):
    notes = raw.get("notes", {})
    for key, ent in raw["permissions"].items():
        tclass, _, perm = key.partition(":")
        assert tclass and perm, key
        assert set(ent) >= {"syscalls", "hooks", "objects", "mediation", "note"}, key
        assert set(ent) <= {"syscalls", "hooks", "objects", "mediation", "note", "see"}, key
        assert ent["mediation"] in MEDIATION, key
        assert all(SYSCALL_NAME.match(s) for s in ent["syscalls"]), key
        assert len(set(ent["syscalls"])) == len(ent["syscalls"]), key
        assert all(HOOK_NAME.match(h) for h in ent["hooks"]), key
        assert isinstance(ent["objects"], str) and ent["objects"], key
        assert isinstance(ent["note"], str) and ent["note"].strip(), key
        assert all(k in notes for k in ent.get("see", ())), key
        if ent["mediation"] in ("checked", "conditional", "modifier", "audit_only", "inert"):
            # the kernel checks it: name the hook that does
            assert ent["hooks"], key
        if ent["mediation"] == "userspace":
            assert not ent["syscalls"] and not ent["hooks"], key


def test_hooks_are_listed_with_their_location(raw):
    locations = raw["source"]["hook_locations"]
    for key, ent in raw["permissions"].items():
        for hook in ent["hooks"]:
            assert hook in locations, (key, hook)
    assert all(re.match(r"^[a-z_]+\.c:\d+$", loc) for loc in locations.values())


def test_family_entries_are_well_formed(raw):
    perms = raw["permissions"]
    for name, fam in raw["families"].items():
        assert set(fam) >= {"syscalls", "needs", "note"}, name
        assert all(SYSCALL_NAME.match(s) for s in fam["syscalls"]), name
        assert fam["needs"], name
        for item in fam["needs"]:
            assert item in perms, (name, item)
        for clause in fam.get("requires", ()):
            assert clause, name
            assert all(item in perms for item in clause), (name, clause)


def test_family_permissions_are_enabling(table):
    """A successful call is never enabled by a permission the kernel does not check for it."""
    for fam in table.families.values():
        for key in fam.needs + tuple(p for clause in fam.requires for p in clause):
            assert table.permissions[key].mediation in ("checked", "conditional"), (fam.name, key)


def test_brief_families_are_present(table):
    for name in ("execve", "open", "ptrace", "module_load", "mount", "socket_create", "kill",
                 "setuid", "chroot", "bind", "connect"):
        assert name in table.families, name
    assert table.families["execve"].syscalls == ("execve", "execveat")
    assert set(table.families["execve"].needs) == {
        ("file", "execute"), ("file", "execute_no_trans"), ("file", "entrypoint"),
        ("process", "transition")}


def test_a_family_named_like_a_library_call_says_which_one_it_is(raw, table):
    """The syslog family is the syslog(2) system call (the kernel log buffer), not syslog(3),
    which every daemon that logs calls: its label says so, and a label names its family."""
    assert table.families["syslog"].title == (
        "syslog(2) (the kernel log buffer; syslog(3) logging goes through a socket)")
    assert table.families["ptrace"].title == "ptrace"  # no label: the name
    for name, fam in raw["families"].items():
        assert fam.get("label", name).startswith(name), name


def test_unmediated_list(table):
    um = set(table.unmediated)
    assert len(um) == len(table.unmediated)
    assert all(SYSCALL_NAME.match(s) for s in um)
    # common calls SELinux never checks
    assert {"getpid", "gettimeofday", "clock_gettime", "nanosleep", "futex", "munmap",
            "sched_yield", "getrandom", "close", "dup", "exit", "exit_group", "rt_sigreturn",
            "setsid", "wait4", "epoll_wait", "select", "poll"} <= um
    # subtle ones that ARE mediated (checked against the hook source)
    for name in ("mprotect", "kill", "tgkill", "setpgid", "setrlimit", "execve", "mmap",
                 "open", "read", "write", "ioctl", "fcntl", "socket", "bind", "connect",
                 "sched_getaffinity", "capget", "chdir", "fstat", "brk"):
        assert name not in um, name
    # conditionally mediated calls are explained, and never also listed as unmediated
    assert {"mmap", "mprotect", "read", "write", "brk"} <= set(table.partly_mediated)
    assert not um & set(table.partly_mediated)


def test_no_unmediated_syscall_is_gated_by_a_permission(table):
    for info in table.permissions.values():
        if info.mediation in ("checked", "conditional", "inert", "modifier", "audit_only"):
            clash = set(info.syscalls) & set(table.unmediated)
            assert not clash, (info.key, clash)


# --- coverage ----------------------------------------------------------------------------

def test_every_vocabulary_permission_has_an_entry(table):
    missing = sorted(f"{c}:{p}" for c, p in _vocab_perms() if (c, p) not in table.permissions)
    assert not missing, missing


def test_vocabulary_permissions_are_kernel_checked(table):
    """What selkit grants is enforced by the kernel, not only by a userspace manager."""
    for c, p in sorted(_vocab_perms()):
        info = table.for_permission(c, p)
        assert info.mediation not in ("userspace", "never"), info.key


def test_forbid_groups_have_entries(table, kb):
    for group, items in vocab.FORBID_GROUPS.items():
        for cls, perms in items:
            for perm in (perms if perms is not None else sorted(kb.classes[cls])):
                assert (cls, perm) in table.permissions, (group, cls, perm)


def test_entries_exist_in_the_debian_policy(table, kb):
    for cls, perm in table.permissions:
        assert cls in kb.classes, cls
        assert perm in kb.classes[cls], f"{cls}:{perm}"


def test_every_policy_permission_is_covered(table, kb):
    """The table covers all of the policy (hence the whole `domain` baseline too)."""
    missing = sorted(f"{c}:{p}" for c, perms in kb.classes.items() for p in perms
                     if (c, p) not in table.permissions)
    assert not missing, missing


# --- lookups -----------------------------------------------------------------------------

def test_for_permission_udp_write(table):
    info = table.for_permission("udp_socket", "write")
    assert info.key == "udp_socket:write"
    assert "selinux_socket_sendmsg" in info.hooks
    assert {"sendto", "sendmsg", "sendmmsg", "write", "writev"} <= set(info.syscalls)
    assert "socket" in table.note_text(info)  # the shared socket-label note is appended
    assert analysis.gates_syscalls(info)
    assert table.for_permission("udp_socket", "no_such_perm") is None


def test_known_facts(table):
    assert "selinux_file_mprotect" in table.for_permission("process", "execmem").hooks \
        or "file_map_prot_check" in table.for_permission("process", "execmem").hooks
    assert table.for_permission("process", "execheap").syscalls == ("mprotect", "pkey_mprotect")
    assert "selinux_task_kill" in table.for_permission("process", "signal").hooks
    assert "setpgid" in table.for_permission("process", "setpgid").syscalls
    assert "setrlimit" in table.for_permission("process", "setrlimit").syscalls
    assert "chroot" in table.for_permission("capability", "sys_chroot").syscalls
    assert table.for_permission("node", "sendto").mediation == "conditional"
    assert table.for_permission("lockdown", "integrity").mediation == "never"
    assert table.for_permission("x_device", "read").mediation == "userspace"
    assert "selinux_tun_dev_create" in table.for_permission("tun_socket", "create").hooks


def test_for_syscall_and_gated_syscalls(table):
    keys = {i.key for i in table.for_syscall("bind")}
    assert {"udp_socket:bind", "udp_socket:name_bind", "udp_socket:node_bind"} <= keys
    gated = analysis.gated_syscalls(table, {("udp_socket", "read"), "udp_socket:write",
                                            ("x_device", "read")})
    assert gated["sendto"] == ["udp_socket:write"]
    assert gated["recvfrom"] == ["udp_socket:read"]
    assert analysis.unknown(table, {("udp_socket", "write"), ("nope", "x")}) == ["nope:x"]


# --- family logic ------------------------------------------------------------------------

def test_udp_io_only_denies_the_dangerous_families(table):
    denied = analysis.denied_families(table, {("udp_socket", "read"), ("udp_socket", "write")})
    for name in ("execve", "open", "ptrace", "module_load", "mount", "socket_create",
                 "kill", "setuid", "chroot", "bind", "connect", "raw_socket", "setcon",
                 "load_policy", "setenforce", "setbool"):
        assert name in denied, name


def test_granting_one_needed_permission_lifts_denial(table):
    assert "ptrace" not in analysis.denied_families(table, {("process", "ptrace")})
    assert "execve" not in analysis.denied_families(table, {("file", "execute")})
    assert "module_load" not in analysis.denied_families(table, {"capability:sys_module"})
    assert "bind" not in analysis.denied_families(table, {"udp_socket:bind"})


def test_blocked_is_stricter_than_denied(table):
    # file:execute alone: not completely denied, but exec can still not succeed
    granted = {("file", "execute"), ("file", "read"), ("file", "open")}
    assert "execve" not in analysis.denied_families(table, granted)
    assert "execve" in analysis.blocked_families(table, granted)
    assert "execve" not in analysis.blocked_families(
        table, granted | {("file", "execute_no_trans")})
    # module loading needs both the capability and system:module_load
    assert "module_load" in analysis.blocked_families(table, {"capability:sys_module"})
    assert "module_load" not in analysis.blocked_families(
        table, {"capability:sys_module", "system:module_load"})


def test_denied_implies_blocked(table):
    """Each family has a necessary clause made only of needed permissions."""
    for fam in table.families.values():
        assert any(set(clause) <= set(fam.needs) for clause in fam.requires), fam.name


def test_family_accepts_strings_and_tuples():
    fam = Family("x", ("a",), (("c", "p"),), ((("c", "p"),),), "")
    assert analysis.family_denied(fam, set()) and analysis.family_blocked(fam, set())
    assert not analysis.family_denied(fam, {"c:p"})
    assert not analysis.family_blocked(fam, {("c", "p")})
    with pytest.raises(ValueError):
        analysis.family_denied(fam, {"no-colon"})


def test_load_table_is_cached(table):
    assert load_table() is table


def test_the_prover_reexports_the_table():
    """``selkit.prove.syscalls`` keeps the table's names (the same objects, one cache)."""
    from selkit.facts import syscalls as facts

    for name in ("MEDIATION", "Family", "PermissionInfo", "SyscallTable", "load_table"):
        assert getattr(analysis, name) is getattr(facts, name), name
    assert analysis.load_table() is load_table()


# --- the generator -------------------------------------------------------------------------

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "syscall-table" / "build.py"
DEBIAN_POLICY = Path("/etc/selinux/default/policy/policy.33")


def test_the_generator_writes_the_facts_data_by_default():
    assert '"selkit", "facts", "data", "syscalls.json"' in GENERATOR.read_text()


@pytest.mark.skipif(not DEBIAN_POLICY.exists() or not Path("/usr/bin/python3").exists(),
                    reason="the generator reads Debian 12's policy.33 with the system SETools")
def test_the_generator_reproduces_the_table_byte_for_byte(tmp_path):
    """scripts/syscall-table/build.py (system Python, SETools) rebuilds the shipped JSON."""
    pytest.importorskip("setools")
    out = tmp_path / "syscalls.json"
    subprocess.run(["/usr/bin/python3", str(GENERATOR), str(out)], check=True,
                   capture_output=True, text=True, timeout=300)
    shipped = resources.files("selkit.facts").joinpath("data/syscalls.json").read_bytes()
    assert out.read_bytes() == shipped


def test_pipe_buffer_calls_are_not_claimed_mediated():
    """vmsplice and tee never reach selinux_file_permission (fs/splice.c), and splice only when
    an end is not a pipe: the lab saw vmsplice fill a pipe of ptunnel_steady_t where write() on
    it was denied. No permission may claim to gate them, or prove would call them impossible."""
    from selkit.facts.syscalls import load_table

    table = load_table()
    assert {"vmsplice", "tee"} <= set(table.unmediated)
    assert "pipe to pipe" in table.partly_mediated["splice"]
    assert not table.for_syscall("vmsplice") and not table.for_syscall("tee")
