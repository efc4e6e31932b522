"""Build selkit/facts/data/syscalls.json (run with /usr/bin/python3: needs setools)."""
import json, os, re, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import setools
from filelike import FILE_LIKE, file_entry
from sockets import socket_entry, INET
from caps import cap_entry
import other
from families import families
from unmediated import UNMEDIATED, PARTLY, NOTE

POLICY = '/etc/selinux/default/policy/policy.33'
p = setools.SELinuxPolicy(POLICY)
classes = {}
for c in p.classes():
    perms = set(c.perms)
    try:
        perms |= set(c.common.perms)
    except Exception:
        pass
    classes[str(c)] = sorted(perms)
kclassmap = json.load(open(os.path.join(HERE, 'inputs', 'kclassmap.json')))
hookfns = json.load(open(os.path.join(HERE, 'inputs', 'hookfns.json')))
sys64 = set(open(os.path.join(HERE, 'inputs', 'sys64.txt')).read().split())

def entry(cls, perm):
    if cls in FILE_LIKE:
        return file_entry(cls, perm)
    if cls == "socket" or (cls.endswith("_socket") and not cls.startswith("obsolete_")):
        return socket_entry(cls, perm)
    if cls in ("capability", "capability2", "cap_userns", "cap2_userns"):
        return cap_entry(cls, perm)
    if cls == "process":
        return other.PROCESS[perm]
    if cls == "process2":
        return other.PROCESS2[perm]
    if cls == "fd":
        return other.FD[perm]
    if cls == "filesystem":
        return other.FILESYSTEM[perm]
    if cls == "system":
        return other.SYSTEM[perm]
    if cls == "security":
        return other.SECURITY[perm]
    if (cls, perm) in other.NETWORK:
        return other.NETWORK[(cls, perm)]
    if cls in ("msgq", "shm", "sem", "ipc"):
        return other.ipc_entry(cls, perm)
    if (cls, perm) in other.MISC:
        return other.MISC[(cls, perm)]
    return other.userspace_entry(cls, perm)

perms = {}
for cls in sorted(classes):
    for perm in classes[cls]:
        ent = dict(entry(cls, perm))
        # sanity: kernel knows it, unless userspace/never
        known = cls in kclassmap and perm in kclassmap[cls]
        if not known and ent["mediation"] not in ("userspace", "never"):
            raise SystemExit(f"{cls}:{perm} not in kernel classmap but mediation={ent['mediation']}")
        if known and ent["mediation"] == "userspace":
            raise SystemExit(f"{cls}:{perm} is a kernel permission")
        for h in ent["hooks"]:
            if h not in hookfns:
                raise SystemExit(f"unknown hook {h} for {cls}:{perm}")
        for s in ent["syscalls"]:
            if s not in sys64:
                raise SystemExit(f"unknown syscall {s} for {cls}:{perm}")
        if ent["mediation"] in ("checked", "conditional", "modifier", "audit_only", "inert") and not ent["hooks"]:
            raise SystemExit(f"no hook for {cls}:{perm}")
        perms[f"{cls}:{perm}"] = {k: ent[k] for k in ("syscalls", "hooks", "objects", "mediation", "note", "see") if k in ent}

sock_classes = sorted(c for c in classes if (c == "socket" or c.endswith("_socket"))
                      and not c.startswith("obsolete_") and c != "tun_socket"
                      and "create" in classes[c])
netlink_classes = [c for c in sock_classes if c.startswith("netlink_")]
inet_bind = sorted(c for c in INET if c in classes)
F = families(sock_classes, netlink_classes, inet_bind)
# a successful call is never enabled by a permission the kernel does not check for it
ENABLING = ("checked", "conditional")
for name, f in F.items():
    f["needs"] = [n for n in f["needs"] if perms[n]["mediation"] in ENABLING]
    if "requires" in f:
        f["requires"] = [[n for n in c if perms[n]["mediation"] in ENABLING] for c in f["requires"]]
        assert all(f["requires"]), name
    assert f["needs"], name
for name, f in F.items():
    for s in f["syscalls"]:
        if s not in sys64:
            raise SystemExit(f"family {name}: unknown syscall {s}")
    for n in f["needs"] + [x for c in f.get("requires", []) for x in c]:
        if n not in perms:
            raise SystemExit(f"family {name}: unknown permission {n}")

for s in UNMEDIATED + list(PARTLY):
    if s not in sys64:
        raise SystemExit(f"unmediated: unknown syscall {s}")
# no unmediated syscall may be named by a checked permission
named = {}
for k, v in perms.items():
    if v["mediation"] in ("checked", "conditional", "inert", "audit_only", "modifier"):
        for s in v["syscalls"]:
            named.setdefault(s, []).append(k)
clash = {s: named[s] for s in UNMEDIATED if s in named}
if clash:
    raise SystemExit(f"unmediated but named: {clash}")

used_hooks = sorted({h for v in perms.values() for h in v["hooks"]})
out = {
    "source": {
        "kernel": "Linux v6.1 security/selinux/hooks.c",
        "kernel_release": "6.1.192, read from Debian's linux-source-6.1 6.1.192-2 (Debian 12 'bookworm' kernel source)",
        "files": ["security/selinux/hooks.c", "security/selinux/selinuxfs.c",
                  "security/selinux/nlmsgtab.c", "security/selinux/netlabel.c",
                  "security/selinux/xfrm.c", "security/selinux/include/classmap.h",
                  "and the callers of the security_* hooks in fs/, kernel/, mm/, net/, ipc/, "
                  "drivers/net/tun.c, io_uring/"],
        "hook_locations": {h: hookfns[h] for h in used_hooks},
        "policy": "Debian 12 refpolicy (selinux-policy-default), /etc/selinux/default/policy/policy.33: "
                  "handle_unknown=allow; policy capabilities network_peer_controls, open_perms, "
                  "extended_socket_class, cgroup_seclabel, nnp_nosuid_transition",
        "abi": "x86_64 system call names (arch/x86/entry/syscalls/syscall_64.tbl); libc's send/recv are sendto/recvfrom",
        "coverage": "every class:permission defined by the Debian 12 policy",
        "mediation_values": {
            "checked": "the kernel checks it on the listed syscalls",
            "conditional": "checked only when a configuration is active (labelled networking, SECMARK, labelled IPsec); see note",
            "modifier": "checked on exec, but a refusal changes behaviour instead of failing the call",
            "audit_only": "only decides whether a denial is audited",
            "inert": "checked, but the operation it gates fails anyway or touches nothing of consequence",
            "never": "Linux 6.1 never checks it (legacy, other architecture or policy-only permission)",
            "userspace": "checked only by a userspace object manager through libselinux, never by the kernel",
        },
    },
    "notes": dict(__import__("common").SHARED),
    "permissions": perms,
    "families": F,
    "unmediated": {"syscalls": sorted(UNMEDIATED), "partly": dict(sorted(PARTLY.items())), "note": NOTE},
}
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "selkit", "facts", "data", "syscalls.json")
text = json.dumps(out, indent=1, ensure_ascii=True)
# keep lists of strings on one line
text = re.sub(r'\[\n\s*("(?:[^"\\]|\\.)*"(?:,\n\s*"(?:[^"\\]|\\.)*")*)\n\s*\]',
              lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)
assert json.loads(text) == out
with open(path, "w") as fh:
    fh.write(text + "\n")
from collections import Counter
print(len(perms), Counter(v["mediation"] for v in perms.values()), len(F))
