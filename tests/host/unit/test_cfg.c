/** @file test_cfg.c  The UCI parser and the daemon's option tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"
#include "cfg.h"
#ifdef CONFIG_SIMPLED_IMC
#include "imc.h"
#endif
#include "log.h"
#include "mod.h"
#include "pool.h"
#include "reg.h"
#include "sip_auth.h"

static char err[512];

static int load(const char *text)
{
	err[0] = '\0';
	return app_configure(NULL, text, err, sizeof(err));
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	assert_int_equal(app_cfg.n_domain, 1);
	assert_string_equal(app_cfg.domain[0], "simpled.lan");
	assert_int_equal(app_cfg.n_listen, 2);
	assert_string_equal(app_cfg.listen[0], "udp:127.0.0.1:5060");
	assert_string_equal(app_cfg.listen[1], "tcp:127.0.0.1:5060");
	assert_string_equal(app_cfg.state_dir, "./simpled-state");
	assert_int_equal(reg_cfg.min_expires, 60);
	assert_int_equal(reg_cfg.default_expires, 3600);
	assert_int_equal(reg_cfg.max_expires, 0);
	assert_int_equal(reg_cfg.max_contacts, 0);
	assert_int_equal(pool_size(mod_pool("bindings")),
			 512 < CONFIG_SIMPLED_MAX_BINDINGS ? 512 :
			 CONFIG_SIMPLED_MAX_BINDINGS);
	assert_int_equal(mod_mem_budget(),
			 CONFIG_SIMPLED_MEM_BUDGET_KB * 1024u);
}

static void test_full_file(void **state)
{
	(void)state;
	assert_int_equal(load(
		"# comment line\n"
		"config simpled 'main'\n"
		"\tlist domain 'a.test'   # trailing comment\n"
		"\tlist domain \"b.test\"\n"
		"\tlist listen 'udp:[::1]:5070'\n"
		"\toption log_level debug\n"
		"\toption outbound_proxy 'sip:192.0.2.1:5080;transport=tcp'\n"
		"\n"
		"config registrar\n"
		"\toption min_expires '30'\n"
		"\toption max_contacts 5\n"
		"config limits\n"
		"\toption bindings 7\n"), 0);
	assert_int_equal(app_cfg.n_domain, 2);
	assert_string_equal(app_cfg.domain[1], "b.test");
	/* A list in the file replaces the built-in list. */
	assert_int_equal(app_cfg.n_listen, 1);
	assert_string_equal(app_cfg.listen[0], "udp:[::1]:5070");
	assert_int_equal(app_cfg.log_level, 3);
	assert_int_equal(reg_cfg.min_expires, 30);
	assert_int_equal(reg_cfg.max_contacts, 5);
	assert_int_equal(pool_size(mod_pool("bindings")), 7);
}

static void expect_error(const char *text, const char *msg)
{
	assert_int_not_equal(load(text), 0);
	if (!strstr(err, msg)) {
		fail_msg("expected '%s' in '%s'", msg, err);
	}
}

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("config simpled 'main'\n\toption colour blue\n",
		     "(text):2: unknown option 'colour' in section 'simpled'");
	expect_error("\n\nconfig registar\n",
		     "(text):3: unknown section type 'registar'");
	expect_error("config registrar\n\toption min_expires abc\n",
		     "(text):2: min_expires: 'abc' is not a number");
	expect_error("config registrar\n\toption min_expires -5\n",
		     "(text):2: min_expires: -5 is outside 0..1000000");
	expect_error("config simpled\n\toption state_dir 'unterminated\n",
		     "(text):2: unterminated ' quote");
	expect_error("config simpled\n\toption domain x.test\n",
		     "(text):2: 'domain' is a list: use 'list domain'");
	expect_error("config simpled\n\tlist state_dir x\n",
		     "(text):2: 'state_dir' is an option, not a list");
	expect_error("option foo bar\n",
		     "(text):1: 'option' before any 'config' line");
	expect_error("config simpled\n\tlist listen 'sctp:1.2.3.4:5060'\n",
		     "(text):2: listen 'sctp:1.2.3.4:5060': transport must be");
	expect_error("config simpled\n\tlist listen 'udp:host.lan:5060'\n",
		     "'host.lan' is neither an IP address nor an interface name");
	expect_error("config simpled\n\tlist listen 'udp:1.2.3.4:99999'\n",
		     "bad port");
	expect_error("config simpled\n\toption log_level loud\n",
		     "log_level: 'loud' is not one of err, warn, info, debug, "
		     "error, warning, notice");
	expect_error("config simpled\n\toption outbound_proxy 'http://x'\n",
		     "outbound_proxy 'http://x': must start with sip:");
	expect_error("config simpled\n\tlist domain 'bad domain'\n",
		     "(text):2: domain 'bad domain': only letters, digits");
	expect_error("config limits\n\toption bindings 0\n",
		     "(text):2: bindings: 0 is outside 1..");
	expect_error("config simpled\n\toption state_dir a b\n",
		     "unexpected text after the value");
	expect_error("config registrar\n\toption min_expires 100\n"
		     "\toption max_expires 50\n",
		     "max_expires (50) is below min_expires (100)");
	expect_error("frobnicate\n", "(text):1: unknown keyword 'frobnicate'");
}

/* log_level takes syslog's names too: error, warning, and notice for
 * info. The aliases belong to log_level only. */
static void test_log_level_names(void **state)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{"err", LOG_LVL_ERR},     {"error", LOG_LVL_ERR},
		{"warn", LOG_LVL_WARN},   {"warning", LOG_LVL_WARN},
		{"info", LOG_LVL_INFO},   {"notice", LOG_LVL_INFO},
		{"debug", LOG_LVL_DEBUG},
	};
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text),
			 "config simpled\n\toption log_level '%s'\n",
			 names[i].name);
		if (load(text)) {
			fail_msg("log_level %s: %s", names[i].name, err);
		}
		assert_int_equal(app_cfg.log_level, names[i].level);
	}
	expect_error("config simpled\n\toption log_level Warning\n",
		     "(text):2: log_level: 'Warning' is not one of");
	expect_error("config simpled\n\toption log_target notice\n",
		     "(text):2: log_target: 'notice' is not one of stderr, "
		     "syslog");
	assert_int_equal(load("config simpled\n\toption log_target syslog\n"),
			 0);
	assert_int_equal(app_cfg.log_target, APP_LOG_SYSLOG);
}

/* A service left out of the build: its section and its pools' `limits`
 * options are refused with the switch that would build it. */
static void test_switched_off_services(void **state)
{
	(void)state;
#ifndef CONFIG_SIMPLED_OFFLINE
	expect_error("config offline\n\toption max_tries 3\n",
		     "(text):1: section 'offline' is not built in "
		     "(CONFIG_SIMPLED_OFFLINE is off)");
	expect_error("config limits\n\toption dumps 8\n",
		     "(text):2: 'dumps' is not built in "
		     "(CONFIG_SIMPLED_OFFLINE is off)");
#else
	assert_int_equal(load("config offline\n\toption max_tries 3\n"
			      "config limits\n\toption dumps 8\n"), 0);
#endif
#ifndef CONFIG_SIMPLED_PRESENCE
	expect_error("config presence\n", "(text):1: section 'presence' is "
		     "not built in (CONFIG_SIMPLED_PRESENCE is off)");
	expect_error("config limits\n\toption subscriptions 8\n",
		     "(text):2: 'subscriptions' is not built in "
		     "(CONFIG_SIMPLED_PRESENCE is off)");
#else
	assert_int_equal(load("config presence\nconfig limits\n"
			      "\toption subscriptions 8\n"), 0);
#endif
#ifndef CONFIG_SIMPLED_IMC
	expect_error("config imc\n", "(text):1: section 'imc' is not built "
		     "in (CONFIG_SIMPLED_IMC is off)");
	expect_error("config limits\n\toption rooms 8\n",
		     "(text):2: 'rooms' is not built in "
		     "(CONFIG_SIMPLED_IMC is off)");
#else
	assert_int_equal(load("config imc\nconfig limits\n"
			      "\toption rooms 8\n"), 0);
#endif
#ifndef CONFIG_SIMPLED_STORAGE
	expect_error("config storage\n", "(text):1: section 'storage' is not "
		     "built in");
	expect_error("config limits\n\toption store_owners 8\n",
		     "(text):2: 'store_owners' is not built in");
#else
	assert_int_equal(load("config storage\n"), 0);
#endif
}

/* `config user` sections: any number up to the ceiling, each judged when
 * it ends, its error at the line of its `config`. */
static void test_user_sections(void **state)
{
	static char many[(CONFIG_SIMPLED_MAX_USERS + 1) * 64];
	char msg[64];
	const struct sip_user *u;
	size_t o = 0;
	unsigned i;

	(void)state;
	assert_int_equal(load("config user\n\toption name alice\n"
			      "\toption password secret\n"
			      "\toption domain a.test\n"
			      "config simpled 'main'\n\tlist domain a.test\n"
			      "config user\n\toption name bob\n"
			      "\toption domain b.test\n\toption ha1 "
			      "0123456789abcdef0123456789abcdef\n"), 0);
	assert_int_equal(sip_user_count(), 2);
	u = sip_user_find("alice", "a.test");
	assert_non_null(u);
	assert_string_equal(u->password, "secret");
	assert_null(sip_user_find("Alice", "a.test"));
	assert_null(sip_user_find("bob", "a.test"));
	assert_non_null(sip_user_find("bob", "B.TEST"));
	/* A file without users has none. */
	assert_int_equal(load(""), 0);
	assert_int_equal(sip_user_count(), 0);
	expect_error("config user\n\toption password x\n",
		     "(text):1: user: 'name' is missing");
	expect_error("\nconfig user\n\toption name bob\n",
		     "(text):2: user bob: no 'password', 'ha1' or "
		     "'ha1_sha256'");
	expect_error("config user\n\toption name bob\n\toption ha1 abc\n",
		     "(text):1: user bob: 'ha1' is not 32 hex digits");
	expect_error("config user\n\toption name 'b b'\n"
		     "\toption password x\n",
		     "(text):1: user: 'name' has characters");
	expect_error("config user\n\toption name bob\n\toption password x\n"
		     "\toption ha1_sha256 0123\n",
		     "(text):1: user bob: 'ha1_sha256' is not 64 hex digits");
	expect_error("config user\n\toption name bob\n\toption password x\n"
		     "config user\n\toption name bob\n\toption password y\n",
		     "(text):4: user bob: configured twice");
	for (i = 0; i <= CONFIG_SIMPLED_MAX_USERS; i++) {
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      "config user\n\toption name u%u\n"
				      "\toption password p\n", i);
	}
	snprintf(msg, sizeof(msg), ":%u: more than %d 'user' sections",
		 3 * CONFIG_SIMPLED_MAX_USERS + 1, CONFIG_SIMPLED_MAX_USERS);
	expect_error(many, msg);
}
#ifdef CONFIG_SIMPLED_IMC
/* list extra_hdr: one header line each, checked at load with the line. */
static void test_imc_extra_hdr(void **state)
{
	(void)state;
	assert_int_equal(load("config imc\n"
			      "\tlist extra_hdr 'X-Room: yes'\n"
			      "\tlist extra_hdr 'Organization:\tACME  Inc.'\n"
			      "\tlist extra_hdr \"Priority :urgent\"\n"), 0);
	assert_int_equal(imc_cfg.n_extra_hdr, 3);
	assert_string_equal(imc_cfg.extra_hdr[0], "X-Room: yes");
	assert_string_equal(imc_cfg.extra_hdr[2], "Priority :urgent");
	assert_int_equal(load(""), 0);
	assert_int_equal(imc_cfg.n_extra_hdr, 0);
	expect_error("config imc\n\tlist extra_hdr 'X-Room: yes'\n"
		     "\tlist extra_hdr 'no colon here'\n",
		     "(text):3: extra_hdr 'no colon here': not a header line "
		     "'Name: value' (the name a token)");
	expect_error("config imc\n\tlist extra_hdr ': value'\n",
		     "(text):2: extra_hdr ': value': not a header line");
	expect_error("config imc\n\tlist extra_hdr 'Bad Name: v'\n",
		     "(text):2: extra_hdr 'Bad Name: v': not a header line");
	expect_error("config imc\n\tlist extra_hdr 'X-A(b): v'\n",
		     "(text):2: extra_hdr 'X-A(b): v': not a header line");
	expect_error("config imc\n\tlist extra_hdr 'X-Empty:  '\n",
		     "(text):2: extra_hdr 'X-Empty:  ': no value");
	expect_error("config imc\n\tlist extra_hdr \"X-A: 1\\\rVia: x\"\n",
		     "(text):2: extra_hdr 'X-A': a control character (CR, "
		     "LF, ...) in the value");
	expect_error("config imc\n\tlist extra_hdr 'via: SIP/2.0/UDP x'\n",
		     "(text):2: extra_hdr 'via: SIP/2.0/UDP x': simpled writes "
		     "Via itself");
	expect_error("config imc\n\tlist extra_hdr 'Content-Type: a/b'\n",
		     "simpled writes Content-Type itself");
	expect_error("config imc\n\tlist extra_hdr 'Call-ID: x'\n",
		     "simpled writes Call-ID itself");
	expect_error("config imc\n\tlist extra_hdr 'i: x'\n",
		     "simpled writes i itself");
	expect_error("config imc\n\tlist extra_hdr 'Date: today'\n",
		     "simpled writes Date itself");
	expect_error("config imc\n\tlist extra_hdr 'Route: <sip:x>'\n",
		     "simpled writes Route itself");
	expect_error("config imc\n\toption extra_hdr 'X-A: b'\n",
		     "(text):2: 'extra_hdr' is a list: use 'list extra_hdr'");
	expect_error("config imc\n\toption extra_hdrs 'X-A: b'\n",
		     "(text):2: unknown option 'extra_hdrs' in section 'imc'");
	expect_error("config imc\n"
		     "\tlist extra_hdr 'X-1: a'\n\tlist extra_hdr 'X-2: a'\n"
		     "\tlist extra_hdr 'X-3: a'\n\tlist extra_hdr 'X-4: a'\n"
		     "\tlist extra_hdr 'X-5: a'\n\tlist extra_hdr 'X-6: a'\n"
		     "\tlist extra_hdr 'X-7: a'\n\tlist extra_hdr 'X-8: a'\n"
		     "\tlist extra_hdr 'X-9: a'\n",
		     "(text):10: extra_hdr: more than 8 entries");
	expect_error("config imc\n\toption rooms_domain 'a b'\n",
		     "(text):2: rooms_domain 'a b': only letters, digits");
}
#endif

static void test_missing_file(void **state)
{
	(void)state;
	assert_int_not_equal(app_configure("/nonexistent/simpled.conf", NULL,
					   err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/simpled.conf: cannot open"));
}

/* "section option value" lines: every option of the built sections. */
#define ALL_OPTS 256
static char opt_line[ALL_OPTS][CFG_LINE_MAX + 128];
static unsigned n_opt_lines;

/* What a build without some services refuses: their section types and
 * their `limits` options ("limits name"). */
static char off_name[32][96];
static unsigned n_off;

static void opt_lines(const struct cfg_sect *s, void *arg)
{
	size_t i;

	(void)arg;
	if (s->max) {
		return; /* repeated sections (accounts) have no defaults */
	}
	if (s->off_switch) {
		snprintf(off_name[n_off++], sizeof(off_name[0]), "%s", s->type);
		return;
	}
	for (i = 0; i < s->nopts; i++) {
		if (s->opts[i].off_switch) {
			snprintf(off_name[n_off++], sizeof(off_name[0]),
				 "%s %s", s->type, s->opts[i].name);
		}
	}
	for (i = 0; i < s->nopts; i++) {
		char v[CFG_LINE_MAX];

		if (s->opts[i].off_switch) {
			continue;
		}
		assert_true(n_opt_lines < ALL_OPTS);
		cfg_value_str(&s->opts[i], s->base, v, sizeof(v));
		snprintf(opt_line[n_opt_lines++], sizeof(opt_line[0]),
			 "%s %s %s", s->type, s->opts[i].name, v);
	}
}

/* Does the file text name option (or list) name in a section of type? A
 * list that is empty by default is named in a comment ("# list name"). */
static int file_names(const char *text, const char *type, const char *name)
{
	char sect[64] = "", word[16], n[64];
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');

		const char *l = p + strspn(p, " \t");

		if (!strncmp(l, "# list ", 7)) {
			l += 2;
		}
		if (sscanf(l, "config %63s", sect) == 1) {
			/* the type, as the file writes it */
		} else if (sscanf(l, "%15s %63s", word, n) == 2 &&
			   (!strcmp(word, "option") || !strcmp(word, "list")) &&
			   !strcmp(sect, type) && !strcmp(n, name)) {
			return 1;
		}
		if (!nl) {
			break;
		}
		p = nl + 1;
	}
	return 0;
}

static int is_off(const char *name)
{
	unsigned i;

	for (i = 0; i < n_off; i++) {
		if (!strcmp(off_name[i], name)) {
			return 1;
		}
	}
	return 0;
}

/* text without the sections and `limits` options this build refuses (a
 * build of the host board with services switched off). */
static void drop_off(char *text)
{
	char sect[64] = "", word[16], n[64], key[160], *p = text, *out = text;
	int skip_sect = 0;

	while (*p) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		int keep = 1;

		if (sscanf(p, "config %63s", sect) == 1) {
			skip_sect = is_off(sect);
		} else if (sscanf(p, " %15s %63s", word, n) == 2 &&
			   !strcmp(word, "option")) {
			snprintf(key, sizeof(key), "%s %s", sect, n);
			keep = !is_off(key);
		}
		if (keep && !skip_sect) {
			memmove(out, p, len);
			out += len;
		}
		p += len;
	}
	*out = '\0';
}

/* The file shipped for the host board names every option of every
 * section built in, each with its built-in default (a build that leaves
 * services out refuses their parts of it, which are left out here). */
static void test_shipped_file_matches_defaults(void **state)
{
	static char text[32768], dflt[ALL_OPTS][CFG_LINE_MAX + 128];
	char path[1024];
	unsigned i, n, missing = 0;
	FILE *f;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/board/%s/simpled.conf",
		 getenv("SIMPLED_SRC"), getenv("SIMPLED_BOARD"));
	f = fopen(path, "r");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	assert_int_equal(load(""), 0);
	n_opt_lines = n_off = 0;
	mod_sects_walk(opt_lines, NULL);
	n = n_opt_lines;
	assert_true(n > 10);
	drop_off(text);
	memcpy(dflt, opt_line, sizeof(dflt));
	for (i = 0; i < n; i++) {
		char type[64], name[64];

		assert_int_equal(sscanf(dflt[i], "%63s %63s", type, name), 2);
		if (!file_names(text, type, name)) {
			print_error("%s does not name %s.%s (default: %s)\n",
				    path, type, name,
				    dflt[i] + strlen(type) + strlen(name) + 2);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
	if (app_configure(NULL, text, err, sizeof(err))) {
		fail_msg("%s: %s", path, err);
	}
	n_opt_lines = n_off = 0;
	mod_sects_walk(opt_lines, NULL);
	assert_int_equal(n_opt_lines, n);
	for (i = 0; i < n; i++) {
		assert_string_equal(opt_line[i], dflt[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_log_level_names),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_user_sections),
		cmocka_unit_test(test_switched_off_services),
		cmocka_unit_test(test_shipped_file_matches_defaults),
#ifdef CONFIG_SIMPLED_IMC
		cmocka_unit_test(test_imc_extra_hdr),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
