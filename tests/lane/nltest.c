// SPDX-License-Identifier: GPL-2.0
/*
 * nltest - a dynamic executable linked to libnl-genl-3 for tests/lane/run:
 * proves that scripts/vm --add brings shared libraries along and that the
 * guest has generic netlink (it resolves the "nlctrl" family).
 */
#include <stdio.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

int main(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id;

	if (!sk || genl_connect(sk)) {
		fprintf(stderr, "nltest: cannot connect a generic netlink socket\n");
		return 1;
	}
	id = genl_ctrl_resolve(sk, "nlctrl");
	nl_socket_free(sk);
	if (id < 0) {
		fprintf(stderr, "nltest: cannot resolve nlctrl: %d\n", id);
		return 1;
	}
	printf("nltest: nlctrl family id %d\n", id);
	return 0;
}
