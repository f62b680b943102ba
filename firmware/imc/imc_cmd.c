/** @file imc_cmd.c  Parsing #commands and the role rules: pure functions,
 * unit-tested without a daemon. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "imc.h"
#include "sip.h"

static const char *const cmd_names[IMC__COUNT] = {
#define IMC_CMD(id, name) name,
#include "imc_cmds.def"
#undef IMC_CMD
};

static const struct {
	const char *alias;
	enum imc_cmd_kind kind;
} aliases[] = {
	{"deny", IMC_REJECT},
	{"exit", IMC_LEAVE},
	{"list", IMC_MEMBERS},
};

static const char *const role_names[] = {
	"none", "invited", "member", "admin", "owner",
};

const char *imc_cmd_name(enum imc_cmd_kind kind)
{
	return kind < IMC__COUNT ? cmd_names[kind] : "?";
}

const char *imc_role_name(enum imc_role role)
{
	return role <= IMC_OWNER ? role_names[role] : "?";
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int imc_room_name_ok(const char *name)
{
	size_t i, l = strlen(name);

	if (!l || l >= IMC_NAME_MAX) {
		return 0;
	}
	for (i = 0; i < l; i++) {
		char c = name[i];

		if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
			return 0;
		}
	}
	return 1;
}

/* A user part as sip_uri_canon() writes it: RFC 3261 user characters
 * and escapes, but no escaped NUL. */
static int user_part_ok(const char *u, const char **why)
{
	for (; *u; u++) {
		if (*u == '%') {
			if (!is_hex(u[1]) || !is_hex(u[2])) {
				*why = "a '%' in the user part is not an "
				       "escape (%XX)";
				return 0;
			}
			if (u[1] == '0' && u[2] == '0') {
				*why = "an escaped NUL (%00) in the user part";
				return 0;
			}
			u += 2;
		} else if (!is_alnum(*u) && !strchr("-_.!~*'()&=+$,;?/", *u)) {
			*why = "the user part may hold letters, digits, "
			       "-_.!~*'()&=+$,;?/ and %XX escapes only";
			return 0;
		}
	}
	return 1;
}

/* A host name or an IP literal, without a port. */
static int domain_ok(const char *d, size_t l)
{
	size_t i;

	if (!l) {
		return 0;
	}
	if (d[0] == '[') {
		if (l < 3 || d[l - 1] != ']') {
			return 0;
		}
		for (i = 1; i + 1 < l; i++) {
			if (!is_hex(d[i]) && d[i] != ':' && d[i] != '.') {
				return 0;
			}
		}
		return 1;
	}
	for (i = 0; i < l; i++) {
		if (!is_alnum(d[i]) && d[i] != '-' && d[i] != '.') {
			return 0;
		}
	}
	return 1;
}

int imc_user_norm(const char *arg, const char *dflt_domain, char *out,
		  size_t size, const char **why)
{
	char raw[CONFIG_SIMPLED_MAX_URI_LEN], user[CONFIG_SIMPLED_MAX_URI_LEN];
	const char *at, *dom;
	size_t ul, dl, i;

	*why = NULL;
	if (!strncasecmp(arg, "sip:", 4)) {
		arg += 4;
	}
	at = strchr(arg, '@');
	ul = at ? (size_t)(at - arg) : strlen(arg);
	dom = at ? at + 1 : dflt_domain;
	dl = strlen(dom);
	if (!ul) {
		*why = "no user part";
		return EINVAL;
	}
	if (ul >= sizeof(raw) || ul + dl + 2 > size) {
		*why = "too long";
		return EINVAL;
	}
	memcpy(raw, arg, ul);
	raw[ul] = '\0';
	if (sip_uri_canon(raw, user, sizeof(user))) {
		*why = "too long";
		return EINVAL;
	}
	if (!user_part_ok(user, why)) {
		return EINVAL;
	}
	if (!domain_ok(dom, dl)) {
		*why = "the domain may hold letters, digits, '-' and '.' "
		       "(or be an IP address) only";
		return EINVAL;
	}
	ul = strlen(user);
	if (ul + dl + 2 > size) {
		*why = "too long";
		return EINVAL;
	}
	memcpy(out, user, ul);
	out[ul] = '@';
	for (i = 0; i <= dl; i++) {
		char c = dom[i];

		out[ul + 1 + i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return 0;
}

/* Who may do what. Outsiders may only create, join, list rooms, ask. */
int imc_cmd_allowed(enum imc_role role, enum imc_cmd_kind kind)
{
	switch (kind) {
	case IMC_CREATE:
	case IMC_JOIN:
	case IMC_ROOMS:
	case IMC_HELP:
		return 1;
	case IMC_ACCEPT:
	case IMC_REJECT:
		return role == IMC_INVITED;
	case IMC_LEAVE:
	case IMC_MEMBERS:
		return role >= IMC_MEMBER;
	case IMC_INVITE:
	case IMC_ADD:
	case IMC_REMOVE:
	case IMC_MODIFY:
		return role >= IMC_ADMIN;
	case IMC_DESTROY:
		return role == IMC_OWNER;
	default:
		return 0;
	}
}

#define MAX_TOKENS 4

/* Split on blanks; @return the token count or -1 when too many. */
static int tokens(const char *p, size_t len, const char **tok, size_t *tl)
{
	const char *end = p + len;
	int n = 0;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
				   *p == '\n')) {
			p++;
		}
		if (p >= end) {
			return n;
		}
		if (n == MAX_TOKENS) {
			return -1;
		}
		tok[n] = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r' &&
		       *p != '\n') {
			p++;
		}
		tl[n] = (size_t)(p - tok[n]);
		n++;
	}
}

static int copy(char *dst, size_t size, const char *s, size_t l)
{
	if (l >= size) {
		return EINVAL;
	}
	memcpy(dst, s, l);
	dst[l] = '\0';
	return 0;
}

static int is_word(const char *t, size_t l, const char *w)
{
	return strlen(w) == l && !strncasecmp(t, w, l);
}

int imc_cmd_parse(const char *text, size_t len, struct imc_cmd *c,
		  const char **why)
{
	const char *tok[MAX_TOKENS];
	size_t tl[MAX_TOKENS];
	int n = tokens(text, len, tok, tl), i, next = 1;
	int need_user = 0, need_role = 0, max_args;

	memset(c, 0, sizeof(*c));
	*why = NULL;
	/* A NUL would end a name early: "#add bob\0x" is not bob. */
	if (memchr(text, '\0', len)) {
		*why = "a NUL byte in the command";
		return EINVAL;
	}
	if (n < 0) {
		*why = "too many arguments";
		return EINVAL;
	}
	if (n == 0) {
		*why = "empty command (try #help)";
		return EINVAL;
	}
	for (i = 0; i < IMC__COUNT; i++) {
		if (is_word(tok[0], tl[0], cmd_names[i])) {
			break;
		}
	}
	if (i == IMC__COUNT) {
		size_t a;

		for (a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
			if (is_word(tok[0], tl[0], aliases[a].alias)) {
				i = (int)aliases[a].kind;
				break;
			}
		}
	}
	if (i == IMC__COUNT) {
		*why = "unknown command (try #help)";
		return EINVAL;
	}
	c->kind = (enum imc_cmd_kind)i;
	switch (c->kind) {
	case IMC_INVITE:
	case IMC_ADD:
	case IMC_REMOVE:
		need_user = 1;
		max_args = 2;
		break;
	case IMC_MODIFY:
		need_user = 1;
		need_role = 1;
		max_args = 3;
		break;
	case IMC_ROOMS:
	case IMC_HELP:
		max_args = 0;
		break;
	case IMC_CREATE:
		max_args = 2;
		break;
	default:
		max_args = 1;
		break;
	}
	if (n - 1 > max_args) {
		*why = "too many arguments";
		return EINVAL;
	}
	if (need_user) {
		if (n <= next) {
			*why = "this command needs a user";
			return EINVAL;
		}
		if (copy(c->user, sizeof(c->user), tok[next], tl[next])) {
			*why = "user name too long";
			return EINVAL;
		}
		next++;
	}
	if (need_role) {
		if (n <= next) {
			*why = "modify needs a role: owner, admin or member";
			return EINVAL;
		}
		if (is_word(tok[next], tl[next], "owner")) {
			c->role = IMC_OWNER;
		} else if (is_word(tok[next], tl[next], "admin")) {
			c->role = IMC_ADMIN;
		} else if (is_word(tok[next], tl[next], "member")) {
			c->role = IMC_MEMBER;
		} else {
			*why = "unknown role: use owner, admin or member";
			return EINVAL;
		}
		next++;
	}
	for (; next < n; next++) {
		if (c->kind == IMC_CREATE &&
		    is_word(tok[next], tl[next], "private")) {
			c->private_room = 1;
			continue;
		}
		if (c->room[0]) {
			*why = "too many arguments";
			return EINVAL;
		}
		if (copy(c->room, sizeof(c->room), tok[next], tl[next]) ||
		    !imc_room_name_ok(c->room)) {
			*why = "bad room name: 1 to 63 letters, digits, '.', "
			       "'_' or '-'";
			return EINVAL;
		}
	}
	return 0;
}
