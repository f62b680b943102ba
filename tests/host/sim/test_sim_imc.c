/** @file test_sim_imc.c  Chat rooms on virtual time: commands, roles,
 * fan-out, private rooms, history, offline members, restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "imc.h"
#include "stat.h"

#define D H_DOMAIN

static char resp[8192];
static char inbox[16384];
static int sock_of[16];

/* Take everything queued for client n: a response goes to resp; each
 * request is answered 200, its From and body added to inbox. */
static const char *take(int n)
{
	const char *m;

	inbox[0] = '\0';
	while ((m = h_recv(sock_of[n])) != NULL) {
		char copy[8192];

		if (!strncmp(m, "SIP/2.0", 7)) {
			snprintf(resp, sizeof(resp), "%s", m);
			continue;
		}
		snprintf(copy, sizeof(copy), "%s", m);
		h_answer(sock_of[n], copy, 200);
		strncat(inbox, h_hdr(copy, "From"),
			sizeof(inbox) - strlen(inbox) - 2);
		strcat(inbox, " ");
		strncat(inbox, h_body(copy), sizeof(inbox) - strlen(inbox) - 2);
		strcat(inbox, "\n");
	}
	return inbox;
}

/* MESSAGE from user (client n) to to@D; the status, the response in
 * resp, what came to client n meanwhile in inbox. */
static int say(int n, const char *user, const char *to, const char *body)
{
	h_request(sock_of[n], &(struct h_req){.method = "MESSAGE", .n = n,
		.from = user, .to = to, .body = body});
	h_run(10);
	resp[0] = '\0';
	take(n);
	return h_status(resp);
}

/* Everything client n received since, answered 200; in inbox. */
static const char *got(int n)
{
	h_run(10);
	return take(n);
}

#ifdef CONFIG_SIMPLED_OFFLINE
/* Like got(), until nothing more comes (stored messages go one by one).*/
static const char *got_all(int n)
{
	static char all[16384];
	int i;

	all[0] = '\0';
	for (i = 0; i < 10; i++) {
		got(n);
		if (!inbox[0]) {
			break;
		}
		strncat(all, inbox, sizeof(all) - strlen(all) - 1);
	}
	return all;
}
#endif

static void start(const char *cfg)
{
	static const char *const users[] = {"", "", "alice", "bob", "carol",
					    "dave", "erin"};
	int n;

	h_start(cfg);
	for (n = 2; n <= 5; n++) {
		sock_of[n] = h_client(n);
		assert_int_equal(h_register(sock_of[n], n, users[n], 3600),
				 200);
	}
	sock_of[6] = h_client(6); /* erin: not registered */
}

static void test_rooms_roles_and_fanout(void **state)
{
	const char *in;

	(void)state;
	start(NULL);
	assert_int_equal(say(2, "alice", "chat", "#create lobby"), 200);
	assert_non_null(strstr(h_body(resp), "Room lobby created (public); its "
				"address is sip:lobby@" D "."));
	assert_int_equal(imc_room_count(), 1);
	assert_int_equal(say(3, "bob", "lobby", "#join"), 200);
	assert_non_null(strstr(h_body(resp), "You joined lobby (2 members)"));
	assert_non_null(strstr(got(2), "bob@" D " joined lobby."));
	/* A plain message goes to everyone else, prefixed, from the room. */
	assert_int_equal(say(3, "bob", "lobby", "hello all"), 200);
	in = got(2);
	assert_non_null(strstr(in, "<sip:lobby@" D "> [bob]: hello all"));
	assert_null(strstr(got(3), "hello all"));
	/* Outsiders may not talk in it. */
	assert_int_equal(say(4, "carol", "lobby", "let me in"), 403);
	assert_non_null(strstr(h_body(resp), "You are not a member of lobby"));
	/* Invite, accept, and the history comes along. */
	assert_int_equal(say(2, "alice", "lobby", "#invite carol"), 200);
	assert_non_null(strstr(got(4), "alice@" D " invites you to lobby"));
	assert_int_equal(say(4, "carol", "lobby", "#accept"), 200);
	assert_non_null(strstr(inbox, "[bob]: hello all"));
	/* Members never truncate; roles show. */
	assert_int_equal(say(3, "bob", "lobby", "#members"), 200);
	assert_non_null(strstr(h_body(resp), "alice@" D " (owner)\n"
			       "bob@" D " (member)\ncarol@" D " (member)"));
	/* A member may not invite; a refusal always says why. */
	assert_int_equal(say(3, "bob", "lobby", "#invite dave"), 403);
	assert_non_null(strstr(h_body(resp), "As member of lobby you may not "
			       "invite"));
	/* modify, then the admin removes carol. */
	assert_int_equal(say(2, "alice", "lobby", "#modify bob admin"), 200);
	assert_int_equal(say(3, "bob", "lobby", "#remove carol"), 200);
	assert_non_null(strstr(got(4), "You were removed from lobby"));
	assert_int_equal(say(4, "carol", "lobby", "#members"), 403);
	/* An admin may not destroy, nor make owners. */
	assert_int_equal(say(3, "bob", "lobby", "#destroy"), 403);
	assert_int_equal(say(3, "bob", "lobby", "#modify alice member"), 403);
	/* The last owner leaving hands the room to an admin. */
	assert_int_equal(say(2, "alice", "lobby", "#leave"), 200);
	assert_non_null(strstr(got(3), "bob@" D " is now owner of lobby."));
	assert_int_equal(say(3, "bob", "lobby", "#members"), 200);
	assert_non_null(strstr(h_body(resp), "bob@" D " (owner)"));
	assert_null(strstr(h_body(resp), "alice"));
	/* Owner alone: leaving is refused with a hint. */
	assert_int_equal(say(3, "bob", "lobby", "#leave"), 403);
	assert_non_null(strstr(h_body(resp), "#destroy"));
	assert_int_equal(say(3, "bob", "lobby", "#destroy"), 200);
	assert_int_equal(imc_room_count(), 0);
	assert_int_equal(say(3, "bob", "chat", "#join lobby2 extra"), 400);
	assert_non_null(strstr(h_body(resp), "too many arguments"));
	assert_int_equal(say(3, "bob", "chat", "#dance"), 400);
	assert_non_null(strstr(h_body(resp), "unknown command"));
	assert_int_equal(say(3, "bob", "chat", "#help"), 200);
	assert_non_null(strstr(h_body(resp), "#modify <user>"));
	h_run(40000);
	h_stop();
}

/* What one message to a room may cause is bounded: a room takes at most
 * max_members (more get 403 with the reason), and a member's copy goes to
 * at most 60 of their contacts (RFC 5393's default Max-Breadth). */
static void test_fanout_bounded(void **state)
{
	char contacts[4096], hdrs[32];
	unsigned long before;
	size_t o;
	int i, j;

	(void)state;
	start("config imc\n\toption max_members 3\n");
	snprintf(hdrs, sizeof(hdrs), "Expires: 3600\n");
	for (j = 0; j < 5; j++) { /* 14 a time: a REGISTER takes 16 */
		o = 0;
		for (i = 0; i < 14; i++) {
			o += (size_t)snprintf(contacts + o,
					      sizeof(contacts) - o,
					      "%s<sip:bob%d@10.0.0.3:5060>",
					      i ? "," : "", j * 14 + i);
		}
		h_request(sock_of[3], &(struct h_req){.method = "REGISTER",
			.n = 3, .from = "bob", .contact = contacts,
			.hdrs = hdrs});
		assert_int_equal(h_status(h_wait(sock_of[3])), 200);
	}
	assert_int_equal(say(2, "alice", "chat", "#create small"), 200);
	assert_int_equal(say(3, "bob", "small", "#join"), 200);
	assert_int_equal(say(4, "carol", "small", "#join"), 200);
	got(2);
	got(3);
	assert_int_equal(say(5, "dave", "small", "#join"), 403);
	assert_non_null(strstr(h_body(resp), "Room small is full (3 members)"));
	got(2);
	got(3);
	got(4);
	before = stat_value("imc_deliveries");
	assert_int_equal(say(2, "alice", "small", "hi"), 200);
	got(3);
	got(4);
	/* bob: his first registration and 60 of the 70 new contacts share
	 * the 60; carol: one. */
	assert_int_equal(stat_value("imc_deliveries") - before, 61);
	h_run(40000);
	h_stop();
}

/* alice's message to a room of four: the request, the copies and the
 * members' answers to them run with allocations failing. */
static int fanout_exchange(int n, int retry)
{
	char body[16];
	int code;

	(void)retry;
	snprintf(body, sizeof(body), "m%d", n);
	code = say(2, "alice", "sweep", body);
	got(3);
	got(4);
	got(5);
	return code;
}

static void test_oom_sweep_fanout(void **state)
{
	static const int ok[] = {200, 503, 0};

	(void)state;
	start(NULL);
	assert_int_equal(say(2, "alice", "chat", "#create sweep"), 200);
	assert_int_equal(say(3, "bob", "sweep", "#join"), 200);
	assert_int_equal(say(4, "carol", "sweep", "#join"), 200);
	assert_int_equal(say(5, "dave", "sweep", "#join"), 200);
	got(2);
	got(3);
	got(4);
	assert_true(h_oom_sweep(fanout_exchange, NULL, ok) > 5);
	h_run(40000);
	got(3);
	/* Still serving. */
	assert_int_equal(say(2, "alice", "sweep", "after"), 200);
	assert_non_null(strstr(got(3), "[alice]: after"));
	h_run(40000);
	h_stop();
}

static void test_private_rooms_and_listing(void **state)
{
	(void)state;
	start("config imc\n\toption create_on_join 0\n"
	      "\toption check_on_create 1\n");
	assert_int_equal(say(2, "alice", "chat", "#create secret private"),
			 200);
	assert_int_equal(say(2, "alice", "chat", "#create secret"), 409);
	assert_non_null(strstr(h_body(resp), "already exists"));
	assert_int_equal(say(2, "alice", "chat", "#create open"), 200);
	assert_int_equal(say(5, "dave", "chat", "#join secret"), 403);
	assert_non_null(strstr(h_body(resp), "private"));
	assert_non_null(strstr(got(2), "dave@" D " asked to join the private"));
	assert_int_equal(say(5, "dave", "chat", "#join nowhere"), 404);
	assert_non_null(strstr(h_body(resp), "No such room: nowhere"));
	assert_int_equal(say(5, "dave", "chat", "#rooms"), 200);
	assert_non_null(strstr(h_body(resp), "open (1 members)"));
	assert_null(strstr(h_body(resp), "secret"));
	assert_int_equal(say(2, "alice", "chat", "#rooms"), 200);
	assert_non_null(strstr(h_body(resp), "secret [private]"));
	/* Invitation opens the private room; reject declines it. */
	assert_int_equal(say(2, "alice", "secret", "#invite dave"), 200);
	assert_int_equal(say(5, "dave", "secret", "#reject"), 200);
	assert_non_null(strstr(got(2), "declined"));
	assert_int_equal(say(2, "alice", "secret", "#add dave"), 200);
	assert_int_equal(say(5, "dave", "secret", "#members"), 200);
	assert_non_null(strstr(h_body(resp), "dave@" D " (member)"));
	h_run(40000);
	h_stop();
}

#ifdef CONFIG_SIMPLED_OFFLINE
static void test_offline_member_and_restart(void **state)
{
	const char *all;

	(void)state;
	start(NULL);
	assert_int_equal(say(2, "alice", "chat", "#create team"), 200);
	assert_int_equal(say(2, "alice", "team", "#add erin"), 200);
	/* erin has no binding: the room's message waits in the store. */
	assert_int_equal(say(2, "alice", "team", "standup at 10"), 200);
	/* The "added" notice and the message. */
	assert_int_equal(stat_value("imc_offline_deliveries"), 2);
	h_restart(NULL);
	sock_of[2] = h_client(2);
	sock_of[6] = h_client(6);
	assert_int_equal(imc_room_count(), 1);
	assert_int_equal(imc_member_count(), 2);
	assert_int_equal(h_register(sock_of[6], 6, "erin", 600), 200);
	/* From the room, with the offline store's date prefix. */
	all = got_all(6);
	assert_non_null(strstr(all, "<sip:team@" D "> [stored "));
	assert_non_null(strstr(all, "] [alice]: standup at 10"));
	/* The room still fans out after the restart. */
	assert_int_equal(h_register(sock_of[2], 2, "alice", 600), 200);
	assert_int_equal(say(6, "erin", "team", "on my way"), 200);
	assert_non_null(strstr(got(2), "[erin]: on my way"));
	h_run(40000);
	h_stop();
}

static void test_unreachable_member_gets_it_later(void **state)
{
	const char *all;

	(void)state;
	start(NULL);
	assert_int_equal(say(2, "alice", "chat", "#create night"), 200);
	assert_int_equal(say(2, "alice", "night", "#add carol"), 200);
	h_drain(sock_of[4]);
	/* carol is registered but her phone is gone: no answer at all. */
	assert_int_equal(say(2, "alice", "night", "are you there?"), 200);
	h_run(33000);
	h_drain(sock_of[4]);
	/* Both the "added" notice and the message went unanswered. */
	assert_int_equal(stat_value("imc_offline_deliveries"), 2);
	/* When she registers again the message comes from the store. */
	assert_int_equal(h_register(sock_of[4], 4, "carol", 600), 200);
	all = got_all(4);
	assert_non_null(strstr(all, "[alice]: are you there?"));
	h_run(40000);
	h_stop();
}

#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rooms_roles_and_fanout),
		cmocka_unit_test(test_private_rooms_and_listing),
		cmocka_unit_test(test_fanout_bounded),
		cmocka_unit_test(test_oom_sweep_fanout),
#ifdef CONFIG_SIMPLED_OFFLINE
		cmocka_unit_test(test_offline_member_and_restart),
		cmocka_unit_test(test_unreachable_member_gets_it_later),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
