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
#include "store.h"

#define D H_DOMAIN
/* Rooms live in conference.<first domain> by default. */
#define RD "conference." D
#define ROOM(name) name "@" RD

static char resp[8192];
static char inbox[16384];
static int sock_of[16];

/* Take everything queued for client n: a response goes to resp; each
 * request is answered 200, its From (which must have a tag, RFC 3261
 * 8.1.1.3; left out here) and body added to inbox. */
static const char *take(int n)
{
	const char *m;

	inbox[0] = '\0';
	while ((m = h_recv(sock_of[n])) != NULL) {
		char copy[8192], from[512], *tag;

		if (!strncmp(m, "SIP/2.0", 7)) {
			snprintf(resp, sizeof(resp), "%s", m);
			continue;
		}
		snprintf(copy, sizeof(copy), "%s", m);
		h_answer(sock_of[n], copy, 200);
		snprintf(from, sizeof(from), "%s", h_hdr(copy, "From"));
		tag = strstr(from, ";tag=");
		assert_non_null(tag);
		*tag = '\0';
		strncat(inbox, from, sizeof(inbox) - strlen(inbox) - 2);
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
				"address is sip:lobby@" RD "."));
	assert_int_equal(imc_room_count(), 1);
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#join"), 200);
	assert_non_null(strstr(h_body(resp), "You joined lobby (2 members)"));
	assert_non_null(strstr(got(2), "bob@" D " joined lobby."));
	/* A plain message goes to everyone else, prefixed, from the room. */
	assert_int_equal(say(3, "bob", ROOM("lobby"), "hello all"), 200);
	in = got(2);
	assert_non_null(strstr(in, "<sip:lobby@" RD "> [bob]: hello all"));
	assert_null(strstr(got(3), "hello all"));
	/* Outsiders may not talk in it. */
	assert_int_equal(say(4, "carol", ROOM("lobby"), "let me in"), 403);
	assert_non_null(strstr(h_body(resp), "You are not a member of lobby"));
	/* Invite, accept, and the history comes along. */
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#invite carol"), 200);
	assert_non_null(strstr(got(4), "alice@" D " invites you to lobby"));
	assert_int_equal(say(4, "carol", ROOM("lobby"), "#accept"), 200);
	assert_non_null(strstr(inbox, "[bob]: hello all"));
	/* Members never truncate; roles show. */
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#members"), 200);
	assert_non_null(strstr(h_body(resp), "alice@" D " (owner)\n"
			       "bob@" D " (member)\ncarol@" D " (member)"));
	/* A member may not invite; a refusal always says why. */
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#invite dave"), 403);
	assert_non_null(strstr(h_body(resp), "As member of lobby you may not "
			       "invite"));
	/* modify, then the admin removes carol. */
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#modify bob admin"), 200);
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#remove carol"), 200);
	assert_non_null(strstr(got(4), "You were removed from lobby"));
	assert_int_equal(say(4, "carol", ROOM("lobby"), "#members"), 403);
	/* An admin may not destroy, nor make owners. */
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#destroy"), 403);
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#modify alice member"), 403);
	/* The last owner leaving hands the room to an admin. */
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#leave"), 200);
	assert_non_null(strstr(got(3), "bob@" D " is now owner of lobby."));
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#members"), 200);
	assert_non_null(strstr(h_body(resp), "bob@" D " (owner)"));
	assert_null(strstr(h_body(resp), "alice"));
	/* Owner alone: leaving is refused with a hint. */
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#leave"), 403);
	assert_non_null(strstr(h_body(resp), "#destroy"));
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#destroy"), 200);
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
	assert_int_equal(say(3, "bob", ROOM("small"), "#join"), 200);
	assert_int_equal(say(4, "carol", ROOM("small"), "#join"), 200);
	got(2);
	got(3);
	assert_int_equal(say(5, "dave", ROOM("small"), "#join"), 403);
	assert_non_null(strstr(h_body(resp), "Room small is full (3 members)"));
	got(2);
	got(3);
	got(4);
	before = stat_value("imc_deliveries");
	assert_int_equal(say(2, "alice", ROOM("small"), "hi"), 200);
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
	code = say(2, "alice", ROOM("sweep"), body);
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
	assert_int_equal(say(3, "bob", ROOM("sweep"), "#join"), 200);
	assert_int_equal(say(4, "carol", ROOM("sweep"), "#join"), 200);
	assert_int_equal(say(5, "dave", ROOM("sweep"), "#join"), 200);
	got(2);
	got(3);
	got(4);
	assert_true(h_oom_sweep(fanout_exchange, NULL, ok) > 5);
	h_run(40000);
	got(3);
	/* Still serving. */
	assert_int_equal(say(2, "alice", ROOM("sweep"), "after"), 200);
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
	assert_int_equal(say(2, "alice", ROOM("secret"), "#invite dave"), 200);
	assert_int_equal(say(5, "dave", ROOM("secret"), "#reject"), 200);
	assert_non_null(strstr(got(2), "declined"));
	assert_int_equal(say(2, "alice", ROOM("secret"), "#add dave"), 200);
	assert_int_equal(say(5, "dave", ROOM("secret"), "#members"), 200);
	assert_non_null(strstr(h_body(resp), "dave@" D " (member)"));
	h_run(40000);
	h_stop();
}


/* A MESSAGE from user (client n) to `to` that the relay takes to client
 * m: what m got (answered 200) in inbox; the sender's status returned. */
static int relay(int n, const char *user, int m, const char *to,
		 const char *body)
{
	static char in[16384];
	int code;

	h_request(sock_of[n], &(struct h_req){.method = "MESSAGE", .n = n,
		.from = user, .to = to, .body = body});
	h_run(10);
	snprintf(in, sizeof(in), "%s", got(m));
	resp[0] = '\0';
	got(n);
	code = h_status(resp);
	snprintf(inbox, sizeof(inbox), "%s", in);
	return code;
}

/* REGISTER user from client n: the status line of the answer. */
static const char *register_line(int n, const char *user)
{
	static char line[128];
	char contact[96];
	const char *r;

	snprintf(contact, sizeof(contact), "<sip:x@10.0.0.%d:5060>", n);
	r = h_request_wait(sock_of[n], &(struct h_req){.method = "REGISTER",
		.n = n, .from = user, .contact = contact,
		.hdrs = "Expires: 600\n"});
	snprintf(line, sizeof(line), "%.*s", r ? (int)strcspn(r, "\r\n") : 0,
		 r ? r : "");
	return line;
}

/* Rooms live in their own domain by default: a room named like a user
 * never takes that user's messages, before or after a restart. */
static void test_room_never_takes_user(void **state)
{
	(void)state;
	start(NULL);
	assert_int_equal(say(2, "alice", "chat", "#create bob"), 200);
	assert_non_null(strstr(h_body(resp), "its address is sip:bob@" RD
			       "."));
	assert_int_equal(relay(4, "carol", 3, "bob", "hi bob"), 200);
	assert_non_null(strstr(inbox, "<sip:carol@" D ">"));
	assert_non_null(strstr(inbox, "hi bob"));
	/* The room is there, at its own address. */
	assert_int_equal(say(4, "carol", ROOM("bob"), "#join"), 200);
	assert_int_equal(say(4, "carol", ROOM("bob"), "for the room"), 200);
	assert_non_null(strstr(got(2), "<sip:bob@" RD "> [carol]: for the "
			       "room"));
	assert_null(strstr(got(3), "for the room"));
	/* Every address of the rooms domain is the rooms': an unknown one is
	 * 404 here, never proxied; the manager answers there too. */
	assert_int_equal(say(4, "carol", ROOM("nowhere"), "hello"), 404);
	assert_non_null(strstr(h_body(resp), "No such room: nowhere."));
	assert_int_equal(say(4, "carol", ROOM("chat"), "#rooms"), 200);
	assert_non_null(strstr(h_body(resp), "bob (2 members)"));
	/* It is no domain of users. */
	assert_string_equal(register_line(6, "erin@" RD),
			    "SIP/2.0 403 Domain not served here");
	h_restart(NULL);
	sock_of[3] = h_client(3);
	sock_of[4] = h_client(4);
	assert_int_equal(h_register(sock_of[3], 3, "bob", 600), 200);
	assert_int_equal(imc_room_count(), 1);
	assert_int_equal(relay(4, "carol", 3, "bob", "hi again"), 200);
	assert_non_null(strstr(inbox, "hi again"));
	h_run(40000);
	h_stop();
}

/* rooms_domain set to a served domain: rooms and users share it, so a
 * room may not take a registered user's name, nor a reserved one, and a
 * user who registers later still gets their messages. */
static void test_shared_domain_room_names(void **state)
{
	(void)state;
	start("config imc\n\toption rooms_domain '" D "'\n");
	assert_int_equal(say(2, "alice", "chat", "#create bob"), 403);
	assert_non_null(strstr(h_body(resp), "bob is a user of " D "; a room "
			       "may not take a user's name."));
	assert_int_equal(say(2, "alice", "chat", "#join Carol"), 403);
	assert_non_null(strstr(h_body(resp), "Carol is a user of " D));
	assert_int_equal(say(2, "alice", "chat", "#create CHAT"), 403);
	assert_non_null(strstr(h_body(resp), "The name CHAT is reserved for "
			       "chat rooms"));
#ifdef CONFIG_SIMPLED_PRESENCE
	assert_int_equal(say(2, "alice", "chat", "#create presence"), 403);
	assert_non_null(strstr(h_body(resp), "reserved for presence "
			       "commands"));
#endif
	assert_int_equal(imc_room_count(), 0);
	/* Users' messages are theirs, not the rooms'. */
	assert_int_equal(relay(2, "alice", 3, "bob", "to bob"), 200);
	assert_non_null(strstr(inbox, "to bob"));
	assert_int_equal(say(2, "alice", "chat", "#create lobby"), 200);
	assert_non_null(strstr(h_body(resp), "its address is sip:lobby@" D
			       "."));
	assert_int_equal(say(3, "bob", "lobby", "#join"), 200);
	assert_int_equal(say(3, "bob", "lobby", "in the lobby"), 200);
	assert_non_null(strstr(got(2), "[bob]: in the lobby"));
	/* erin, not registered, has her name taken by a room; once she
	 * registers, messages to her address are hers again. */
	assert_int_equal(say(2, "alice", "chat", "#create erin"), 200);
	assert_int_equal(h_register(sock_of[6], 6, "erin", 600), 200);
	assert_int_equal(relay(2, "alice", 6, "erin", "for erin"), 200);
	assert_non_null(strstr(inbox, "<sip:alice@" D "> for erin\n"));
	h_run(40000);
	h_stop();
}

/* The names the daemon answers itself are one table: no user registers
 * them (403 with the reason), in any case or escaped. */
static void test_reserved_names(void **state)
{
	(void)state;
	start(NULL);
	assert_string_equal(register_line(6, "chat"),
			    "SIP/2.0 403 Name reserved for chat rooms");
	assert_string_equal(register_line(6, "Chat"),
			    "SIP/2.0 403 Name reserved for chat rooms");
	assert_string_equal(register_line(6, "%63hat"),
			    "SIP/2.0 403 Name reserved for chat rooms");
#ifdef CONFIG_SIMPLED_PRESENCE
	assert_string_equal(register_line(6, "presence"),
			    "SIP/2.0 403 Name reserved for presence commands");
#endif
	assert_string_equal(register_line(6, "chatter"), "SIP/2.0 200 OK");
	/* Nor does a room take them, in the rooms' own domain either. */
	assert_int_equal(say(2, "alice", "chat", "#create chat"), 403);
	assert_non_null(strstr(h_body(resp), "The name chat is reserved for "
			       "chat rooms; choose another."));
	h_run(40000);
	h_stop();
}

/* A room's name from the Request-URI obeys the rules of #create, and a
 * <user> argument those of a SIP user: both go into From and To. */
static void test_names_checked(void **state)
{
	unsigned long before;
	char ruri[128];

	(void)state;
	start(NULL);
	assert_int_equal(say(2, "alice", "a%3Eb@" RD, "#create"), 400);
	assert_non_null(strstr(h_body(resp), "Bad room name in the address: "
			       "1 to 63 letters, digits, '.', '_' or '-'."));
	/* The answer comes from the manager, not from the bad name. */
	assert_non_null(strstr(inbox, "<sip:chat@" D "> Bad room name"));
	assert_int_equal(say(2, "alice", "bob%00evil@" RD, "#create"), 400);
	assert_int_equal(say(2, "alice", "bob%00evil@" RD, "hi"), 400);
	memset(ruri, 'a', 64);
	snprintf(ruri + 64, sizeof(ruri) - 64, "@%s", RD);
	assert_int_equal(say(2, "alice", ruri, "#create"), 400);
	assert_int_equal(imc_room_count(), 0);
	/* Escapes of unreserved characters are those characters. */
	assert_int_equal(say(2, "alice", "lob%62y@" RD, "#create"), 200);
	assert_non_null(strstr(h_body(resp), "Room lobby created"));
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#add a>b"), 400);
	assert_non_null(strstr(h_body(resp), "'a>b' is not a user: the user "
			       "part may hold letters, digits"));
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#add bob%00evil"),
			 400);
	assert_non_null(strstr(h_body(resp), "an escaped NUL (%00)"));
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#invite x@" RD),
			 400);
	assert_non_null(strstr(h_body(resp), "x@" RD " is a room's address, "
			       "not a user."));
	/* Nor is anything sent to one (it would come back here). */
	before = stat_value("imc_deliveries");
	assert_int_equal(say(2, "x@" RD, "chat", "#help"), 200);
	assert_int_equal(stat_value("imc_deliveries"), before);
	assert_int_equal(say(2, "alice", ROOM("lobby"), "#add sip:%62ob"), 200);
	assert_non_null(strstr(h_body(resp), "bob@" D " is now a member"));
	assert_int_equal(imc_member_count(), 2);
	h_run(40000);
	h_stop();
}

/* list extra_hdr: each line rides on every MESSAGE a room sends. */
static void test_extra_hdr(void **state)
{
	const char *m;
	int seen = 0;

	(void)state;
	start("config imc\n\tlist extra_hdr 'X-Room: yes'\n"
	      "\tlist extra_hdr 'Organization: ACME Chat'\n");
	assert_int_equal(say(2, "alice", "chat", "#create lobby"), 200);
	assert_int_equal(say(3, "bob", ROOM("lobby"), "#join"), 200);
	h_drain(sock_of[2]);
	h_request(sock_of[3], &(struct h_req){.method = "MESSAGE", .n = 3,
		.from = "bob", .to = ROOM("lobby"), .body = "with headers"});
	h_run(10);
	while ((m = h_recv(sock_of[2])) != NULL) {
		char copy[8192];

		snprintf(copy, sizeof(copy), "%s", m);
		if (strncmp(copy, "MESSAGE ", 8) ||
		    !strstr(h_body(copy), "[bob]: with headers")) {
			continue;
		}
		seen++;
		assert_string_equal(h_hdr(copy, "X-Room"), "yes");
		assert_string_equal(h_hdr(copy, "Organization"), "ACME Chat");
		assert_int_equal(h_hdr_count(copy, "Via"), 1);
		assert_int_equal(h_hdr_count(copy, "Content-Type"), 1);
		h_answer(sock_of[2], copy, 200);
	}
	assert_int_equal(seen, 1);
	h_run(40000);
	h_stop();
}

/* A long answer (#members of a room with many long names) goes out in
 * several MESSAGEs, each cut after a line, and the 200 carries the first
 * part: nothing is left out or replaced by a "too many" notice. */
static void test_long_answer_in_parts(void **state)
{
	char cmd[300], line[300], name[200];
	const char *p, *body;
	unsigned parts = 0;
	int i;

	(void)state;
	start("config imc\n\toption offline_members 0\n");
	assert_int_equal(say(2, "alice", "chat", "#create big"), 200);
	memset(name, 'x', sizeof(name));
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "m%02d-", i);
		memset(name + 4, 'x', 175);
		name[179] = '\0';
		snprintf(cmd, sizeof(cmd), "#add %s", name);
		assert_int_equal(say(2, "alice", ROOM("big"), cmd), 200);
	}
	assert_int_equal(say(2, "alice", ROOM("big"), "#members"), 200);
	body = h_body(resp);
	assert_null(strstr(inbox, "too many"));
	assert_non_null(strstr(body, "big has 51 members:\nalice@" D
			       " (owner)\n"));
	assert_true(strlen(body) < 1200);
	/* Every member is in the MESSAGEs, each line whole. */
	assert_non_null(strstr(inbox, "alice@" D " (owner)\n"));
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "m%02d-", i);
		memset(name + 4, 'x', 175);
		name[179] = '\0';
		snprintf(line, sizeof(line), "%s@" D " (member)\n", name);
		if (!strstr(inbox, line)) {
			fail_msg("member %d is missing", i);
		}
	}
	/* Each part is at most 1000 bytes and ends with a line. */
	for (p = inbox; (p = strstr(p, "<sip:big@" RD ">")) != NULL;
	     parts++) {
		const char *b = strchr(p, ' ') + 1; /* after From */
		const char *e = strstr(b, "\n<sip:");

		e = e ? e + 1 : b + strlen(b);
		assert_true(e - b <= 1001);
		assert_true(e[-1] == '\n' && e[-2] == '\n');
		p = e;
	}
	assert_true(parts >= 10);
	snprintf(line, sizeof(line), "(%u more parts of this answer come as "
		 "MESSAGEs from sip:big@" RD ")\n", parts - 1);
	assert_non_null(strstr(body, line));
	h_run(40000);
	h_stop();
}

/* Count the records of a store kind. */
static int count_rec(const char *key, const void *val, size_t vlen,
		     void *arg)
{
	(void)key;
	(void)val;
	(void)vlen;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned hist_records(void)
{
	unsigned n = 0;

	store_rec_walk(STORE_IMC_HIST, "", count_rec, &n);
	return n;
}

/* Who joins client n as user: what the room's history gave them. */
static const char *join_history(int n, const char *user)
{
	sock_of[n] = h_client(n);
	assert_int_equal(h_register(sock_of[n], n, user, 600), 200);
	assert_int_equal(say(n, user, ROOM("talk"), "#join"), 200);
	return inbox;
}

/* The history of a room is kept in LMDB, bounded by history_size, and
 * replayed after a restart; a smaller history_size keeps the newest. */
static void test_history_survives_restart(void **state)
{
	const char *in, *a, *b, *c;
	char text[32];
	int i;

	(void)state;
	start("config imc\n\toption history_size 3\n");
	assert_int_equal(say(2, "alice", "chat", "#create talk"), 200);
	assert_int_equal(say(3, "bob", ROOM("talk"), "#join"), 200);
	for (i = 1; i <= 5; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		assert_int_equal(say(3, "bob", ROOM("talk"), text), 200);
	}
	h_run(100);
	assert_int_equal(hist_records(), 3);
	h_restart("config imc\n\toption history_size 3\n");
	assert_int_equal(hist_records(), 3);
	in = join_history(4, "carol");
	a = strstr(in, "<sip:talk@" RD "> [bob]: line 3\n");
	b = strstr(in, "<sip:talk@" RD "> [bob]: line 4\n");
	c = strstr(in, "<sip:talk@" RD "> [bob]: line 5\n");
	assert_true(a && b && c && a < b && b < c);
	assert_null(strstr(in, "line 2"));
	/* A smaller history keeps the newest; it goes on from there. */
	h_restart("config imc\n\toption history_size 2\n");
	assert_int_equal(hist_records(), 2);
	in = join_history(5, "dave");
	assert_null(strstr(in, "line 3"));
	b = strstr(in, "[bob]: line 4\n");
	c = strstr(in, "[bob]: line 5\n");
	assert_true(b && c && b < c);
	sock_of[3] = h_client(3);
	assert_int_equal(h_register(sock_of[3], 3, "bob", 600), 200);
	assert_int_equal(say(3, "bob", ROOM("talk"), "line 6"), 200);
	h_restart("config imc\n\toption history_size 2\n");
	assert_int_equal(hist_records(), 2);
	in = join_history(6, "erin");
	assert_null(strstr(in, "line 4"));
	b = strstr(in, "[bob]: line 5\n");
	c = strstr(in, "[bob]: line 6\n");
	assert_true(b && c && b < c);
	/* A larger one keeps them all and fills up in order. */
	h_restart("config imc\n\toption history_size 4\n");
	sock_of[3] = h_client(3);
	assert_int_equal(h_register(sock_of[3], 3, "bob", 600), 200);
	for (i = 7; i <= 9; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		assert_int_equal(say(3, "bob", ROOM("talk"), text), 200);
	}
	h_restart("config imc\n\toption history_size 4\n");
	assert_int_equal(hist_records(), 4);
	sock_of[3] = h_client(3);
	assert_int_equal(h_register(sock_of[3], 3, "bob", 600), 200);
	assert_int_equal(say(3, "bob", ROOM("talk"), "#leave"), 200);
	assert_int_equal(say(3, "bob", ROOM("talk"), "#join"), 200);
	a = strstr(inbox, "[bob]: line 6\n");
	b = strstr(inbox, "[bob]: line 7\n");
	c = strstr(inbox, "[bob]: line 9\n");
	assert_true(a && b && c && a < b && b < c);
	assert_null(strstr(inbox, "line 5"));
	/* Off: nothing is replayed, and the records are gone. */
	h_restart("config imc\n\toption history_size 0\n");
	assert_int_equal(hist_records(), 0);
	h_restart(NULL);
	sock_of[2] = h_client(2);
	assert_int_equal(h_register(sock_of[2], 2, "alice", 600), 200);
	assert_int_equal(say(2, "alice", ROOM("talk"), "kept"), 200);
	h_run(100);
	assert_int_equal(hist_records(), 1);
	/* A destroyed room's history goes with it. */
	assert_int_equal(say(2, "alice", ROOM("talk"), "#destroy"), 200);
	h_run(100);
	assert_int_equal(hist_records(), 0);
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
	assert_int_equal(say(2, "alice", ROOM("team"), "#add erin"), 200);
	/* erin has no binding: the room's message waits in the store. */
	assert_int_equal(say(2, "alice", ROOM("team"), "standup at 10"), 200);
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
	assert_non_null(strstr(all, "<sip:team@" RD "> [stored "));
	assert_non_null(strstr(all, "] [alice]: standup at 10"));
	/* The room still fans out after the restart. */
	assert_int_equal(h_register(sock_of[2], 2, "alice", 600), 200);
	assert_int_equal(say(6, "erin", ROOM("team"), "on my way"), 200);
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
	assert_int_equal(say(2, "alice", ROOM("night"), "#add carol"), 200);
	h_drain(sock_of[4]);
	/* carol is registered but her phone is gone: no answer at all. */
	assert_int_equal(say(2, "alice", ROOM("night"), "are you there?"), 200);
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

/* erin's device (client n) with its +sip.instance; the status. */
static int erin_device(int n, int expires)
{
	static unsigned cseq;
	char contact[160], cid[32], hdrs[32];

	snprintf(contact, sizeof(contact), "<sip:erin@10.0.0.%d:5060>;"
		 "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
		 "%012d>\"", n, n);
	snprintf(cid, sizeof(cid), "erin-dev-%d", n);
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\n", expires);
	return h_status(h_request_wait(sock_of[n], &(struct h_req){
		.method = "REGISTER", .n = n, .from = "erin", .call_id = cid,
		.cseq = ++cseq, .contact = contact,
		.hdrs = hdrs}));
}

/* A member's devices each get the room's messages: the one that was off
 * from the store when it is back, once. */
static void test_member_devices(void **state)
{
	const char *all;

	(void)state;
	start(NULL);
	sock_of[7] = h_client(7);
	assert_int_equal(erin_device(6, 600), 200);
	assert_int_equal(erin_device(7, 600), 200);
	assert_int_equal(say(2, "alice", "chat", "#create pair"), 200);
	assert_int_equal(say(2, "alice", ROOM("pair"), "#add erin"), 200);
	assert_non_null(strstr(got(6), "erin"));
	assert_non_null(strstr(got(7), "erin"));
	assert_int_equal(erin_device(7, 0), 200);
	assert_int_equal(say(2, "alice", ROOM("pair"), "to both devices"), 200);
	assert_non_null(strstr(got(6), "[alice]: to both devices"));
	assert_string_equal(got(7), "");
	assert_int_equal(erin_device(7, 600), 200);
	all = got_all(7);
	assert_non_null(strstr(all, "] [alice]: to both devices"));
	assert_null(strstr(strstr(all, "to both devices") + 1,
			   "to both devices"));
	assert_string_equal(got(6), "");
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
		cmocka_unit_test(test_room_never_takes_user),
		cmocka_unit_test(test_shared_domain_room_names),
		cmocka_unit_test(test_reserved_names),
		cmocka_unit_test(test_names_checked),
		cmocka_unit_test(test_extra_hdr),
		cmocka_unit_test(test_long_answer_in_parts),
		cmocka_unit_test(test_history_survives_restart),
#ifdef CONFIG_SIMPLED_OFFLINE
		cmocka_unit_test(test_offline_member_and_restart),
		cmocka_unit_test(test_member_devices),
		cmocka_unit_test(test_unreachable_member_gets_it_later),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
