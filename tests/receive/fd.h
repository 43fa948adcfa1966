/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rcv-fd's internal header: what its files share. fd.c: the queries, two
 * threads on one fd, fork, close while another thread reads, main();
 * fd-suid.c: a uid 1000 opener's fd across exec of a setuid-root program.
 */
#ifndef MEMTRACE_RCV_FD_H
#define MEMTRACE_RCV_FD_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rcvlib.h"
#define TAP_SHARED
#include "tap.h"

#define USER_ID		1000
#define N_SUID		6	/* lines the setuid test reports */

/* fd.c */
extern struct rc_target rcvfd_tg;
extern char *rcvfd_r1, *rcvfd_r2;
extern size_t rcvfd_n1, rcvfd_n2;
uint64_t rcvfd_fnv(const char *p, size_t n);

/* fd-suid.c */
int rcvfd_suid_main(int argc, char **argv);
void rcvfd_test_suid(struct rl_rng *r);

#endif
