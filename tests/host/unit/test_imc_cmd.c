/** @file test_imc_cmd.c  #command parsing and role rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "imc.h"

static int parse(const char *s, struct imc_cmd *c, const char **why)
{
	return imc_cmd_parse(s, strlen(s), c, why);
}

static void test_each_command_and_aliases(void **state)
{
	static const struct {
		const char *text;
		enum imc_cmd_kind kind;
		const char *user, *room;
		int priv;
	} ok[] = {
		{"create", IMC_CREATE, "", "", 0},
		{"create lobby", IMC_CREATE, "", "lobby", 0},
		{"CREATE lobby private", IMC_CREATE, "", "lobby", 1},
		{"create private", IMC_CREATE, "", "", 1},
		{"join", IMC_JOIN, "", "", 0},
		{"join r-1.x_y", IMC_JOIN, "", "r-1.x_y", 0},
		{"invite bob", IMC_INVITE, "bob", "", 0},
		{"invite sip:bob@x.test lobby", IMC_INVITE, "sip:bob@x.test",
		 "lobby", 0},
		{"add bob@x.test", IMC_ADD, "bob@x.test", "", 0},
		{"accept lobby", IMC_ACCEPT, "", "lobby", 0},
		{"reject", IMC_REJECT, "", "", 0},
		{"deny lobby", IMC_REJECT, "", "lobby", 0},
		{"remove bob", IMC_REMOVE, "bob", "", 0},
		{"leave", IMC_LEAVE, "", "", 0},
		{"Exit lobby", IMC_LEAVE, "", "lobby", 0},
		{"destroy lobby", IMC_DESTROY, "", "lobby", 0},
		{"members", IMC_MEMBERS, "", "", 0},
		{"list lobby", IMC_MEMBERS, "", "lobby", 0},
		{"rooms", IMC_ROOMS, "", "", 0},
		{"help", IMC_HELP, "", "", 0},
		{"  \t join \r\n  lobby \n", IMC_JOIN, "", "lobby", 0},
	};
	struct imc_cmd c;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i].text, &c, &why)) {
			fail_msg("'%s': %s", ok[i].text, why);
		}
		assert_int_equal(c.kind, ok[i].kind);
		assert_string_equal(c.user, ok[i].user);
		assert_string_equal(c.room, ok[i].room);
		assert_int_equal(c.private_room, ok[i].priv);
	}
	assert_int_equal(parse("modify bob admin lobby", &c, &why), 0);
	assert_int_equal(c.kind, IMC_MODIFY);
	assert_int_equal(c.role, IMC_ADMIN);
	assert_string_equal(c.room, "lobby");
	assert_int_equal(parse("modify bob OWNER", &c, &why), 0);
	assert_int_equal(c.role, IMC_OWNER);
}

static void test_bad_arguments(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"", "empty command (try #help)"},
		{"   ", "empty command (try #help)"},
		{"dance", "unknown command (try #help)"},
		{"invite", "this command needs a user"},
		{"modify bob", "modify needs a role: owner, admin or member"},
		{"modify bob king", "unknown role: use owner, admin or member"},
		{"rooms now", "too many arguments"},
		{"join a b", "too many arguments"},
		{"join a b c d e", "too many arguments"},
		{"join bad/name", "bad room name: 1 to 63 letters, digits, '.', "
		 "'_' or '-'"},
		{"create a private b", "too many arguments"},
	};
	struct imc_cmd c;
	const char *why;
	char longname[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].text, &c, &why), EINVAL);
		assert_string_equal(why, bad[i].why);
	}
	/* Long inputs are refused, not cut. */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "join ", 5);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(parse(longname, &c, &why), EINVAL);
	assert_non_null(strstr(why, "bad room name"));
	{
		char user[400];

		memset(user, 'u', sizeof(user));
		memcpy(user, "add ", 4);
		user[sizeof(user) - 1] = '\0';
		assert_int_equal(parse(user, &c, &why), EINVAL);
		assert_string_equal(why, "user name too long");
	}
}

static void test_roles(void **state)
{
	(void)state;
	/* Outsiders: create, join, rooms, help. */
	assert_true(imc_cmd_allowed(IMC_NONE, IMC_JOIN));
	assert_true(imc_cmd_allowed(IMC_NONE, IMC_ROOMS));
	assert_false(imc_cmd_allowed(IMC_NONE, IMC_MEMBERS));
	assert_false(imc_cmd_allowed(IMC_NONE, IMC_LEAVE));
	/* Invited: accept, reject. */
	assert_true(imc_cmd_allowed(IMC_INVITED, IMC_ACCEPT));
	assert_true(imc_cmd_allowed(IMC_INVITED, IMC_REJECT));
	assert_false(imc_cmd_allowed(IMC_INVITED, IMC_MEMBERS));
	/* Member: leave, members. */
	assert_true(imc_cmd_allowed(IMC_MEMBER, IMC_LEAVE));
	assert_true(imc_cmd_allowed(IMC_MEMBER, IMC_MEMBERS));
	assert_false(imc_cmd_allowed(IMC_MEMBER, IMC_INVITE));
	assert_false(imc_cmd_allowed(IMC_MEMBER, IMC_ACCEPT));
	/* Admin: invite, add, remove, modify; not destroy. */
	assert_true(imc_cmd_allowed(IMC_ADMIN, IMC_INVITE));
	assert_true(imc_cmd_allowed(IMC_ADMIN, IMC_ADD));
	assert_true(imc_cmd_allowed(IMC_ADMIN, IMC_REMOVE));
	assert_true(imc_cmd_allowed(IMC_ADMIN, IMC_MODIFY));
	assert_false(imc_cmd_allowed(IMC_ADMIN, IMC_DESTROY));
	/* Owner: everything but what only the invited do. */
	assert_true(imc_cmd_allowed(IMC_OWNER, IMC_DESTROY));
	assert_true(imc_cmd_allowed(IMC_OWNER, IMC_MODIFY));
	assert_false(imc_cmd_allowed(IMC_OWNER, IMC_ACCEPT));
	assert_true(imc_room_name_ok("a"));
	assert_false(imc_room_name_ok(""));
	assert_false(imc_room_name_ok("a b"));
	/* Names from a Request-URI are checked so too (as they compare:
	 * an escaped NUL stays "%00"). */
	assert_false(imc_room_name_ok("a>b"));
	assert_false(imc_room_name_ok("bob%00evil"));
}

/* A NUL would end a name early: "#add bob<NUL>evil" must not add bob,
 * "#create lob<NUL>by" must not create lob. */
static void test_nul_in_command(void **state)
{
	static const char add[] = "add bob\0evil", create[] = "create lob\0by";
	struct imc_cmd c;
	const char *why;

	(void)state;
	assert_int_equal(imc_cmd_parse(add, sizeof(add) - 1, &c, &why),
			 EINVAL);
	assert_string_equal(why, "a NUL byte in the command");
	assert_int_equal(imc_cmd_parse(create, sizeof(create) - 1, &c, &why),
			 EINVAL);
	assert_string_equal(why, "a NUL byte in the command");
}

/* <user> arguments become user@domain, or are refused with the reason:
 * they go into the From and To of what the room sends. */
static void test_user_arguments(void **state)
{
	static const struct {
		const char *arg, *out;
	} ok[] = {
		{"bob", "bob@example.test"},
		{"sip:bob@Other.TEST", "bob@other.test"},
		{"SIP:%61lice@x.test", "alice@x.test"},
		{"b.o_b-1!~*'()&=+$,;?/@x.test", "b.o_b-1!~*'()&=+$,;?/@x.test"},
		{"a%3eb", "a%3Eb@example.test"},
		{"bob@10.0.0.1", "bob@10.0.0.1"},
		{"bob@[2001:DB8::1]", "bob@[2001:db8::1]"},
	};
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{"a>b", "the user part may hold letters, digits"},
		{"a<b@x.test", "the user part may hold letters, digits"},
		{"a\"b", "the user part may hold letters, digits"},
		{"bob%00evil", "an escaped NUL (%00) in the user part"},
		{"bob%0", "is not an escape"},
		{"@x.test", "no user part"},
		{"sip:", "no user part"},
		{"bob@x.test:5060", "the domain may hold"},
		{"bob@x>y", "the domain may hold"},
		{"bob@", "the domain may hold"},
		{"bob@a@b", "the domain may hold"},
		{"bob@[::1", "the domain may hold"},
	};
	char out[256], longarg[400];
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (imc_user_norm(ok[i].arg, "Example.Test", out, sizeof(out),
				  &why)) {
			fail_msg("'%s': %s", ok[i].arg, why);
		}
		assert_string_equal(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(imc_user_norm(bad[i].arg, "example.test", out,
					       sizeof(out), &why), EINVAL);
		if (!strstr(why, bad[i].why)) {
			fail_msg("'%s': '%s', not '%s'", bad[i].arg, why,
				 bad[i].why);
		}
	}
	memset(longarg, 'u', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	assert_int_equal(imc_user_norm(longarg, "x.test", out, sizeof(out),
				       &why), EINVAL);
	assert_string_equal(why, "too long");
	assert_int_equal(imc_user_norm("bob", "x.test", out, 10, &why), EINVAL);
	assert_string_equal(why, "too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_command_and_aliases),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_nul_in_command),
		cmocka_unit_test(test_user_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
