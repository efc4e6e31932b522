/*
 * selkit lab attack probe: what a compromised tunnel daemon would try, run in the domain under test.
 *
 * Built by selkit.lab.battery.build_probe():
 *     gcc -static -no-pie -O2 -Wall -Wextra -Werror -std=gnu11 -o probe *.c
 * (probe.c: modes, running and output; selinux_attacks.c and syscall_attacks.c: the attacks;
 * probe.h: what they share)
 * (static glibc: the guest has no libraries for it; non-PIE so that `probe victim` keeps its secret
 * at the same address as the attacking probe, see mem-read below).
 *
 * USAGE
 *   probe switch STEADY_CTX [--chroot DIR] [--uid N] [--gid N] -- battery [BATTERY OPTIONS]
 *       Enter the steady domain exactly as the patched daemons do (attr fd before chroot), then run the
 *       battery in it. The probe must have been started by exec in the daemon's startup domain.
 *       It forks (as a daemon opens its attr fd after daemonizing); in the child:
 *       1. read the current context (/proc/thread-self/attr/current, a separate read-only fd);
 *       2. open /proc/thread-self/attr/current O_RDWR|O_CLOEXEC;
 *       3. --chroot: chdir(DIR) + chroot("."); --uid/--gid: setgroups(0) + setgid + setuid;
 *       4. pwrite(fd, STEADY_CTX + NUL, len + 1, 0); never read back through that fd;
 *       5. read the context again through a fresh /proc/self/attr/current (may be unreadable in
 *          a chroot or to the steady domain: then the write's success is the evidence);
 *       6. print {"event": "switch", ...} and run the battery.
 *       The child's JSON lines go to an anonymous MAP_SHARED page (the relay), which the parent,
 *       still in the startup domain, prints once the child ends: the steady domain needs no
 *       permission on the harness's stdout, and its fds 0-2 stay unused. A failed switch prints
 *       ok=false, a message on stderr (from the startup domain), and exits 3 with no battery.
 *       The lab does not pass --uid: the battery runs as root so that every denial it sees
 *       comes from SELinux, not from DAC.
 *   probe battery [BATTERY OPTIONS]
 *       Run the battery in the current domain (the "default" column: initrc_t or unconfined).
 *       With --relay, through a forked child and the relay page, as switch mode does.
 *   probe victim
 *       The process the battery attacks: ignores SIGUSR1/SIGHUP, holds victim_secret in its data
 *       segment, prints {"event": "victim", "pid": N} and pauses until SIGTERM/SIGKILL.
 *   probe list
 *       One JSON line per attack: {"attack", "needs", "syscalls"} (selkit checks its table
 *       against this).
 *   probe exit73
 *       Exit with status 73 (memfd-exec runs this binary from memory to prove the exec).
 *
 * BATTERY OPTIONS (an attack whose target is missing reports outcome "error", "not run: ...")
 *   --victim PID        a `probe victim` process (ptrace, signal, mem-read, proc-mem)
 *   --data FILE         an existing data file (read-file, write-file appends one line to it)
 *   --drop-dir DIR      a directory to create a file in (drop-exec)
 *   --shell PATH        the shell to exec (exec-shell; drop-exec's #! line); default /bin/sh
 *   --connect HOST:PORT a listening TCP service the spec does not allow ([v6addr]:port for IPv6)
 *   --bind PORT         a free TCP port the spec does not allow (bound on 0.0.0.0)
 *   --module PATH       a kernel module (.ko) to load (module-load, module-init)
 *   --startup CTX       the startup context to switch back to (setcon-back)
 *   --uid-target N      the uid setuid tries to become (default 65534; must differ from ours)
 *   --timeout SEC       per-attack time limit (default 5)
 *   --only A,B,...      run only these attacks
 *   --relay             (no value) run the battery in a child and print its lines afterwards
 *   --seccomp HEX       a seccomp filter (struct sock_filter array, hex): each attack's child
 *                       loads it as the daemons' patches load theirs after setcon() (no_new_privs,
 *                       seccomp(2) with SECCOMP_FILTER_FLAG_TSYNC), after the attack's prepare
 *                       step (a pipe, a mount namespace) and before its own calls
 *
 * OUTPUT (stdout, one JSON object per line)
 *   switch mode first: {"event": "switch", "pid": P, "parent": PP, "requested": CTX,
 *                       "before": CTX|null,
 *                       "after": CTX|null, "ok": true|false, "errno": ..., "detail": "..."}
 *   {"event": "battery", "pid": P, "uid": U, "context": CTX|null}
 *   then, per attack, in table order:
 *   {"attack": NAME, "pid": CHILD_PID|null, "outcome": "denied"|"allowed"|"error",
 *    "errno": "EACCES"|"EPERM"|...|null, "syscall": DECIDING_SYSCALL, "detail": "..."}
 *   Each attack runs in its own forked child, so an AVC's pid= names the attack that caused it.
 *   The child reports through an anonymous MAP_SHARED page (no pipe: a steady domain may lack
 *   fifo_file permissions on itself; shared anonymous memory needs no SELinux permission); the
 *   battery process prints. A child that does not finish within --timeout dies of its own
 *   alarm() (no signal permission needed) and is reported as an error.
 *
 * OUTCOMES
 *   denied  : the deciding call failed with EACCES or EPERM. The probe runs as root with every
 *             capability, and the lab kernel has SELinux as its only LSM, so such a failure is
 *             SELinux's doing (the lab pairs it with the AVC to be sure).
 *   allowed : the attack succeeded (for module-load/module-init also: the kernel passed every
 *             permission check and only then rejected a stand-in image, or found the module already
 *             loaded (EEXIST); the detail says which).
 *   killed  : the child died of SIGSYS: a seccomp filter killed one of its calls (the lab pairs
 *             the kernel's seccomp record, type=1326, with the attempt by pid).
 *   error   : anything else (target missing, refused connection, timeout, ...): inconclusive.
 *
 * ATTACKS (name: syscalls; what a denial proves)
 *   read-file    openat(O_RDONLY), read: the domain cannot read data on the stepping stone.
 *   write-file   openat(O_WRONLY|O_APPEND), write: it cannot tamper with that data.
 *   drop-exec    openat(O_CREAT|O_EXCL), write, execve: it cannot drop a script and run it
 *                ("#!SHELL" + "exit 73"; the child's exit status 73 proves the script ran).
 *   exec-shell   execve(SHELL, sh -c "exit 73"): it cannot start a shell.
 *   ptrace       ptrace(PTRACE_ATTACH), waitpid, ptrace(PTRACE_DETACH): it cannot take over
 *                another process (process:ptrace).
 *   packet-sock  socket(AF_PACKET, SOCK_RAW, ETH_P_ALL): it cannot sniff the link
 *                (packet_socket:create, then capability:net_raw).
 *   raw-sock     socket(AF_INET, SOCK_RAW, IPPROTO_TCP): it cannot forge TCP or scan with raw
 *                packets (rawip_socket:create, capability:net_raw); no spec declares raw TCP.
 *   connect      socket(AF_INET*, SOCK_STREAM), connect: it cannot reach a port its spec does not
 *                name (tcp_socket:name_connect): no relaying, no attacks on other machines.
 *   bind         socket, bind, listen: it cannot open a new listening port (tcp_socket:name_bind).
 *   setuid       setresuid(T, T, T) with T != our uid. From root to another uid this needs
 *                CAP_SETUID (the kernel asks ns_capable_setid first and T is none of our ids, so
 *                no DAC fallback applies): a denial (capability:setuid) proves no process of the
 *                domain can change uid at all, hence none that dropped root can regain it, and a
 *                daemon still root (a fail-open drop) cannot become someone else. setuid(0) as root
 *                is not tried: it also asks for CAP_SETUID, but when that is denied the kernel
 *                falls back to "0 is already our uid" and returns success, which proves nothing.
 *   module-load  openat(MODULE), finit_module(fd, "", 0): no kernel code from a file
 *                (capability:sys_module first, then system:module_load on the file).
 *   module-init  init_module(image, len, ""): no kernel code from memory (capability:sys_module).
 *                The image is MODULE's bytes when the child can read them, else a 64-byte stand-in
 *                that the kernel rejects (ENOEXEC) only after the capability check.
 *   setcon-back  openat(/proc/thread-self/attr/current, O_RDWR), pwrite(STARTUP_CTX): it cannot
 *                switch back to the startup domain (process:setcurrent, process:dyntransition).
 *   signal       kill(VICTIM, SIGCONT): it cannot signal other processes (process:signal).
 *                SIGCONT is harmless (and resumes a victim ptrace left stopped).
 *   mem-read     process_vm_readv(VICTIM, &victim_secret): it cannot read another process's memory
 *                (process:ptrace). The bytes read are compared with victim_secret.
 *   proc-mem     openat(/proc/VICTIM/mem), pread: the same through /proc (dir:search on the
 *                victim's /proc entry, process:ptrace).
 *
 *   System calls (for the steady seccomp filter; SELinux mediates them partly or not at all),
 *   each made with syscall(2) or the instruction itself so that glibc substitutes nothing:
 *   vmsplice     vmsplice(pipe, page) (prepare: pipe2), then write() of one byte to the same pipe,
 *                whose result goes in the detail (SELinux checks write(), never vmsplice).
 *   splice       splice(pipe -> pipe, non-blocking) (prepare: two pipes, 6 bytes put in the
 *                first with vmsplice).
 *   io-uring     io_uring_setup(4).
 *   userfaultfd  userfaultfd(O_CLOEXEC).
 *   bpf          bpf(BPF_MAP_CREATE, a one-entry array).
 *   perf-event   perf_event_open(software CPU clock of this process).
 *   add-key      add_key("user", ...) into the process keyring.
 *   keyctl       keyctl(KEYCTL_JOIN_SESSION_KEYRING, a new keyring).
 *   userns       unshare(CLONE_NEWUSER).
 *   vm-write     process_vm_writev(VICTIM) of the victim's own secret over itself.
 *   kexec        kexec_load with no segment (a success unloads any staged kernel).
 *   mount        mount(tmpfs on /tmp) (prepare: a private mount namespace, so a success changes
 *                nothing outside the child; it needs CAP_SYS_ADMIN as mount does).
 *   pivot-root   chdir(/proc), pivot_root(".", ".") (prepare: the same namespace).
 *   memfd-exec   memfd_create, this binary copied in, execveat(AT_EMPTY_PATH) as `exit73`.
 *   i386-call    getpid by its i386 number through int $0x80.
 *   x32-call     getpid by its x32 number (39 | __X32_SYSCALL_BIT) through syscall.
 *
 * EXIT STATUS: 0 when the battery ran (whatever its outcomes), 2 bad usage, 3 the switch failed.
 */
#include "probe.h"

/* Non-static, non-const, in .data: the same address in every process of this (non-PIE) build. */
char victim_secret[48] = "selkit-probe victim secret 5f3c9e1a";

struct result *shared;
static FILE *out;                 /* where JSON lines go: stdout, or the relay (switch mode) */

#define RELAY_SIZE (256 * 1024)

/* ----------------------------------------------------------------------------------------- */
/* Output */

static void json_string(FILE *out, const char *text)
{
	if (text == NULL) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static const char *errno_name(int err)
{
	if (err == 0)
		return NULL;
	const char *name = strerrorname_np(err);
	return name ? name : "E?";
}

static void print_attack(const char *name, pid_t pid, const char *outcome, int err,
			 const char *syscall_name, const char *detail)
{
	fprintf(out, "{\"attack\": ");
	json_string(out, name);
	if (pid > 0)
		fprintf(out, ", \"pid\": %d", (int)pid);
	else
		fprintf(out, ", \"pid\": null");
	fprintf(out, ", \"outcome\": ");
	json_string(out, outcome);
	fprintf(out, ", \"errno\": ");
	json_string(out, errno_name(err));
	fprintf(out, ", \"syscall\": ");
	json_string(out, syscall_name);
	fprintf(out, ", \"detail\": ");
	json_string(out, detail);
	fprintf(out, "}\n");
	fflush(out);
}

/* Read a context from a proc attr file through its own fd; NULL and errno when unreadable. */
static char *read_context(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, size - 1);
	int saved = errno;
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ENODATA : saved;
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* ----------------------------------------------------------------------------------------- */
/* Recording in the child */

static const char *judge(int err)
{
	if (err == 0)
		return "allowed";
	return err == EACCES || err == EPERM ? "denied" : "error";
}

static void vrecord(const char *outcome, const char *syscall_name, int err, const char *fmt,
		    va_list ap)
{
	snprintf(shared->outcome, sizeof shared->outcome, "%s", outcome);
	snprintf(shared->syscall, sizeof shared->syscall, "%s", syscall_name);
	vsnprintf(shared->detail, sizeof shared->detail, fmt, ap);
	shared->err = err;
	shared->decided = 1;
}

void record(const char *syscall_name, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrecord(judge(err), syscall_name, err, fmt, ap);
	va_end(ap);
}

void record_as(const char *outcome, const char *syscall_name, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrecord(outcome, syscall_name, err, fmt, ap);
	va_end(ap);
}

static const struct attack ATTACKS[] = {
	{"read-file", "--data", "openat,read", 0, attack_read_file, NULL},
	{"write-file", "--data", "openat,write", 0, attack_write_file, NULL},
	{"drop-exec", "--drop-dir", "openat,write,execve", 1, attack_drop_exec, NULL},
	{"exec-shell", NULL, "execve", 1, attack_exec_shell, NULL},
	{"ptrace", "--victim", "ptrace,wait4,ptrace", 0, attack_ptrace, NULL},
	{"packet-sock", NULL, "socket", 0, attack_packet_socket, NULL},
	{"raw-sock", NULL, "socket", 0, attack_raw_socket, NULL},
	{"connect", "--connect", "socket,connect", 0, attack_connect, NULL},
	{"bind", "--bind", "socket,bind,listen", 0, attack_bind, NULL},
	{"setuid", NULL, "getresuid,setresuid", 0, attack_setuid, NULL},
	{"module-load", "--module", "openat,finit_module", 0, attack_module_load, NULL},
	{"module-init", NULL, "openat,newfstatat,read,init_module", 0, attack_module_init, NULL},
	{"setcon-back", "--startup", "openat,pwrite64", 0, attack_setcon_back, NULL},
	{"signal", "--victim", "kill", 0, attack_signal, NULL},
	{"mem-read", "--victim", "process_vm_readv", 0, attack_mem_read, NULL},
	{"proc-mem", "--victim", "openat,pread64", 0, attack_proc_mem, NULL},
	{"vmsplice", NULL, "vmsplice,write", 0, attack_vmsplice, prepare_pipe},
	{"splice", NULL, "splice", 0, attack_splice, prepare_two_pipes},
	{"io-uring", NULL, "io_uring_setup", 0, attack_io_uring, NULL},
	{"userfaultfd", NULL, "userfaultfd", 0, attack_userfaultfd, NULL},
	{"bpf", NULL, "bpf", 0, attack_bpf, NULL},
	{"perf-event", NULL, "perf_event_open", 0, attack_perf_event, NULL},
	{"add-key", NULL, "add_key", 0, attack_add_key, NULL},
	{"keyctl", NULL, "keyctl", 0, attack_keyctl, NULL},
	{"userns", NULL, "unshare", 0, attack_userns, NULL},
	{"vm-write", "--victim", "process_vm_writev", 0, attack_vm_write, NULL},
	{"kexec", NULL, "kexec_load", 0, attack_kexec, NULL},
	{"mount", NULL, "mount", 0, attack_mount, prepare_mount_ns},
	{"pivot-root", NULL, "chdir,pivot_root", 0, attack_pivot_root, prepare_mount_ns},
	{"memfd-exec", NULL, "memfd_create,openat,read,write,execveat", 1, attack_memfd_exec, NULL},
	{"i386-call", NULL, "i386:getpid", 0, attack_i386, NULL},
	{"x32-call", NULL, "x32:getpid", 0, attack_x32, NULL},
};

#define N_ATTACKS (sizeof ATTACKS / sizeof ATTACKS[0])

/* ----------------------------------------------------------------------------------------- */
/* Running */

static int has_target(const struct attack *a, const struct targets *t)
{
	if (a->needs == NULL)
		return 1;
	if (strcmp(a->needs, "--victim") == 0)
		return t->victim > 0;
	if (strcmp(a->needs, "--data") == 0)
		return t->data != NULL;
	if (strcmp(a->needs, "--drop-dir") == 0)
		return t->drop_dir != NULL;
	if (strcmp(a->needs, "--connect") == 0)
		return t->connect != NULL;
	if (strcmp(a->needs, "--bind") == 0)
		return t->bind != NULL;
	if (strcmp(a->needs, "--module") == 0)
		return t->module != NULL;
	if (strcmp(a->needs, "--startup") == 0)
		return t->startup != NULL;
	return 0;
}

static int selected(const char *name, const char *only)
{
	if (only == NULL)
		return 1;
	size_t len = strlen(name);
	for (const char *p = only; *p;) {
		size_t item = strcspn(p, ",");
		if (item == len && strncmp(p, name, len) == 0)
			return 1;
		p += item;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The --seccomp filter, loaded as the daemons' patches load theirs after setcon(): no_new_privs,
 * then seccomp(2) with SECCOMP_FILTER_FLAG_TSYNC. */
static int load_filter(const struct targets *t)
{
	struct sock_fprog prog = {.len = t->filter_len, .filter = t->filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

static void run_attack(const struct attack *a, const struct targets *t)
{
	if (!has_target(a, t)) {
		char detail[96];
		snprintf(detail, sizeof detail, "not run: no %s given", a->needs);
		print_attack(a->name, 0, "error", 0, "none", detail);
		return;
	}
	memset(shared, 0, sizeof *shared);
	fflush(out);
	pid_t pid = fork();
	if (pid < 0) {
		char detail[128];
		snprintf(detail, sizeof detail, "fork: %s", strerror(errno));
		print_attack(a->name, 0, "error", errno, "fork", detail);
		return;
	}
	if (pid == 0) {
		alarm(t->timeout);
		if (a->prepare)
			a->prepare();
		if (t->filter && load_filter(t) < 0) {
			record_as("error", "seccomp", errno, "loading the --seccomp filter: %s",
				  strerror(errno));
			_exit(0);
		}
		a->run(t);
		_exit(0);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	if (a->run == attack_drop_exec) {
		/* Best effort: the file exists only when its creation was allowed. */
		char path[4096];
		snprintf(path, sizeof path, "%s/selkit-probe-drop-%d", t->drop_dir, (int)pid);
		unlink(path);
	}
	char detail[160];
	if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		snprintf(detail, sizeof detail, "killed by SIGSYS: the seccomp filter stopped a call"
			 "%s", shared->decided ? " after the attempt recorded a result" : "");
		print_attack(a->name, pid, "killed", 0, "none", detail);
		return;
	}
	if (shared->decided) {
		print_attack(a->name, pid, shared->outcome, shared->err, shared->syscall,
			     shared->detail);
		return;
	}
	if (a->execs && status != -1 && WIFEXITED(status)) {
		/* Our own code always records before it exits: no record means execve succeeded. */
		const char *exec_call = strrchr(a->syscalls, ',');
		exec_call = exec_call ? exec_call + 1 : a->syscalls;
		snprintf(detail, sizeof detail, "%s succeeded; the program exited with %d%s",
			 exec_call, WEXITSTATUS(status),
			 WEXITSTATUS(status) == SHELL_EXIT ? "" : " (expected 73)");
		print_attack(a->name, pid, "allowed", 0, exec_call, detail);
	} else if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		snprintf(detail, sizeof detail, "timed out after %u s", t->timeout);
		print_attack(a->name, pid, "error", ETIMEDOUT, "none", detail);
	} else {
		snprintf(detail, sizeof detail, "the attempt ended without a result (wait status 0x%x)",
			 (unsigned)status);
		print_attack(a->name, pid, "error", 0, "none", detail);
	}
}

static int usage(const char *message)
{
	fprintf(stderr, "probe: %s\n"
		"usage: probe switch STEADY_CTX [--chroot DIR] [--uid N] [--gid N] -- battery [OPTIONS]\n"
		"       probe battery [OPTIONS] | probe victim | probe list\n"
		"(the options are documented at the top of probe.c)\n", message);
	return 2;
}

static int parse_number(const char *text, long low, long high, long *out)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || *text == '\0' || *end != '\0' || value < low || value > high)
		return -1;
	*out = value;
	return 0;
}

/* A classic BPF program as hex (struct sock_filter in memory order, little-endian). */
static int parse_filter(const char *hex, struct targets *t)
{
	size_t digits = strlen(hex);
	size_t count = digits / (2 * sizeof(struct sock_filter));
	if (digits == 0 || digits % (2 * sizeof(struct sock_filter)) != 0 || count > BPF_MAXINSNS)
		return -1;
	unsigned char *bytes = malloc(digits / 2);
	if (bytes == NULL)
		return -1;
	for (size_t i = 0; i < digits / 2; i++) {
		unsigned value;
		if (sscanf(hex + 2 * i, "%2x", &value) != 1) {
			free(bytes);
			return -1;
		}
		bytes[i] = (unsigned char)value;
	}
	t->filter = (struct sock_filter *)bytes;
	t->filter_len = (unsigned short)count;
	return 0;
}

static int parse_targets(int argc, char **argv, struct targets *t)
{
	*t = (struct targets){.shell = "/bin/sh", .uid_target = 65534, .timeout = 5};
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--relay") == 0) {
			t->relay = 1;
			continue;
		}
		if (i + 1 >= argc)
			return usage("an option is missing its value");
		const char *value = argv[++i];
		long number;
		if (strcmp(opt, "--victim") == 0) {
			if (parse_number(value, 1, 0x7fffffff, &number) < 0)
				return usage("--victim needs a pid");
			t->victim = (pid_t)number;
		} else if (strcmp(opt, "--data") == 0) {
			t->data = value;
		} else if (strcmp(opt, "--drop-dir") == 0) {
			t->drop_dir = value;
		} else if (strcmp(opt, "--shell") == 0) {
			t->shell = value;
		} else if (strcmp(opt, "--connect") == 0) {
			t->connect = value;
		} else if (strcmp(opt, "--bind") == 0) {
			t->bind = value;
		} else if (strcmp(opt, "--module") == 0) {
			t->module = value;
		} else if (strcmp(opt, "--startup") == 0) {
			t->startup = value;
		} else if (strcmp(opt, "--uid-target") == 0) {
			if (parse_number(value, 0, 0x7ffffffe, &number) < 0)
				return usage("--uid-target needs a uid");
			t->uid_target = number;
		} else if (strcmp(opt, "--timeout") == 0) {
			if (parse_number(value, 1, 600, &number) < 0)
				return usage("--timeout needs 1..600 seconds");
			t->timeout = (unsigned)number;
		} else if (strcmp(opt, "--only") == 0) {
			t->only = value;
		} else if (strcmp(opt, "--seccomp") == 0) {
			if (parse_filter(value, t) < 0)
				return usage("--seccomp needs a BPF program in hex (8 bytes per instruction)");
		} else {
			return usage("unknown battery option");
		}
	}
	return 0;
}

static int run_battery(const struct targets *t)
{
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("probe: mmap");
		return 1;
	}
	char context[512];
	const char *current = read_context("/proc/self/attr/current", context, sizeof context);
	fprintf(out, "{\"event\": \"battery\", \"pid\": %d, \"uid\": %u, \"context\": ",
		(int)getpid(), (unsigned)geteuid());
	json_string(out, current);
	fprintf(out, "}\n");
	fflush(out);
	for (size_t i = 0; i < N_ATTACKS; i++)
		if (selected(ATTACKS[i].name, t->only))
			run_attack(&ATTACKS[i], t);
	return 0;
}

/*
 * Run fn in a forked child whose JSON lines go to a shared relay page; print them once it ends.
 * The child never writes to stdout, so a confined child needs no permission on it.
 */
static int relayed(int (*fn)(const void *), const void *arg)
{
	char *relay = mmap(NULL, RELAY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			   -1, 0);
	if (relay == MAP_FAILED) {
		perror("probe: mmap");
		return 1;
	}
	fflush(out);
	pid_t pid = fork();
	if (pid < 0) {
		perror("probe: fork");
		return 1;
	}
	if (pid == 0) {
		out = fmemopen(relay, RELAY_SIZE - 1, "w");
		if (out == NULL)
			_exit(1);
		int rc = fn(arg);
		fflush(out);
		_exit(rc);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	relay[RELAY_SIZE - 1] = '\0';
	fputs(relay, out);
	fflush(out);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "probe: the battery process died (wait status 0x%x)\n", (unsigned)status);
	return 1;
}

static int run_battery_job(const void *arg)
{
	return run_battery(arg);
}

static int battery(int argc, char **argv)
{
	struct targets t;
	int rc = parse_targets(argc, argv, &t);
	if (rc)
		return rc;
	return t.relay ? relayed(run_battery_job, &t) : run_battery(&t);
}

struct switch_plan {
	const char *steady;
	const char *chroot_dir;
	long uid, gid;
};

/* In the forked child: open the attr fd, chroot, drop, pwrite, report, run the battery. */
static int switch_and_run(const struct switch_plan *plan, const struct targets *t)
{
	char before_buf[512];
	const char *before = read_context("/proc/thread-self/attr/current", before_buf,
					  sizeof before_buf);
	int fd = open("/proc/thread-self/attr/current", O_RDWR | O_CLOEXEC);
	int err = fd < 0 ? errno : 0;
	const char *failed = fd < 0 ? "open /proc/thread-self/attr/current" : NULL;
	if (!failed && plan->chroot_dir && (chdir(plan->chroot_dir) < 0 || chroot(".") < 0)) {
		err = errno;
		failed = "chroot";
	}
	if (!failed && plan->uid >= 0) {
		gid_t gid = (gid_t)(plan->gid >= 0 ? plan->gid : plan->uid);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid((uid_t)plan->uid) < 0) {
			err = errno;
			failed = "drop uid/gid";
		}
	}
	if (!failed && pwrite(fd, plan->steady, strlen(plan->steady) + 1, 0) < 0) {
		err = errno;
		failed = "pwrite /proc/thread-self/attr/current";
	}
	char after_buf[512];
	const char *after = NULL;
	if (!failed) {
		after = read_context("/proc/self/attr/current", after_buf, sizeof after_buf);
		if (after == NULL) {
			char path[64];
			snprintf(path, sizeof path, "/proc/%d/attr/current", (int)getpid());
			after = read_context(path, after_buf, sizeof after_buf);
		}
	}
	char detail[256];
	if (failed)
		snprintf(detail, sizeof detail, "%s: %s", failed, strerror(err));
	else if (after == NULL)
		snprintf(detail, sizeof detail, "the write succeeded; the new context is unreadable here");
	else
		snprintf(detail, sizeof detail, "the write succeeded");
	fprintf(out, "{\"event\": \"switch\", \"pid\": %d, \"parent\": %d, \"requested\": ",
		(int)getpid(), (int)getppid());
	json_string(out, plan->steady);
	fprintf(out, ", \"before\": ");
	json_string(out, before);
	fprintf(out, ", \"after\": ");
	json_string(out, after);
	fprintf(out, ", \"ok\": %s, \"errno\": ", failed ? "false" : "true");
	json_string(out, errno_name(err));
	fprintf(out, ", \"detail\": ");
	json_string(out, detail);
	fprintf(out, "}\n");
	fflush(out);
	if (failed) {
		/* Still in the startup domain: stderr is usable. */
		fprintf(stderr, "probe: cannot switch to %s: %s%s\n", plan->steady, detail,
			strncmp(failed, "pwrite", 6) == 0 && err == EINVAL
				? " (is SELinux enabled, and the context valid?)" : "");
		return 3;
	}
	return run_battery(t);
}

struct switch_job {
	struct switch_plan plan;
	struct targets targets;
};

static int run_switch_job(const void *arg)
{
	const struct switch_job *job = arg;
	return switch_and_run(&job->plan, &job->targets);
}

/*
 * The switch runs in a forked child (as a daemon opens its attr fd after daemonizing); the
 * parent stays in the startup domain and prints what the child wrote to a shared relay page,
 * so the steady domain needs no permission on the harness's stdout.
 */
static int switch_then_battery(int argc, char **argv)
{
	if (argc < 1)
		return usage("switch needs STEADY_CTX");
	struct switch_plan plan = {.steady = argv[0], .uid = -1, .gid = -1};
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (i + 1 >= argc)
			return usage("an option is missing its value");
		if (strcmp(argv[i], "--chroot") == 0)
			plan.chroot_dir = argv[++i];
		else if (strcmp(argv[i], "--uid") == 0) {
			if (parse_number(argv[++i], 0, 0x7ffffffe, &plan.uid) < 0)
				return usage("--uid needs a uid");
		} else if (strcmp(argv[i], "--gid") == 0) {
			if (parse_number(argv[++i], 0, 0x7ffffffe, &plan.gid) < 0)
				return usage("--gid needs a gid");
		} else
			return usage("unknown switch option");
	}
	if (i + 1 >= argc || strcmp(argv[i + 1], "battery") != 0)
		return usage("switch needs '-- battery [OPTIONS]' after its options");
	struct targets t;
	int rc = parse_targets(argc - i - 2, argv + i + 2, &t);
	if (rc)
		return rc;
	struct switch_job job = {plan, t};
	return relayed(run_switch_job, &job);
}

static void ignore(int sig)
{
	(void)sig;
}

__attribute__((noreturn)) static void victim(void)
{
	struct sigaction sa = {.sa_handler = ignore};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fprintf(out, "{\"event\": \"victim\", \"pid\": %d}\n", (int)getpid());
	fflush(out);
	for (;;)
		pause();
}

static int list(void)
{
	for (size_t i = 0; i < N_ATTACKS; i++) {
		fprintf(out, "{\"attack\": ");
		json_string(out, ATTACKS[i].name);
		fprintf(out, ", \"needs\": ");
		json_string(out, ATTACKS[i].needs);
		fprintf(out, ", \"syscalls\": ");
		json_string(out, ATTACKS[i].syscalls);
		fprintf(out, "}\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	out = stdout;
	if (argc < 2)
		return usage("no mode given");
	if (strcmp(argv[1], "switch") == 0)
		return switch_then_battery(argc - 2, argv + 2);
	if (strcmp(argv[1], "battery") == 0)
		return battery(argc - 2, argv + 2);
	if (strcmp(argv[1], "victim") == 0 && argc == 2)
		victim();
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		return list();
	if (strcmp(argv[1], "exit73") == 0 && argc == 2)
		return SHELL_EXIT;
	return usage("unknown mode");
}
