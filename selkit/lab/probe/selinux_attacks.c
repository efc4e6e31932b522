/*
 * The attack probe's SELinux attacks (see probe.c's header): what a compromised daemon would
 * try, each stopped by the policy alone.
 */
#include "probe.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* The attacks (each runs in a forked child and records exactly one outcome) */

void attack_read_file(const struct targets *t)
{
	int fd = open(t->data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		record("openat", errno, "open(%s, O_RDONLY): %s", t->data, strerror(errno));
		return;
	}
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0)
		record("read", errno, "read(%s): %s", t->data, strerror(errno));
	else
		record("read", 0, "read %zd bytes of %s", n, t->data);
	close(fd);
}

void attack_write_file(const struct targets *t)
{
	int fd = open(t->data, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		record("openat", errno, "open(%s, O_WRONLY|O_APPEND): %s", t->data, strerror(errno));
		return;
	}
	static const char line[] = "selkit-probe was here\n";
	ssize_t n = write(fd, line, sizeof line - 1);
	if (n < 0)
		record("write", errno, "write(%s): %s", t->data, strerror(errno));
	else
		record("write", 0, "appended %zd bytes to %s", n, t->data);
	close(fd);
}

void attack_drop_exec(const struct targets *t)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/selkit-probe-drop-%d", t->drop_dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (fd < 0) {
		record("openat", errno, "create %s: %s", path, strerror(errno));
		return;
	}
	char script[512];
	int len = snprintf(script, sizeof script, "#!%s\nexit %d\n", t->shell, SHELL_EXIT);
	ssize_t n = write(fd, script, (size_t)len);
	int saved = errno;
	close(fd);
	if (n != len) {
		record("write", n < 0 ? saved : EIO, "write %s: %s", path, strerror(n < 0 ? saved : EIO));
		return;
	}
	char *argv[] = {path, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	execve(path, argv, envp);
	record("execve", errno, "created %s, then execve: %s", path, strerror(errno));
}

void attack_exec_shell(const struct targets *t)
{
	char code[16];
	snprintf(code, sizeof code, "exit %d", SHELL_EXIT);
	char *argv[] = {"sh", "-c", code, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	execve(t->shell, argv, envp);
	record("execve", errno, "execve(%s): %s", t->shell, strerror(errno));
}

void attack_ptrace(const struct targets *t)
{
	if (ptrace(PTRACE_ATTACH, t->victim, NULL, NULL) < 0) {
		record("ptrace", errno, "PTRACE_ATTACH %d: %s", (int)t->victim, strerror(errno));
		return;
	}
	int status = 0;
	pid_t waited = waitpid(t->victim, &status, __WALL);
	int detached = ptrace(PTRACE_DETACH, t->victim, NULL, NULL);
	record("ptrace", 0, "attached to %d (stop %s), detached%s", (int)t->victim,
	       waited == t->victim && WIFSTOPPED(status) ? "seen" : "not seen",
	       detached == 0 ? "" : " (detach failed)");
}

void attack_packet_socket(const struct targets *t)
{
	(void)t;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		record("socket", errno, "socket(AF_PACKET, SOCK_RAW, ETH_P_ALL): %s", strerror(errno));
		return;
	}
	record("socket", 0, "packet socket open (fd %d): every frame on every interface is readable",
	       fd);
	close(fd);
}

void attack_raw_socket(const struct targets *t)
{
	(void)t;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		record("socket", errno, "socket(AF_INET, SOCK_RAW, IPPROTO_TCP): %s", strerror(errno));
		return;
	}
	record("socket", 0, "raw TCP socket open (fd %d): forged TCP segments can be sent", fd);
	close(fd);
}

/* "HOST:PORT", "[V6]:PORT" or ("PORT" when host_optional) into a socket address. */
static int parse_endpoint(const char *text, int host_optional, struct sockaddr_storage *addr,
			  socklen_t *len)
{
	char host[128] = "0.0.0.0";
	const char *port_text = text;
	const char *colon = strrchr(text, ':');
	if (colon != NULL) {
		size_t hlen = (size_t)(colon - text);
		const char *h = text;
		if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
			h++;
			hlen -= 2;
		}
		if (hlen == 0 || hlen >= sizeof host)
			return -1;
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		port_text = colon + 1;
	} else if (!host_optional) {
		return -1;
	}
	char *end;
	long port = strtol(port_text, &end, 10);
	if (*port_text == '\0' || *end != '\0' || port < 1 || port > 65535)
		return -1;
	memset(addr, 0, sizeof *addr);
	struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof *v4;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof *v6;
	} else {
		return -1;
	}
	return 0;
}

void attack_connect(const struct targets *t)
{
	struct sockaddr_storage addr;
	socklen_t len;
	if (parse_endpoint(t->connect, 0, &addr, &len) < 0) {
		record_as("error", "none", 0, "bad --connect '%s' (HOST:PORT)", t->connect);
		return;
	}
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		record("socket", errno, "socket(SOCK_STREAM): %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&addr, len) < 0) {
		int err = errno;
		if (err == ECONNREFUSED)
			record_as("error", "connect", err,
				  "connect %s: refused (the policy let it out, but nothing listens there)",
				  t->connect);
		else
			record("connect", err, "connect %s: %s", t->connect, strerror(err));
	} else {
		record("connect", 0, "connected to %s", t->connect);
	}
	close(fd);
}

void attack_bind(const struct targets *t)
{
	struct sockaddr_storage addr;
	socklen_t len;
	if (parse_endpoint(t->bind, 1, &addr, &len) < 0) {
		record_as("error", "none", 0, "bad --bind '%s' ([HOST:]PORT)", t->bind);
		return;
	}
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		record("socket", errno, "socket(SOCK_STREAM): %s", strerror(errno));
		return;
	}
	if (bind(fd, (struct sockaddr *)&addr, len) < 0)
		record("bind", errno, "bind %s: %s", t->bind, strerror(errno));
	else if (listen(fd, 1) < 0)
		record("listen", errno, "listen on %s: %s", t->bind, strerror(errno));
	else
		record("listen", 0, "listening on %s", t->bind);
	close(fd);
}

void attack_setuid(const struct targets *t)
{
	uid_t target = (uid_t)t->uid_target;
	uid_t ruid, euid, suid;
	getresuid(&ruid, &euid, &suid);
	if (target == ruid || target == euid || target == suid) {
		record_as("error", "none", 0, "--uid-target %u is one of our own uids (%u/%u/%u)",
			  (unsigned)target, (unsigned)ruid, (unsigned)euid, (unsigned)suid);
		return;
	}
	if (setresuid(target, target, target) < 0) {
		record("setresuid", errno, "setresuid(%u, %u, %u) as uid %u: %s", (unsigned)target,
		       (unsigned)target, (unsigned)target, (unsigned)euid, strerror(errno));
		return;
	}
	record("setresuid", 0, "uid %u became uid %u: CAP_SETUID is usable in this domain",
	       (unsigned)euid, (unsigned)target);
}

/* finit_module/init_module: EEXIST or a rejected stand-in still means every check passed. */
static void record_module(const char *syscall_name, int rc, int err, const char *what)
{
	if (rc == 0)
		record(syscall_name, 0, "%s: loaded", what);
	else if (err == EEXIST)
		record_as("allowed", syscall_name, err, "%s: accepted; the module was already loaded",
			  what);
	else if (err == ENOEXEC || err == EKEYREJECTED || err == ENOKEY || err == EBADMSG
		 || err == ENOPKG)
		record_as("allowed", syscall_name, err,
			  "%s: the permission checks passed; the kernel then rejected the image (%s)",
			  what, strerror(err));
	else
		record(syscall_name, err, "%s: %s", what, strerror(err));
}

void attack_module_load(const struct targets *t)
{
	int fd = open(t->module, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		record("openat", errno, "open(%s): %s", t->module, strerror(errno));
		return;
	}
	char what[4200];
	snprintf(what, sizeof what, "finit_module(%s)", t->module);
	long rc = syscall(SYS_finit_module, fd, "", 0);
	record_module("finit_module", (int)rc, errno, what);
	close(fd);
}

void attack_module_init(const struct targets *t)
{
	static char stand_in[64] = "selkit-probe: not a kernel module";
	char *image = stand_in;
	size_t len = sizeof stand_in;
	char what[4200];
	snprintf(what, sizeof what, "init_module(64-byte stand-in; %s)",
		 t->module ? "the module is unreadable" : "no --module given");
	int fd = t->module ? open(t->module, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
		char *bytes = malloc((size_t)st.st_size);
		if (bytes && read(fd, bytes, (size_t)st.st_size) == st.st_size) {
			image = bytes;
			len = (size_t)st.st_size;
			snprintf(what, sizeof what, "init_module(%s image, %zu bytes)", t->module, len);
		}
	}
	long rc = syscall(SYS_init_module, image, len, "");
	record_module("init_module", (int)rc, errno, what);
	if (fd >= 0)
		close(fd);
}

void attack_setcon_back(const struct targets *t)
{
	int fd = open("/proc/thread-self/attr/current", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		record("openat", errno, "open /proc/thread-self/attr/current: %s", strerror(errno));
		return;
	}
	size_t len = strlen(t->startup) + 1;
	ssize_t n = pwrite(fd, t->startup, len, 0);
	if (n < 0)
		record("pwrite64", errno, "pwrite(%s): %s", t->startup, strerror(errno));
	else
		record("pwrite64", 0, "switched to %s", t->startup);
	close(fd);
}

void attack_signal(const struct targets *t)
{
	if (kill(t->victim, SIGCONT) < 0)
		record("kill", errno, "kill(%d, SIGCONT): %s", (int)t->victim, strerror(errno));
	else
		record("kill", 0, "sent SIGCONT to %d", (int)t->victim);
}

static void record_secret(const char *syscall_name, ssize_t n, const char *how)
{
	if (n == (ssize_t)sizeof victim_secret && memcmp(shared->detail, victim_secret, sizeof victim_secret) == 0)
		record(syscall_name, 0, "%s: read the victim's secret", how);
	else
		record_as("error", syscall_name, 0,
			  "%s: read %zd bytes that are not the victim's secret (is the victim "
			  "`probe victim` of this build?)", how, n);
}

void attack_mem_read(const struct targets *t)
{
	/* The bytes land in shared->detail first, to be compared and then overwritten. */
	struct iovec local = {shared->detail, sizeof victim_secret};
	struct iovec remote = {victim_secret, sizeof victim_secret};
	ssize_t n = process_vm_readv(t->victim, &local, 1, &remote, 1, 0);
	if (n < 0) {
		record("process_vm_readv", errno, "process_vm_readv(%d): %s", (int)t->victim,
		       strerror(errno));
		return;
	}
	char how[64];
	snprintf(how, sizeof how, "process_vm_readv(%d)", (int)t->victim);
	record_secret("process_vm_readv", n, how);
}

void attack_proc_mem(const struct targets *t)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)t->victim);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		record("openat", errno, "open(%s): %s", path, strerror(errno));
		return;
	}
	ssize_t n = pread(fd, shared->detail, sizeof victim_secret, (off_t)(uintptr_t)victim_secret);
	if (n < 0)
		record("pread64", errno, "pread(%s): %s", path, strerror(errno));
	else
		record_secret("pread64", n, path);
	close(fd);
}
