/** @file sip_user.c  Accounts: the `config user` sections. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "mod.h"
#include "sip.h"
#include "sip_auth.h"

static struct sip_user users[CONFIG_SIMPLED_MAX_USERS];
static unsigned n_users;

#define U struct sip_user
static const struct cfg_opt user_opts[] = {
	CFG_STR_OPT(U, "name", name, "", NULL),
	CFG_STR_OPT(U, "domain", domain, "", NULL),
	CFG_STR_OPT(U, "display", display, "", NULL),
	CFG_STR_OPT(U, "password", password, "", NULL),
	CFG_STR_OPT(U, "ha1", ha1, "", NULL),
	CFG_STR_OPT(U, "ha1_sha256", ha1_sha256, "", NULL),
};
#undef U

static int is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdefABCDEF") == len;
}

/* A user part that needs no escaping (RFC 3261 25.1 unreserved). */
int sip_user_name_ok(const char *s)
{
	/* Not ': a name is written between single quotes in the file. */
	return s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				 "-_.!~*()&=+$,;?/") == strlen(s);
}

/* Judge a section once it ends (cfg.h). */
static int user_check(const void *inst, char *why, size_t whylen)
{
	const struct sip_user *u = inst;
	unsigned i;

	if (!sip_user_name_ok(u->name)) {
		snprintf(why, whylen, "user: 'name' %s", u->name[0] ?
			 "has characters a SIP user part cannot hold" :
			 "is missing");
		return EINVAL;
	}
	if (u->ha1[0] && !is_hex(u->ha1, 32)) {
		snprintf(why, whylen, "user %s: 'ha1' is not 32 hex digits "
			 "(simpled passwd prints it)", u->name);
		return EINVAL;
	}
	if (u->ha1_sha256[0] && !is_hex(u->ha1_sha256, 64)) {
		snprintf(why, whylen, "user %s: 'ha1_sha256' is not 64 hex "
			 "digits (simpled passwd prints it)", u->name);
		return EINVAL;
	}
	if (!u->password[0] && !u->ha1[0] && !u->ha1_sha256[0]) {
		snprintf(why, whylen, "user %s: no 'password', 'ha1' or "
			 "'ha1_sha256'", u->name);
		return EINVAL;
	}
	if (u->password[0] && (u->ha1[0] || u->ha1_sha256[0])) {
		snprintf(why, whylen, "user %s: 'password' and a hash both "
			 "given; keep one", u->name);
		return EINVAL;
	}
	for (i = 0; &users[i] != u; i++) {
		if (!strcmp(users[i].name, u->name) &&
		    !strcasecmp(users[i].domain, u->domain)) {
			snprintf(why, whylen, "user %s%s%s: configured twice",
				 u->name, u->domain[0] ? "@" : "", u->domain);
			return EINVAL;
		}
	}
	return 0;
}

static const struct cfg_sect user_sect = {
	.type = "user", .opts = user_opts,
	.nopts = sizeof(user_opts) / sizeof(user_opts[0]), .base = users,
	.max = CONFIG_SIMPLED_MAX_USERS, .stride = sizeof(users[0]),
	.count = &n_users, .check = user_check,
};

const struct mod sip_users_mod = {"users", NULL, NULL, &user_sect, NULL,
				  NULL, NULL, NULL, NULL};

const struct sip_user *sip_user_find(const char *name, const char *domain)
{
	const char *first = sip_cfg_domain();
	unsigned i;

	for (i = 0; i < n_users; i++) {
		const char *d = users[i].domain[0] ? users[i].domain : first;

		if (!strcmp(users[i].name, name) && !strcasecmp(d, domain)) {
			return &users[i];
		}
	}
	return NULL;
}

int sip_user_exists(const char *aor)
{
	const char *at = strchr(aor, '@');
	char name[sizeof(users[0].name)];

	if (sip_open_registration()) {
		return 1;
	}
	if (!at || (size_t)(at - aor) >= sizeof(name)) {
		return 0;
	}
	memcpy(name, aor, (size_t)(at - aor));
	name[at - aor] = '\0';
	return sip_user_find(name, at + 1) != NULL;
}

unsigned sip_user_count(void)
{
	return n_users;
}
