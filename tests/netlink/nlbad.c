// SPDX-License-Identifier: GPL-2.0
/*
 * nlbad: malformed and refused requests to the memtrace generic netlink
 * family, sent as raw bytes (tests/lib/nlraw.h), each checked for the
 * errno kmod/uapi/memtrace.h documents and for the kernel's extended ACK
 * message; then a good query must still be answered correctly. Run as root
 * in the lab VM with the module loaded; the permission cases drop to uid 1000
 * (user "lab") in a child. TAP on stdout; exit status 1 if a test failed.
 *
 * Where an error comes from netlink's own policy validation the message is
 * the kernel's generic one ("invalid attribute length", "Unknown attribute
 * type", ...); QUERY's own errors carry the module's messages. Errors the
 * generic netlink core returns without looking at the family (an unknown
 * command, a header too short for genetlink) have no message on every
 * kernel: those check the errno only and say whether a message came.
 */
#include "nlbad.h"

TAP_SHARED_STATE;

struct nlr nlbad_sk;
struct nlb nlbad_req;

const char *nlbad_errname(int e)
{
	static char buf[32];

	switch (-e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ESRCH: return "ESRCH";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case E2BIG: return "E2BIG";
	case EMSGSIZE: return "EMSGSIZE";
	case EBUSY: return "EBUSY";
	}
	snprintf(buf, sizeof(buf), "errno %d", -e);
	return buf;
}

int nlbad_ask(struct nlr *sk, const struct nlb *req, struct nlr_result *r)
{
	int ret = nlr_send(sk, req);

	if (ret) {
		memset(r, 0, sizeof(*r));
		return ret;
	}
	return nlr_wait(sk, req->seq, r, NULL, NULL);
}

/* Send nlbad_req; the answer must be errno want, with an extended ACK message if need_msg. */
static void expect(const char *what, int want, int need_msg)
{
	struct nlr_result r;
	int ret = nlbad_ask(&nlbad_sk, &nlbad_req, &r);
	bool ok_err = !ret && r.answered && r.error == want;
	bool ok_msg = r.msg[0] || need_msg == MSG_OPTIONAL;

	tap_ok(ok_err && ok_msg, "%s: %s%s%s%s", what, nlbad_errname(want),
	       r.msg[0] ? ", kernel says \"" : need_msg ? ", with a message" : "",
	       r.msg, r.msg[0] ? "\"" : "");
	if (ret)
		tap_diag("send/receive failed: %s", strerror(-ret));
	else if (!r.answered)
		tap_diag("no answer%s", r.timeout ? " (timeout)" : "");
	else if (r.error != want)
		tap_diag("got %s%s, %u data messages", nlbad_errname(r.error),
			 r.via_done ? " (in NLMSG_DONE)" : "", r.nmsgs);
	else if (!ok_msg)
		tap_diag("the right errno, but no extended ACK message came with it");
	if (ok_err && need_msg == MSG_OPTIONAL && !r.msg[0])
		tap_diag("(no message from the kernel here)");
}

void nlbad_query(int pid)
{
	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_QUERY, NLM_F_DUMP);
	if (pid >= 0)
		nlb_u32(&nlbad_req, MEMTRACE_A_PID, (uint32_t)pid);
}

int main(void)
{
	uint64_t task_size = 0;
	int me = getpid(), err;
	struct nlr_result r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = nlr_open(&nlbad_sk);
	if (err) {
		tap_ok(0, "the memtrace generic netlink family resolves (%s)", strerror(-err));
		return tap_done();
	}
	tap_ok(1, "the memtrace generic netlink family resolves (id %u)", nlbad_sk.family);

	/* GET_INFO first: TASK_SIZE for the range cases */
	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	{
		static struct nlr_result ir;
		int rem;
		struct nlattr *a;

		if (!nlr_send(&nlbad_sk, &nlbad_req)) {
			struct nlmsghdr *h = (struct nlmsghdr *)nlbad_sk.buf;
			ssize_t n = recv(nlbad_sk.fd, nlbad_sk.buf, nlbad_sk.cap, 0);

			if (n > 0 && h->nlmsg_type == nlbad_sk.family)
				nlr_for_each_attr(a, (char *)NLMSG_DATA(h) + GENL_HDRLEN,
						  (int)(h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem)
					if (nlr_type(a) == MEMTRACE_A_TASK_SIZE && nlr_len(a) == 8)
						memcpy(&task_size, nlr_data(a), 8);
			nlr_wait(&nlbad_sk, nlbad_req.seq, &ir, NULL, NULL);	/* the ack */
		}
		tap_ok(task_size >= 0x7ffffffff000ULL, "GET_INFO: TASK_SIZE 0x%" PRIx64, task_size);
	}

	/* ---- attribute validation: netlink's policy ---- */
	nlbad_query(-1);
	expect("QUERY without PID", -EINVAL, MSG_REQUIRED);

	nlbad_query(-1);
	nlb_u8(&nlbad_req, MEMTRACE_A_PID, 1);
	expect("PID sent as u8", -EINVAL, MSG_REQUIRED);

	nlbad_query(-1);
	nlb_u64(&nlbad_req, MEMTRACE_A_PID, (uint64_t)me);
	expect("PID sent as u64", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_START, 0x1000);
	expect("START sent as u32", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_END, 0x2000);
	expect("END sent as u32", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	expect("MODE sent as u32", -EINVAL, MSG_REQUIRED);

	/*
	 * memtrace.h: "a MODE above MEMTRACE_MODE_MAX is EINVAL (ERANGE for the
	 * range check)": the policy's range check (NLA_POLICY_MAX) says ERANGE.
	 */
	nlbad_query(me);
	nlb_u8(&nlbad_req, MEMTRACE_A_MODE, 2);
	expect("MODE 2 (above MEMTRACE_MODE_MAX)", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u8(&nlbad_req, MEMTRACE_A_MODE, 255);
	expect("MODE 255", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_MAX + 1, 0);
	expect("unknown attribute type (MEMTRACE_A_MAX + 1)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, 0x7fff, 0);
	expect("unknown attribute type 0x7fff", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_UNSPEC, 0);
	expect("attribute type 0 (MEMTRACE_A_UNSPEC)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_attr(&nlbad_req, MEMTRACE_A_RECORD | NLA_F_NESTED, NULL, 0);
	expect("MEMTRACE_A_RECORD in a QUERY (known, unexpected)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_attr(&nlbad_req, MEMTRACE_A_VERSION, "1.0", 4);
	expect("MEMTRACE_A_VERSION in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_PAGE_SIZE, 4096);
	expect("MEMTRACE_A_PAGE_SIZE in a QUERY", -EINVAL, MSG_REQUIRED);

	/* the flags carry no payload: the policy's length check says ERANGE */
	nlbad_packed_checks();

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_PACKED, 1);
	expect("MEMTRACE_A_PACKED with a payload (a flag)", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u8(&nlbad_req, MEMTRACE_A_NO_PFN, 1);
	expect("MEMTRACE_A_NO_PFN with a payload (a flag)", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_attr(&nlbad_req, MEMTRACE_A_RUNS, NULL, 0);
	expect("MEMTRACE_A_RUNS in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_attr(&nlbad_req, MEMTRACE_A_PAGEVEC, NULL, 0);
	expect("MEMTRACE_A_PAGEVEC in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_attr(&nlbad_req, MEMTRACE_A_PAGEIDX, NULL, 0);
	expect("MEMTRACE_A_PAGEIDX in a QUERY (a reply attribute)", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u32(&nlbad_req, MEMTRACE_A_INDEXED, 1);
	expect("MEMTRACE_A_INDEXED with a payload (a flag)", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u8(&nlbad_req, MEMTRACE_A_MODE, MEMTRACE_MODE_PAGES);
	nlb_attr(&nlbad_req, MEMTRACE_A_INDEXED, NULL, 0);
	expect("MEMTRACE_A_INDEXED without MEMTRACE_A_PACKED", -EINVAL, MSG_REQUIRED);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	nlb_u32(&nlbad_req, MEMTRACE_A_PID, (uint32_t)me);
	expect("GET_INFO with an attribute (PID)", -EINVAL, MSG_REQUIRED);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_GET_INFO, NLM_F_ACK);
	nlb_u32(&nlbad_req, MEMTRACE_A_MAX + 1, 0);
	expect("GET_INFO with an unknown attribute", -EINVAL, MSG_REQUIRED);

	/* truncated: nlmsg_len ends in the middle of START */
	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0x1000);
	((struct nlmsghdr *)nlbad_req.buf)->nlmsg_len = (uint32_t)(nlbad_req.len - 6);
	expect("truncated: nlmsg_len ends inside an attribute", -EINVAL, MSG_REQUIRED);

	/* an attribute header that claims more than the message holds */
	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0x1000);
	((struct nlattr *)(nlbad_req.buf + nlbad_req.len - 12))->nla_len = 200;
	expect("an attribute longer than the message", -EINVAL, MSG_REQUIRED);

	/* too short for the generic netlink header: the core refuses it */
	nlb_init(&nlbad_req, &nlbad_sk, nlbad_sk.family, NLM_F_DUMP);
	nlb_put(&nlbad_req, "\x02", 1);
	((struct nlmsghdr *)nlbad_req.buf)->nlmsg_len = NLMSG_HDRLEN + 2;
	expect("message shorter than a genlmsghdr", -EINVAL, MSG_OPTIONAL);

	/* oversized: 64 KiB of attributes */
	nlbad_query(me);
	while (nlbad_req.len + 8 <= NLMSG_HDRLEN + GENL_HDRLEN + 65536)
		nlb_u32(&nlbad_req, MEMTRACE_A_PAD, 0);
	expect("64 KiB of attributes (8192 MEMTRACE_A_PAD)", -EINVAL, MSG_REQUIRED);

	{
		static char big[65531 - NLA_HDRLEN];

		nlbad_query(-1);
		nlb_attr(&nlbad_req, MEMTRACE_A_PID, big, sizeof(big));
		expect("one 64 KiB attribute (a PID of 65527 bytes)", -EINVAL, MSG_REQUIRED);
	}

	/* ---- commands ---- */
	nlb_start(&nlbad_req, &nlbad_sk, 99, NLM_F_ACK);
	expect("unknown command 99", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_UNSPEC, NLM_F_ACK);
	expect("command 0 (MEMTRACE_CMD_UNSPEC)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_QUERY, NLM_F_ACK);
	nlb_u32(&nlbad_req, MEMTRACE_A_PID, (uint32_t)me);
	expect("QUERY without NLM_F_DUMP (it is a dump)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_GET_INFO, NLM_F_DUMP);
	expect("GET_INFO as a dump (it is not)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_TOP, NLM_F_ACK);
	expect("TOP without NLM_F_DUMP (it is a dump)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_MAX + 1, NLM_F_DUMP);
	expect("the command after the last (MEMTRACE_CMD_MAX + 1)", -EOPNOTSUPP, MSG_OPTIONAL);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_TOP, NLM_F_DUMP);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0);
	expect("TOP with START (it takes only CACHED)", -EINVAL, MSG_REQUIRED);

	nlb_start(&nlbad_req, &nlbad_sk, MEMTRACE_CMD_TOP, NLM_F_DUMP);
	nlb_u32(&nlbad_req, MEMTRACE_A_PROC, 1);
	expect("TOP with PROC (an answer's attribute)", -EINVAL, MSG_REQUIRED);

	/* ---- QUERY's own checks: the errors of /proc/memtrace's write(2) ---- */
	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0x2000);
	nlb_u64(&nlbad_req, MEMTRACE_A_END, 0x1000);
	expect("START > END", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0x1000);
	nlb_u64(&nlbad_req, MEMTRACE_A_END, 0x1000);
	expect("START == END", -EINVAL, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0);
	nlb_u64(&nlbad_req, MEMTRACE_A_END, task_size + 0x1000);
	expect("END one page past TASK_SIZE", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, 0);
	nlb_u64(&nlbad_req, MEMTRACE_A_END, UINT64_MAX);
	expect("END 2^64-1", -ERANGE, MSG_REQUIRED);

	nlbad_query(me);
	nlb_u64(&nlbad_req, MEMTRACE_A_START, task_size + 0x1000);
	expect("START past TASK_SIZE, no END", -ERANGE, MSG_REQUIRED);

	nlbad_query(999999);
	expect("nonexistent PID 999999", -ESRCH, MSG_REQUIRED);

	nlbad_query(0);
	expect("PID 0", -ESRCH, MSG_REQUIRED);

	nlbad_query(-1);
	nlb_u32(&nlbad_req, MEMTRACE_A_PID, 0xffffffff);
	expect("PID 2^32-1", -ESRCH, MSG_REQUIRED);

	nlbad_query(2);
	expect("kernel thread (PID 2, kthreadd)", -ESRCH, MSG_REQUIRED);

	{
		pid_t z = fork();
		int st;

		if (!z)
			_exit(0);
		usleep(100000);
		nlbad_query(z);
		expect("a zombie (no memory)", -ESRCH, MSG_REQUIRED);
		waitpid(z, &st, 0);
	}

	nlbad_as_lab();
	nlbad_exit_midway();

	/* after all that, the family still works, on the same socket and a new one */
	nlbad_good_query("same socket, afterwards");
	nlr_close(&nlbad_sk);
	err = nlr_open(&nlbad_sk);
	if (err)
		tap_ok(0, "reopen: %s", strerror(-err));
	else
		nlbad_good_query("new socket");
	(void)r;
	return tap_done();
}
