/* Load a seccomp filter and make one system call: the kernel's side of tests/seccomp.
 *
 *   harness FILTER MODE NR [ARG0]
 *
 * FILTER holds raw struct sock_filter bytes (an empty path: load nothing). MODE is "syscall"
 * (the x86_64 syscall instruction) or "int80" (the i386 entry). Prints "ret R errno E" using
 * only write(2) and exits with exit_group(2); exit 4 with "refused E" if the kernel refuses
 * the filter. No core dumps (RLIMIT_CORE 0). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80(long nr, long a0)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a0) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	static struct sock_filter insns[8192];
	struct rlimit none = {0, 0};
	char buf[96];
	long nr, a0, ret;
	int err, len;

	if (argc < 4)
		return 2;
	setrlimit(RLIMIT_CORE, &none);
	nr = strtol(argv[3], NULL, 0);
	a0 = argc > 4 ? strtol(argv[4], NULL, 0) : 0;
	if (argv[1][0]) {
		struct sock_fprog prog;
		int fd = open(argv[1], O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, insns, sizeof insns);

		if (n < 0)
			return 2;
		close(fd);
		prog.len = (unsigned short)(n / 8);
		prog.filter = insns;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			return 3;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
			printf("refused %d\n", errno);
			return 4;
		}
	}
	if (strcmp(argv[2], "int80") == 0) {
		ret = int80(nr, a0);
		err = ret < 0 && ret > -4096 ? (int)-ret : 0;
	} else {
		errno = 0;
		ret = syscall(nr, a0, 0, 0, 0, 0, 0);
		err = ret == -1 ? errno : 0;
	}
	len = snprintf(buf, sizeof buf, "ret %ld errno %d\n", ret, err);
	syscall(SYS_write, 1, buf, (size_t)len);
	syscall(SYS_exit_group, 0);
	return 0;
}
