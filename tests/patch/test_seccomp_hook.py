"""The steady seccomp filter in the setcon() hook: ``setcon_fd_<daemon>_steady.h`` compiles
cleanly with and without libselinux, carries exactly ``Filter.bytes``, loads on this kernel
(an allowed call runs, a blocked one gets the default action) and fails closed (exit 1 with
the message) when the kernel refuses the filter. Without a filter the hook is unchanged."""

from __future__ import annotations

import signal
import subprocess

import pytest
from patch_demo import DEMO_C, SPEC

from selkit.compiler import front_end
from selkit.patch import hook as hooks
from selkit.seccomp.bpf import ABS, BPF_MAXINSNS, LD, OFF_ARCH, Filter, W, generate, stmt

#: What the harness calls after loading: write (its output) and exit_group; getpid is the
#: allowed probe, getppid the blocked one.
ALLOWED = ["write", "exit_group", "getpid"]
CONTEXT = "system_u:system_r:x_t:s0"

HARNESS = """\
#include "setcon_fd_demo_steady.h"
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static void say(const char *text)
{
\tif (write(1, text, strlen(text)) < 0)
\t\t_exit(3);
}

int main(int argc, char **argv)
{
\tconst char *mode = argc > 1 ? argv[1] : "";
\tif (strcmp(mode, "bytes") == 0) {
\t\tif (write(1, setcon_fd_demo_steady, sizeof(setcon_fd_demo_steady)) < 0)
\t\t\treturn 3;
\t\treturn 0;
\t}
\tif (strcmp(mode, "commit") == 0) {
\t\tint rc = setcon_fd_commit_steady("CONTEXT");
\t\tprintf("commit %d %s\\n", rc, strerror(errno));
\t\treturn 0;
\t}
\tif (strcmp(mode, "refused") == 0) {
\t\t/* a filter already loaded makes seccomp() itself fail with EACCES */
\t\tstruct sock_filter deny[] = {
\t\t\tBPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
\t\t\tBPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
\t\t\tBPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
\t\t\tBPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
\t\t};
\t\tstruct sock_fprog prog = { (unsigned short) (sizeof(deny) / sizeof(deny[0])), deny };
\t\tif (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0 ||
\t\t    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
\t\t\treturn 3;
\t}
\t/* what the switch does once the context is written */
\tsetcon_fd_demo_steady_load("CONTEXT");
\tsay(syscall(SYS_getpid) > 0 ? "allowed ok\\n" : "allowed failed\\n");
\tsay(syscall(SYS_getppid) < 0 && errno == EPERM ? "blocked EPERM\\n" : "blocked ran\\n");
\treturn 0;
}
""".replace("CONTEXT", CONTEXT)

FLAGS = ["-O2", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE"]
SELINUX = (["-DHAVE_SELINUX"], ["-lselinux"])


def _run(argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, check=False)


def _write(tmp_path, flt) -> None:
    (tmp_path / "setcon_fd.h").write_text(hooks.render_header("HAVE_SELINUX"))
    (tmp_path / "setcon_fd_demo_steady.h").write_text(hooks.render_steady_header("demo", flt))


def _build(tmp_path, flt, flags=(), libs=()) -> None:
    _write(tmp_path, flt)
    (tmp_path / "drv.c").write_text(HARNESS)
    build = _run(["gcc", *FLAGS, "-std=gnu99", *flags, "-o", "drv", "drv.c", *libs],
                 cwd=tmp_path)
    assert build.returncode == 0 and not build.stderr, build.stderr.decode()


def _switch(kb):
    _, (module,) = front_end("demo.sel", kb, SPEC)
    (switch,) = module.switches
    return switch


def test_plan_without_a_filter_is_unchanged_and_with_one_calls_the_steady_switch(kb):
    switch = _switch(kb)
    plain = hooks.plan(DEMO_C, switch, header_exists=False)
    assert plain == hooks.plan(DEMO_C, switch, False, None)
    assert plain.steady_path is None and plain.steady_text is None
    assert "steady" not in plain.new_text
    flt = generate(ALLOWED)
    hook = hooks.plan(DEMO_C, switch, header_exists=False, steady=("demo", flt))
    assert hook.header_text == plain.header_text
    assert hook.steady_path == hooks.posixpath.join(
        hooks.posixpath.dirname(plain.header_path), "setcon_fd_demo_steady.h")
    assert hook.steady_text == hooks.render_steady_header("demo", flt)
    assert hook.new_text == (plain.new_text
                             .replace('#include "setcon_fd.h"\n', '#include "setcon_fd.h"\n'
                                      '#include "setcon_fd_demo_steady.h"\n')
                             .replace("setcon_fd_switch(", "setcon_fd_switch_steady(")
                             .replace("setcon_fd_commit(", "setcon_fd_commit_steady("))
    assert len(hook.placements) == len(plain.placements) + 1


@pytest.mark.parametrize("selinux", [True, False])
def test_steady_header_compiles_cleanly(tmp_path, selinux):
    _write(tmp_path, generate(ALLOWED))
    (tmp_path / "drv.c").write_text(
        '#include "setcon_fd_demo_steady.h"\nint main(void)\n{\n'
        '\tsetcon_fd_switch_steady(NULL);\n'
        '\treturn setcon_fd_commit_steady(NULL) == -1 ? 0 : 1;\n}\n')
    flags = SELINUX[0] if selinux else []
    for std in ("-std=gnu99", "-std=c99"):
        build = _run(["gcc", *FLAGS, "-pedantic", std, *flags, "-c", "-o", "drv.o", "drv.c"],
                     cwd=tmp_path)
        assert build.returncode == 0 and not build.stderr, build.stderr.decode()


def test_compiled_array_is_the_filter_bytes(tmp_path):
    flt = generate(["read", "write", "exit_group", "sendto", "recvfrom", "epoll_wait"],
                   "errno 1", layout="linear")
    _build(tmp_path, flt)
    out = _run(["./drv", "bytes"], cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == flt.bytes


@pytest.mark.parametrize("selinux", [True, False])
def test_loaded_filter_kills_a_blocked_call(tmp_path, selinux):
    _build(tmp_path, generate(ALLOWED, "kill_process"), *(SELINUX if selinux else ()))
    run = _run(["./drv"], cwd=tmp_path)
    assert run.returncode == -signal.SIGSYS, run
    assert run.stdout == b"allowed ok\n" and run.stderr == b""


def test_loaded_filter_with_errno_default_fails_the_call(tmp_path):
    _build(tmp_path, generate(ALLOWED, "errno 1"))
    run = _run(["./drv"], cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, b"allowed ok\nblocked EPERM\n"), run


def test_the_load_fails_closed(tmp_path):
    _build(tmp_path, generate(ALLOWED, "errno 1"))
    run = _run(["./drv", "refused"], cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == b"", run
    assert run.stderr == (b"drv: cannot load the seccomp filter after switching to SELinux "
                          b"context '" + CONTEXT.encode() + b"': Permission denied\n")


def test_a_filter_the_kernel_refuses_fails_closed(tmp_path):
    """A program longer than BPF_MAXINSNS (no-op loads in front): the kernel says EINVAL."""
    flt = generate(ALLOWED)
    pad = (stmt(LD | W | ABS, OFF_ARCH, "pad"),) * BPF_MAXINSNS
    _build(tmp_path, Filter(flt.allowed, flt.default, pad + flt.program))
    run = _run(["./drv"], cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == b"", run
    assert run.stderr.endswith(b"'" + CONTEXT.encode() + b"': Invalid argument\n")


@pytest.mark.parametrize("selinux", [True, False])
def test_failed_commit_loads_no_filter(tmp_path, selinux):
    """No SELinux here: the commit fails as setcon() would, and the filter is not loaded."""
    _build(tmp_path, generate(ALLOWED, "kill_process"), *(SELINUX if selinux else ()))
    run = _run(["./drv", "commit"], cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, b"commit -1 Operation not supported\n"), run


def test_where_seccomp_is_not_available_the_array_is_not_compiled_and_the_load_fails(tmp_path):
    """As on a system that is not Linux (``-U__linux__``): no filter in the binary, and a load
    (reached only after a switch that succeeded) exits 1."""
    _write(tmp_path, generate(ALLOWED))
    (tmp_path / "drv.c").write_text('#include "setcon_fd_demo_steady.h"\nint main(void)\n{\n'
                                    f'\tsetcon_fd_demo_steady_load("{CONTEXT}");\n'
                                    '\treturn 0;\n}\n')
    build = _run(["gcc", *FLAGS, "-U__linux__", "-o", "drv", "drv.c"], cwd=tmp_path)
    assert build.returncode == 0 and not build.stderr, build.stderr.decode()
    assert b"setcon_fd_demo_steady" not in _run(["nm", "drv"], cwd=tmp_path).stdout
    run = _run(["./drv"], cwd=tmp_path)
    assert run.returncode == 1, run
    assert run.stderr.endswith(b"': not supported here (x86_64 Linux only)\n")


THREADS = """\
#include "setcon_fd_demo_steady.h"
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>

static int go[2], done[2];

/* says it runs (its start-up calls are made before the filter lands), waits for the load,
 * probes, reports, then blocks until the process exits (a thread's own exit makes calls the
 * test filter does not allow) */
static void *probe(void *arg)
{
\tchar c;
\t(void) arg;
\tif (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
\t\treturn NULL;
\tc = syscall(SYS_getppid) == -1 && errno == EPERM ? 'y' : 'n';
\tif (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
\t\treturn NULL;
\treturn NULL;
}

int main(void)
{
\tpthread_t thread;
\tchar c = 0;
\tif (pipe(go) != 0 || pipe(done) != 0 || pthread_create(&thread, NULL, probe, NULL) != 0)
\t\treturn 3;
\tif (read(done[0], &c, 1) != 1 || c != 'r')
\t\treturn 3;
\tsetcon_fd_demo_steady_load("CONTEXT");
\tif (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
\t\treturn 3;
\t_exit(c == 'y' ? 0 : 4);
}
""".replace("CONTEXT", CONTEXT)


def test_a_thread_started_before_the_load_gets_the_filter_too(tmp_path):
    """SECCOMP_FILTER_FLAG_TSYNC: the thread's getppid fails with the filter's EPERM."""
    _write(tmp_path, generate([*ALLOWED, "read"], "errno 1"))
    (tmp_path / "drv.c").write_text(THREADS)
    build = _run(["gcc", *FLAGS, "-pthread", "-o", "drv", "drv.c"], cwd=tmp_path)
    assert build.returncode == 0 and not build.stderr, build.stderr.decode()
    run = _run(["./drv"], cwd=tmp_path)
    assert (run.returncode, run.stderr) == (0, b""), run
