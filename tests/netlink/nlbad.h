/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nlbad's internal header: what its files share. nlbad.c: the socket, the
 * request, the errno checks and main() (the malformed and refused requests);
 * nlbad-query.c: a good query, as uid 1000, a target that exits mid-dump;
 * nlbad-packed.c: the packed encodings.
 */
#ifndef MEMTRACE_NLBAD_H
#define MEMTRACE_NLBAD_H

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "nlraw.h"
#define TAP_SHARED
#include "tap.h"

enum { MSG_OPTIONAL, MSG_REQUIRED };

#define Q_PACKED 1	/* MEMTRACE_A_PACKED */
#define Q_NO_PFN 2	/* MEMTRACE_A_NO_PFN */
#define Q_INDEXED 4	/* MEMTRACE_A_INDEXED */

/* nlbad.c */
extern struct nlr nlbad_sk;
extern struct nlb nlbad_req;
const char *nlbad_errname(int e);
int nlbad_ask(struct nlr *sk, const struct nlb *req, struct nlr_result *r);
void nlbad_query(int pid);

/* nlbad-query.c */
void nlbad_good_query(const char *when);
void nlbad_as_lab(void);
void nlbad_exit_midway(void);

/* nlbad-packed.c */
void nlbad_packed_checks(void);

#endif
