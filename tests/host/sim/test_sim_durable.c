/** @file test_sim_durable.c  Answers that report a write leave only after
 * the group commit that holds it (a PUBLISH 200, a watcher rule's and a
 * chat room command's answer); a failed commit answers 500 and keeps
 * nothing; a request that wrote nothing is not held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "harness.h"
#ifdef CONFIG_SIMPLED_PRESENCE
#include "pres.h"
#endif
#include "stat.h"
#include "store.h"

#define WINDOW "config storage\n\toption commit_window_ms 50\n"
#define PIDF "<?xml version=\"1.0\"?><presence " \
	"xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:alice@" \
	H_DOMAIN "\"><tuple id=\"t\"><status><basic>open</basic></status>" \
	"</tuple></presence>"

/* The daemon with a 50 ms commit window, settled; client 2's socket. */
static int start_windowed(void)
{
	h_start(WINDOW);
	h_run(100);
	return h_client(2);
}

/* Nothing for sock during the first 20 ms of the window; its answer
 * once the window (50 ms) has ended. */
static const char *answer_after_commit(int sock)
{
	unsigned long commits = stat_value("store_commits");

	h_run(20);
	assert_null(h_recv(sock));
	assert_int_equal(stat_value("store_commits"), commits);
	h_run(40);
	assert_int_equal(stat_value("store_commits"), commits + 1);
	return h_recv(sock);
}

#ifdef CONFIG_SIMPLED_PRESENCE
static void publish(int sock, const char *etag)
{
	char hdrs[96];

	snprintf(hdrs, sizeof(hdrs), "Expires: 600\n%s%s%s",
		 etag ? "SIP-If-Match: " : "", etag ? etag : "",
		 etag ? "\n" : "");
	h_request(sock, &(struct h_req){.method = "PUBLISH", .n = 2,
		.from = "alice", .event = "presence", .hdrs = hdrs,
		.ctype = etag ? NULL : "application/pidf+xml",
		.body = etag ? NULL : PIDF});
}

static void test_publish_200_after_commit(void **state)
{
	char etag[64];
	const char *r;
	int a;

	(void)state;
	a = start_windowed();
	publish(a, NULL);
	r = answer_after_commit(a);
	assert_int_equal(h_status(r), 200);
	snprintf(etag, sizeof(etag), "%s", h_hdr(r, "SIP-ETag"));
	/* A refresh writes nothing: answered without waiting. */
	publish(a, etag);
	assert_int_equal(h_status(h_wait(a)), 200);
	h_run(40000);
	h_stop();
}

static void test_failed_commit_publish_500(void **state)
{
	int a;

	(void)state;
	a = start_windowed();
	store_test_fail_commit(EIO);
	publish(a, NULL);
	assert_int_equal(h_status(answer_after_commit(a)), 500);
	h_restart(WINDOW);
	assert_int_equal(pres_doc_count(), 0);
	h_run(40000);
	h_stop();
}

static void test_rule_answer_after_commit(void **state)
{
	int a;

	(void)state;
	a = start_windowed();
	h_request(a, &(struct h_req){.method = "MESSAGE", .n = 2,
		.from = "alice", .to = "presence",
		.body = "allow bob@" H_DOMAIN});
	assert_int_equal(h_status(answer_after_commit(a)), 200);
	h_run(40000);
	h_stop();
}
#endif

#ifdef CONFIG_SIMPLED_IMC
static void test_room_command_answer_after_commit(void **state)
{
	int a;

	(void)state;
	a = start_windowed();
	h_request(a, &(struct h_req){.method = "MESSAGE", .n = 2,
		.from = "alice", .to = "chat", .body = "#create lobby"});
	assert_int_equal(h_status(answer_after_commit(a)), 200);
	h_run(40000);
	h_stop();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef CONFIG_SIMPLED_PRESENCE
		cmocka_unit_test(test_publish_200_after_commit),
		cmocka_unit_test(test_failed_commit_publish_500),
		cmocka_unit_test(test_rule_answer_after_commit),
#endif
#ifdef CONFIG_SIMPLED_IMC
		cmocka_unit_test(test_room_command_answer_after_commit),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
