/* The attack probe's shared declarations (probe.c, syscall_attacks.c). */
#ifndef SELKIT_PROBE_H
#define SELKIT_PROBE_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHELL_EXIT 73
#define DETAIL_MAX 480

struct result {
	int decided;              /* 0 until the child records an outcome */
	int err;                  /* errno of the deciding call, 0 when it succeeded */
	char outcome[8];
	char syscall[24];
	char detail[DETAIL_MAX];
};

struct targets {
	pid_t victim;
	const char *data;
	const char *drop_dir;
	const char *shell;
	const char *connect;
	const char *bind;
	const char *module;
	const char *startup;
	long uid_target;
	unsigned timeout;
	const char *only;
	int relay;
	struct sock_filter *filter;   /* --seccomp: loaded by each attack's child before it runs */
	unsigned short filter_len;
};

struct attack {
	const char *name;
	const char *needs;        /* the option the attack cannot run without, or NULL */
	const char *syscalls;     /* comma-separated, in the order they are made */
	int execs;                /* succeeds by replacing the child with a shell */
	void (*run)(const struct targets *);
	void (*prepare)(void);    /* runs before the --seccomp filter is loaded, or NULL */
};

/* The victim's secret: non-static, non-const, in .data, so at the same address in every
 * process of this (non-PIE) build. */
extern char victim_secret[48];
/* Where an attack's child records its outcome (an anonymous MAP_SHARED page). */
extern struct result *shared;

/* The deciding call `syscall_name` returned with `err` (0: success). */
__attribute__((format(printf, 3, 4)))
void record(const char *syscall_name, int err, const char *fmt, ...);
__attribute__((format(printf, 4, 5)))
void record_as(const char *outcome, const char *syscall_name, int err, const char *fmt, ...);

/* selinux_attacks.c */
void attack_read_file(const struct targets *t);
void attack_write_file(const struct targets *t);
void attack_drop_exec(const struct targets *t);
void attack_exec_shell(const struct targets *t);
void attack_ptrace(const struct targets *t);
void attack_packet_socket(const struct targets *t);
void attack_raw_socket(const struct targets *t);
void attack_connect(const struct targets *t);
void attack_bind(const struct targets *t);
void attack_setuid(const struct targets *t);
void attack_module_load(const struct targets *t);
void attack_module_init(const struct targets *t);
void attack_setcon_back(const struct targets *t);
void attack_signal(const struct targets *t);
void attack_mem_read(const struct targets *t);
void attack_proc_mem(const struct targets *t);

/* syscall_attacks.c */
void prepare_pipe(void);
void prepare_two_pipes(void);
void prepare_mount_ns(void);
void attack_vmsplice(const struct targets *t);
void attack_splice(const struct targets *t);
void attack_io_uring(const struct targets *t);
void attack_userfaultfd(const struct targets *t);
void attack_bpf(const struct targets *t);
void attack_perf_event(const struct targets *t);
void attack_add_key(const struct targets *t);
void attack_keyctl(const struct targets *t);
void attack_userns(const struct targets *t);
void attack_vm_write(const struct targets *t);
void attack_kexec(const struct targets *t);
void attack_mount(const struct targets *t);
void attack_pivot_root(const struct targets *t);
void attack_memfd_exec(const struct targets *t);
void attack_i386(const struct targets *t);
void attack_x32(const struct targets *t);

#endif
