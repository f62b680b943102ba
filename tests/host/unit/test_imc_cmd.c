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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_command_and_aliases),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
