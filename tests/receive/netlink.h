/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rcv-netlink's internal header: what its files share. netlink.c: the
 * state and main(); netlink-dump.c: the sockets and one dump, read in skbs of
 * random sizes and checked; netlink-tests.c: the tests.
 */
#ifndef MEMTRACE_RCV_NETLINK_H
#define MEMTRACE_RCV_NETLINK_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rcvlib.h"
#define TAP_SHARED
#include "tap.h"

#define BUFMAX		65536
#define TIMEOUT_MS	20000

enum { ENC_NESTS, ENC_PACKED, ENC_INDEXED, NENC };

struct pgx {
	struct rc_pg p;
	bool pfn_known;
	unsigned int msg;	/* the data message it came in, from 1 */
};

struct dump {
	int fd;
	uint32_t seq;
	struct rl_check c;
	bool first, done;
	int err;		/* NLMSG_DONE's or NLMSG_ERROR's error */
	unsigned int msgs;
	uint64_t start;
	size_t npages;
	struct pgx *pg;
	char why[320];
};

/* netlink.c */
extern const char *const rnl_enc_names[NENC];
extern uint16_t rnl_family;
extern struct rc_target rnl_tg;
extern struct rc_pg *rnl_ref;
extern bool rnl_admin;
extern unsigned long rnl_n_peeks, rnl_n_short_peeks, rnl_n_truncs, rnl_n_msgs, rnl_n_skbs;
extern char rnl_peek_bad[256], rnl_trunc_bad[256];
extern unsigned char rnl_full[BUFMAX], rnl_part[BUFMAX];

/* netlink-dump.c */
int rnl_sock_open(void);
ssize_t rnl_rcv(int fd, void *buf, size_t len, int flags, int *mflags);
uint32_t rnl_send_query(int fd, uint32_t seq, int pid, uint64_t start, uint64_t end,
			int mode, int enc);
void rnl_dump_init(struct dump *d, int fd, uint32_t seq, int pid, uint64_t start,
		   uint64_t end, int mode, bool show);
int rnl_feed(struct dump *d, struct dump *d2, const unsigned char *buf, ssize_t n);
int rnl_compare(const struct dump *d, const struct rc_pg *want, unsigned int from_msg,
		char *why, size_t wlen);
int rnl_sized_dump(struct rl_rng *r, size_t max, bool vary, bool pin, int mode, int enc,
		   char *why, size_t wlen);

/* netlink-tests.c */
void rnl_test_sizes(struct rl_rng *r);
void rnl_test_trunc_last(void);
void rnl_test_close(void);
void rnl_test_two(void);
void rnl_test_stall(struct rl_rng *r, char cmd);

#endif
