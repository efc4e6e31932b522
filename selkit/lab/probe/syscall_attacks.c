/*
 * The attack probe's system call attacks (see probe.c's header): kernel attack surface that
 * SELinux mediates partly or not at all, for the steady seccomp filter to stop.
 */
#include "probe.h"

#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <sys/mount.h>

/* System call attacks: kernel attack surface that SELinux mediates partly or not at all. Each
 * makes its call with syscall(2) (or the instruction itself), so glibc cannot substitute another
 * one; what they need besides (pipes, a namespace) is made by their prepare step, before the
 * --seccomp filter is loaded, so that the filter meets the attack's own call first. */

static int prepared_fds[4] = {-1, -1, -1, -1};
static int prepared_ns;            /* 1: the child has a private mount namespace */

void prepare_pipe(void)
{
	if (pipe2(prepared_fds, O_CLOEXEC) < 0)
		prepared_fds[0] = prepared_fds[1] = -1;
}

void prepare_two_pipes(void)
{
	prepare_pipe();
	if (pipe2(prepared_fds + 2, O_CLOEXEC) < 0)
		prepared_fds[2] = prepared_fds[3] = -1;
	/* vmsplice, not write(): a confined domain may be refused fifo_file write on its own
	 * pipe, which vmsplice never asks for. */
	static char bytes[6] = "selkit";
	struct iovec iov = {bytes, sizeof bytes};
	if (prepared_fds[1] >= 0)
		syscall(SYS_vmsplice, prepared_fds[1], &iov, 1UL, 0U);
}

/* A private mount namespace, so that a mount or pivot_root that succeeds changes nothing
 * outside this child (it needs CAP_SYS_ADMIN like them: where it fails, they fail too). */
void prepare_mount_ns(void)
{
	prepared_ns = unshare(CLONE_NEWNS) == 0
		&& mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static void record_call(const char *name, long rc, int err, const char *what)
{
	if (rc < 0)
		record(name, err, "%s: %s", what, strerror(err));
	else
		record(name, 0, "%s: returned %ld", what, rc);
}

void attack_vmsplice(const struct targets *t)
{
	(void)t;
	static char page[64] = "selkit-probe vmsplice";
	struct iovec iov = {page, sizeof page};
	long rc = syscall(SYS_vmsplice, prepared_fds[1], &iov, 1UL, 0U);
	int err = errno;
	if (rc < 0) {
		record_call("vmsplice", rc, err, "vmsplice(pipe, user page)");
		return;
	}
	/* The same pipe through write(), which SELinux checks (fifo_file write) and vmsplice
	 * does not: the detail shows a domain that may not write its pipe filling it anyway. */
	ssize_t n = write(prepared_fds[1], "x", 1);
	record("vmsplice", 0, "vmsplice(pipe, user page): returned %ld; write() on the same pipe: %s",
	       rc, n == 1 ? "allowed" : strerror(errno));
}

void attack_splice(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_splice, prepared_fds[0], NULL, prepared_fds[3], NULL, 6UL,
			  (unsigned)SPLICE_F_NONBLOCK);
	record_call("splice", rc, errno, "splice(pipe -> pipe)");
}

void attack_io_uring(const struct targets *t)
{
	(void)t;
	struct io_uring_params params;
	memset(&params, 0, sizeof params);
	long rc = syscall(SYS_io_uring_setup, 4U, &params);
	record_call("io_uring_setup", rc, errno, "io_uring_setup(4 entries)");
}

void attack_userfaultfd(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_userfaultfd, O_CLOEXEC);
	record_call("userfaultfd", rc, errno, "userfaultfd(O_CLOEXEC)");
}

void attack_bpf(const struct targets *t)
{
	(void)t;
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 1;
	long rc = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
	record_call("bpf", rc, errno, "bpf(BPF_MAP_CREATE, array map)");
}

void attack_perf_event(const struct targets *t)
{
	(void)t;
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.size = sizeof attr;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.disabled = 1;
	long rc = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	record_call("perf_event_open", rc, errno, "perf_event_open(software cpu clock, self)");
}

void attack_add_key(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_add_key, "user", "selkit-probe", "x", 1UL,
			  KEY_SPEC_PROCESS_KEYRING);
	record_call("add_key", rc, errno, "add_key(user, process keyring)");
}

void attack_keyctl(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "selkit-probe");
	record_call("keyctl", rc, errno, "keyctl(KEYCTL_JOIN_SESSION_KEYRING, new keyring)");
}

void attack_userns(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_unshare, CLONE_NEWUSER);
	record_call("unshare", rc, errno, "unshare(CLONE_NEWUSER)");
}

void attack_vm_write(const struct targets *t)
{
	/* Writes the victim's secret over itself: success changes nothing in the victim. */
	char copy[sizeof victim_secret];
	memcpy(copy, victim_secret, sizeof copy);
	struct iovec local = {copy, sizeof copy};
	struct iovec remote = {victim_secret, sizeof victim_secret};
	long rc = syscall(SYS_process_vm_writev, t->victim, &local, 1UL, &remote, 1UL, 0UL);
	char what[64];
	snprintf(what, sizeof what, "process_vm_writev(%d)", (int)t->victim);
	record_call("process_vm_writev", rc, errno, what);
}

void attack_kexec(const struct targets *t)
{
	(void)t;
	/* No segment: a success unloads any staged kernel; an attacker would stage its own. */
	long rc = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL);
	record_call("kexec_load", rc, errno, "kexec_load(no segments)");
}

void attack_mount(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_mount, "selkit-probe", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, NULL);
	record_call("mount", rc, errno, prepared_ns ? "mount(tmpfs on /tmp, private namespace)"
		    : "mount(tmpfs on /tmp; no private namespace could be made)");
}

void attack_pivot_root(const struct targets *t)
{
	(void)t;
	long rc = syscall(SYS_chdir, "/proc");
	if (rc == 0)
		rc = syscall(SYS_pivot_root, ".", ".");
	record_call("pivot_root", rc, errno, prepared_ns ? "pivot_root(/proc, private namespace)"
		    : "pivot_root(/proc; no private namespace could be made)");
}

void attack_memfd_exec(const struct targets *t)
{
	(void)t;
	long fd = syscall(SYS_memfd_create, "selkit-probe", 0U);
	if (fd < 0) {
		record("memfd_create", errno, "memfd_create: %s", strerror(errno));
		return;
	}
	/* This very (static) binary, run as `probe exit73`: exit status 73 proves the exec. */
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	char buf[65536];
	ssize_t n;
	while (self >= 0 && (n = read(self, buf, sizeof buf)) > 0)
		if (write((int)fd, buf, (size_t)n) != n)
			break;
	char *argv[] = {"selkit-probe", "exit73", NULL};
	char *envp[] = {NULL};
	syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	record("execveat", errno, "execveat(memfd): %s", strerror(errno));
}

void attack_i386(const struct targets *t)
{
	(void)t;
	/* getpid by its i386 number (20) through int $0x80 from 64-bit code. */
	long rc = 20;
	__asm__ volatile("int $0x80" : "+a"(rc) : : "memory");
	if (rc < 0 && rc > -4096)
		record("i386:getpid", (int)-rc, "int $0x80, eax=20: %s", strerror((int)-rc));
	else
		record("i386:getpid", 0, "int $0x80, eax=20: returned %ld (our pid %d)", rc,
		       (int)getpid());
}

void attack_x32(const struct targets *t)
{
	(void)t;
	/* getpid by its x32 number (39 | __X32_SYSCALL_BIT) through the syscall instruction. */
	long rc = 39 | 0x40000000L;
	__asm__ volatile("syscall" : "+a"(rc) : : "rcx", "r11", "memory");
	if (rc < 0 && rc > -4096)
		record("x32:getpid", (int)-rc, "syscall 0x40000027: %s", strerror((int)-rc));
	else
		record("x32:getpid", 0, "syscall 0x40000027: returned %ld", rc);
}
