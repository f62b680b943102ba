/** @file pres_auth.c  Watcher authorization: the configured policy, the
 * allow and block lists, and each presentity's own decisions, which it
 * makes by MESSAGE to the command user (see README) and which persist in
 * LMDB.
 *
 * A rule record is "presentity\x1fwatcher" (two AoRs) -> one byte, the
 * decision (allow, block or polite-block). Any other record is not a
 * rule: at start such records are deleted, with one log line saying how
 * many, and a lookup that meets one anyway ignores it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "pres"
#include "log.h"
#include "msg.h"
#include "pres_priv.h"
#include "reg.h"
#include "store.h"

static const char *const decision_names[] = {
	"undecided", "allow", "block", "polite-block",
};

static const char *domain_of(const char *aor)
{
	const char *at = strchr(aor, '@');

	return at ? at + 1 : "";
}

/* A list entry matches a watcher as "user@domain", "sip:user@domain" or
 * "@domain" (everyone there). */
static int listed(const char (*list)[CONFIG_SIMPLED_MAX_STR], unsigned n,
		  const char *watcher)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *v = list[i];

		if (!strncasecmp(v, "sip:", 4)) {
			v += 4;
		}
		if ((v[0] == '@' && !strcasecmp(v + 1, domain_of(watcher))) ||
		    !strcasecmp(v, watcher)) {
			return 1;
		}
	}
	return 0;
}

static void rule_key(char *key, size_t size, const char *presentity,
		     const char *watcher)
{
	snprintf(key, size, "%s\x1f%s", presentity, watcher);
}

/* Is this a rule record that rule_key() and pres_auth_set() wrote? */
static int rule_ok(const char *key, const void *val, size_t vlen)
{
	const unsigned char *v = val;
	const char *sep = strchr(key, '\x1f'), *p;

	if (vlen != 1 || *v <= PRES_UNDECIDED || *v > PRES_POLITE_BLOCK ||
	    !sep || sep == key || !sep[1] || strchr(sep + 1, '\x1f')) {
		return 0;
	}
	for (p = key; *p; p++) {
		if (p != sep && ((unsigned char)*p < ' ' || *p == 0x7f)) {
			return 0;
		}
	}
	return memchr(key, '@', (size_t)(sep - key)) && strchr(sep, '@');
}

static unsigned rules_dropped;

static int rule_stale(const char *key, const void *val, size_t vlen)
{
	int bad = !rule_ok(key, val, vlen);

	rules_dropped += (unsigned)bad;
	return bad;
}

int pres_is_self(const struct sip_msg *req, const char *aor)
{
	char from[CONFIG_SIMPLED_MAX_URI_LEN];

	if (sip_open_registration()) {
		return 1;
	}
	if (req->auth_user[0]) {
		return !strcmp(req->auth_user, aor);
	}
	return req->osip->from &&
	       !reg_aor_key(req->osip->from->url, from, sizeof(from)) &&
	       !strcmp(from, aor);
}

enum pres_decision pres_auth_decide(const char *presentity,
				    const char *watcher)
{
	char key[PRES_RULE_KEY_LEN];
	unsigned char v[2] = {0};
	size_t vl = 0;
	int err;

	/* The presentity's own word first, then the lists, then policy. */
	rule_key(key, sizeof(key), presentity, watcher);
	err = store_is_open() ?
	      store_rec_get(STORE_PRES_RULE, key, v, sizeof(v), &vl) : ENOENT;
	if (!err && rule_ok(key, v, vl)) {
		return (enum pres_decision)v[0];
	}
	if (err != ENOENT) {
		LOG_WRN("rule %s for %s ignored: %s", watcher, presentity,
			err && err != EMSGSIZE ? "unreadable" : "malformed");
	}
	if (listed((const void *)pres_cfg.block, pres_cfg.n_block, watcher)) {
		return PRES_BLOCK;
	}
	if (pres_cfg.force_active || !strcmp(presentity, watcher) ||
	    listed((const void *)pres_cfg.allow, pres_cfg.n_allow, watcher)) {
		return PRES_ALLOW;
	}
	switch (pres_cfg.auth_policy) {
	case PRES_AUTH_ALLOW_ALL:
		return PRES_ALLOW;
	case PRES_AUTH_SAME_DOMAIN:
		return !strcasecmp(domain_of(presentity), domain_of(watcher)) ?
		       PRES_ALLOW : PRES_UNDECIDED;
	default:
		return PRES_UNDECIDED;
	}
}

int pres_auth_set(const char *presentity, const char *watcher,
		  enum pres_decision d)
{
	char key[PRES_RULE_KEY_LEN];
	unsigned char v = (unsigned char)d;
	int err;

	rule_key(key, sizeof(key), presentity, watcher);
	err = store_rec_put(STORE_PRES_RULE, key, &v, 1);
	if (err) {
		return err;
	}
	/* By name: a block may end the presentity's last subscription, and
	 * the presentity with it. */
	pres_sub_decide(presentity, watcher, d);
	return 0;
}

int pres_rule_set(const char *presentity, const char *watcher,
		  const char *decision, void (*h)(int err, void *arg),
		  void *arg)
{
	int d, err;

	for (d = PRES_ALLOW; d <= PRES_POLITE_BLOCK; d++) {
		if (!strcmp(decision, decision_names[d])) {
			break;
		}
	}
	if (d > PRES_POLITE_BLOCK) {
		return EINVAL;
	}
	err = pres_auth_set(presentity, watcher, (enum pres_decision)d);
	if (!err) {
		store_when_durable(h, arg);
	}
	return err;
}

/* ------------------------------------------------- MESSAGE commands */

static int is_command_uri(const osip_uri_t *u)
{
	return reg_service_uri(u, pres_cfg.command_user);
}

static void answer_text(struct sip_stx *st, int code, const char *text)
{
	/* The outcome rides in the response body, readable by any UA. */
	/* The rule is on disk before the answer says it was stored. */
	sip_reply_hold(st, code, NULL, NULL, "text/plain", text,
		       strlen(text));
	store_when_durable(sip_reply_release, st);
}

static void on_command(struct sip_stx *st, const struct sip_msg *req)
{
	char presentity[CONFIG_SIMPLED_MAX_URI_LEN], cmd[32];
	char watcher[CONFIG_SIMPLED_MAX_URI_LEN], text[300];
	struct sd_pl body = sd_pl_trim(req->body);
	const char *sp;
	size_t cl;
	int d, err;

	if (!req->osip->from ||
	    reg_aor_key(req->osip->from->url, presentity,
			sizeof(presentity))) {
		answer_text(st, 403, "Only local users can set presence rules.");
		return;
	}
	sp = memchr(body.p, ' ', body.l);
	cl = sp ? (size_t)(sp - body.p) : body.l;
	if (sd_pl_copy(sd_pl(body.p, cl), cmd, sizeof(cmd))) {
		cmd[0] = '\0';
	}
	for (d = PRES_ALLOW; d <= PRES_POLITE_BLOCK; d++) {
		if (!strcasecmp(cmd, decision_names[d])) {
			break;
		}
	}
	if (d > PRES_POLITE_BLOCK || !sp) {
		answer_text(st, 400, "Commands: allow <user@domain>, block "
			    "<user@domain>, polite-block <user@domain>");
		return;
	}
	if (sd_pl_copy(sd_pl_trim(sd_pl(sp, body.l - cl)), watcher,
		       sizeof(watcher)) || !strchr(watcher, '@')) {
		answer_text(st, 400, "Name the watcher as user@domain.");
		return;
	}
	if (!strncasecmp(watcher, "sip:", 4)) {
		memmove(watcher, watcher + 4, strlen(watcher + 4) + 1);
	}
	err = pres_auth_set(presentity, watcher, (enum pres_decision)d);
	if (err) {
		answer_text(st, 500, "Could not store the rule.");
		return;
	}
	snprintf(text, sizeof(text), "%s: %s", watcher, decision_names[d]);
	answer_text(st, 200, text);
}

/* A MESSAGE to the command user is ours. */
static const struct msg_claim command_claim = {is_command_uri, on_command};

int pres_auth_init(void)
{
	/* No user may register as the command user. */
	int err = pres_cfg.command_user[0] ?
		  reg_reserve(pres_cfg.command_user, "presence commands") : 0;

	if (err) {
		LOG_ERR("command_user '%s' cannot be reserved: %s",
			pres_cfg.command_user, err == EEXIST ?
			"another service answers it" : "table full");
		return err;
	}
	if (store_is_open()) {
		rules_dropped = 0;
		pres_store_sweep(STORE_PRES_RULE, rule_stale);
		if (rules_dropped) {
			LOG_WRN("%u authorization rule records dropped: "
				"malformed", rules_dropped);
		}
	}
	return msg_claim(&command_claim);
}
