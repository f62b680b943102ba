/** @file app.c  Configuration tables and module start/stop order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define LOG_MODULE "simpled"
#include "app.h"
#include "cfg.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "mod.h"
#include "sd.h"
#include "msg.h"
#include "reg.h"
#include "sip.h"
#include "sip_auth.h"
#include "tmr.h"
#include "wall.h"
#ifdef CONFIG_SIMPLED_STORAGE
#include "store.h"
#endif
#ifdef CONFIG_SIMPLED_OFFLINE
#include "offline.h"
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
#include "pres.h"
#endif
#ifdef CONFIG_SIMPLED_IMC
#include "imc.h"
#endif
#ifdef CONFIG_SIMPLED_CTL
#include "ctl.h"
#include "pua.h"
#endif

struct app_cfg app_cfg;
static struct sip_cfg sip_view;
static struct port_addr dns[DNS_MAX_SERVERS];

/* The name servers: `list resolver`, else those of /etc/resolv.conf
 * (read when the daemon starts: a router's changes as its WAN comes up
 * are seen at the next start). */
static unsigned dns_servers(struct port_addr *out, unsigned max)
{
	static char text[4096];
	unsigned i, n = 0;
	size_t len;
	FILE *f;

	for (i = 0; i < app_cfg.n_resolver && n < max; i++) {
		n += !sd_addr_parse(&out[n], app_cfg.resolver[i], 53);
	}
	if (n) {
		return n;
	}
	f = fopen("/etc/resolv.conf", "r");
	if (!f) {
		return 0;
	}
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	return dns_parse_resolv_conf(text, out, max);
}

static const char *const log_levels[] = {"err", "warn", "info", "debug",
					 NULL};
/* syslog's names for the same levels; notice is logged as info. */
static const struct cfg_alias log_level_aliases[] = {
	{"error", LOG_LVL_ERR},
	{"warning", LOG_LVL_WARN},
	{"notice", LOG_LVL_INFO},
	{NULL, 0},
};
static const char *const log_targets[] = {"stderr", "syslog", NULL};

static int check_domain(const char *v, char *why, size_t whylen)
{
	size_t i;

	if (!*v) {
		snprintf(why, whylen, "domain: empty");
		return EINVAL;
	}
	for (i = 0; v[i]; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.')) {
			snprintf(why, whylen, "domain '%s': only letters, "
				 "digits, '-' and '.'", v);
			return EINVAL;
		}
	}
	return 0;
}

static int check_ip(const char *v, char *why, size_t whylen)
{
	struct port_addr a;

	if (sd_addr_parse(&a, v, 53)) {
		snprintf(why, whylen, "resolver '%s': not an IP address", v);
		return EINVAL;
	}
	return 0;
}

#define A struct app_cfg

static const struct cfg_opt main_opts[] = {
	CFG_LIST_OPT(A, "domain", domain, n_domain, "simpled.lan",
		     check_domain),
	CFG_LIST_OPT(A, "listen", listen, n_listen,
		     "udp:127.0.0.1:5060 tcp:127.0.0.1:5060", sip_listen_check),
	CFG_STR_OPT(A, "state_dir", state_dir, "./simpled-state", NULL),
	CFG_ENUM_ALIAS_OPT(A, "log_level", log_level, "info", log_levels,
			   log_level_aliases),
	CFG_ENUM_OPT(A, "log_target", log_target, "stderr", log_targets),
	CFG_STR_OPT(A, "outbound_proxy", outbound_proxy, "",
		    sip_outbound_proxy_check),
	CFG_BOOL_OPT(A, "open_registration", open_registration, "0"),
	CFG_BOOL_OPT(A, "resolve_contacts", resolve_contacts, "1"),
	CFG_INT_OPT(A, "udp_rcvbuf_kb", udp_rcvbuf_kb, 0, 1048576, "2048"),
	CFG_LIST_OPT(A, "resolver", resolver, n_resolver, "", check_ip),
};
#undef A


/* Read once, at start: sockets, the state directory, where logs and
 * names go. */
static const char *const main_restart[] = {
	"listen", "state_dir", "log_target", "resolver", "outbound_proxy",
	"resolve_contacts", "udp_rcvbuf_kb", NULL};

static const struct cfg_sect main_sect =
	CFG_SECT("simpled", main_opts, &app_cfg, .restart = main_restart);

/* The file app_configure() read ("" for text or defaults). */
static char cfg_path[512];

struct restart_note {
	char *buf;
	size_t size, len;
};

static void restart_needed(const char *sect, const char *opt, void *arg)
{
	struct restart_note *r = arg;
	int n;

	LOG_WRN("reload: %s.%s changed: it takes a restart (the running "
		"value is kept)", sect, opt);
	n = snprintf(r->buf + r->len, r->size - r->len, "%s%s.%s",
		     r->len ? " " : "", sect, opt);
	if (n > 0 && r->len + (size_t)n < r->size) {
		r->len += (size_t)n;
	}
}

static int log_boost;

void app_log_boost(int n)
{
	log_boost = n;
	app_cfg.log_level += n;
	if (app_cfg.log_level > LOG_LVL_DEBUG) {
		app_cfg.log_level = LOG_LVL_DEBUG;
	}
}

int app_reload(char *restart, size_t rsize, char *err, size_t errlen)
{
	struct restart_note r = {restart, rsize, 0};
	int rc;

	restart[0] = '\0';
	if (!cfg_path[0]) {
		snprintf(err, errlen, "started without -c FILE: nothing to "
			 "read again");
		return ENOENT;
	}
	rc = mod_reload(cfg_path, err, errlen, restart_needed, &r);
	if (rc) {
		LOG_ERR("reload refused, nothing changed: %s", err);
		return rc;
	}
	/* What app/ copied at start. */
	app_log_boost(log_boost);
	log_set_level(app_cfg.log_level);
	sip_view.n_domain = app_cfg.n_domain;
	sip_view.open_registration = app_cfg.open_registration;
	LOG_INF("reloaded %s%s%s", cfg_path, restart[0] ?
		"; a restart is needed for: " : "", restart);
	return 0;
}

int app_ctl(const char *socket, int argc, char **argv, int pretty)
{
#ifdef CONFIG_SIMPLED_CTL
	char path[CONFIG_SIMPLED_MAX_STR + 16];

	if (!socket) {
		ctl_socket_path(app_cfg.state_dir, path, sizeof(path));
		socket = path;
	}
	return ctl_client(socket, argc, argv, pretty);
#else
	(void)socket;
	(void)argc;
	(void)argv;
	(void)pretty;
	fprintf(stderr, "simpled ctl: this build has no control socket "
		"(CONFIG_SIMPLED_CTL)\n");
	return 2;
#endif
}

const char *app_features(void)
{
	return " registrar message"
#ifdef CONFIG_SIMPLED_OFFLINE
	       " offline"
#endif
#ifdef CONFIG_SIMPLED_PRESENCE
	       " presence"
#endif
#ifdef CONFIG_SIMPLED_IMC
	       " imc"
#endif
#ifdef CONFIG_SIMPLED_TLS
	       " tls"
#endif
#ifdef CONFIG_SIMPLED_CTL
	       " ctl"
#endif
	       ;
}

static int app_mod_start(void);
static const struct mod app_mod = {"simpled", NULL, NULL, &main_sect,
				   app_mod_start, NULL, NULL, NULL, NULL};

/* Services switched off in Kconfig: their section and `limits` options
 * are refused with the switch to turn on. The pool names come from the
 * module's own table (its .def file, read here for the names only), so
 * they cannot drift from what the module declares when it is built. */
#define POOL(var, name, ceiling, dflt) name,
#define STAT(var, name)
#define STAT_AT(lvalue, name)
#ifndef CONFIG_SIMPLED_OFFLINE
static const char *const offline_off_pools[] = {
#include "../offline/offline.def"
	NULL};
MOD_ABSENT(offline_absent, "offline", "CONFIG_SIMPLED_OFFLINE", "offline",
	   offline_off_pools);
#endif
#ifndef CONFIG_SIMPLED_PRESENCE
static const char *const pres_off_pools[] = {
#include "../presence/pres.def"
	NULL};
MOD_ABSENT(pres_absent, "presence", "CONFIG_SIMPLED_PRESENCE", "presence",
	   pres_off_pools);
#endif
#ifndef CONFIG_SIMPLED_IMC
static const char *const imc_off_pools[] = {
#include "../imc/imc.def"
	NULL};
MOD_ABSENT(imc_absent, "imc", "CONFIG_SIMPLED_IMC", "imc", imc_off_pools);
#endif
#ifndef CONFIG_SIMPLED_TLS
static const char *const tls_off_pools[] = {NULL};
MOD_ABSENT(tls_absent, "tls", "CONFIG_SIMPLED_TLS", "tls", tls_off_pools);
#endif
#ifndef CONFIG_SIMPLED_CTL
static const char *const ctl_off_pools[] = {NULL};
MOD_ABSENT(ctl_absent, "ctl", "CONFIG_SIMPLED_CTL", "ctl", ctl_off_pools);
static const char *const pua_off_pools[] = {
#include "../pua/pua.def"
	NULL};
MOD_ABSENT(pua_absent, "pua", "CONFIG_SIMPLED_CTL", NULL, pua_off_pools);
#endif
#ifndef CONFIG_SIMPLED_STORAGE
static const char *const store_off_pools[] = {
#include "../../storage/store.def"
	NULL};
MOD_ABSENT(store_absent, "storage", "CONFIG_SIMPLED_STORAGE (selected by "
	   "a service that keeps state)", "storage", store_off_pools);
#endif
#undef POOL
#undef STAT
#undef STAT_AT

/* Start order: the services in dependency order (each may hook the ones
 * before it), then the daemon's own OPTIONS answer; the SIP layer opens
 * its sockets after them all. */
static const struct mod *const app_mods[] = {
	&sip_mod,
	&sip_users_mod,
	&sip_auth_mod,
	&sip_upstream_mod,
#ifdef CONFIG_SIMPLED_TLS
	&sip_tls_mod,
#else
	&tls_absent,
#endif
#ifdef CONFIG_SIMPLED_STORAGE
	&store_mod,
#else
	&store_absent,
#endif
	&reg_mod,
#ifdef CONFIG_SIMPLED_OFFLINE
	&offline_mod,
#else
	&offline_absent,
#endif
	&msg_mod,
#ifdef CONFIG_SIMPLED_PRESENCE
	&pres_mod,
#else
	&pres_absent,
#endif
#ifdef CONFIG_SIMPLED_IMC
	&imc_mod,
#else
	&imc_absent,
#endif
#ifdef CONFIG_SIMPLED_CTL
	&pua_mod,
	&ctl_mod,
#else
	&pua_absent,
	&ctl_absent,
#endif
	&app_mod,
};


int app_configure(const char *path, const char *text, char *err,
		  size_t errlen)
{
	const char *name = path ? path : "(config)";
	size_t i;
	int rc;

	mod_reset();
	for (i = 0; i < sizeof(app_mods) / sizeof(app_mods[0]); i++) {
		rc = mod_register(app_mods[i]);
		if (rc) {
			snprintf(err, errlen, "module %s: %s",
				 app_mods[i]->name, strerror(rc));
			return rc;
		}
	}
	memset(&app_cfg, 0, sizeof(app_cfg));
	rc = mod_configure(path, text, err, errlen);
	if (rc) {
		return rc;
	}
	snprintf(cfg_path, sizeof(cfg_path), "%s", path ? path : "");
	if (!app_cfg.n_domain) {
		snprintf(err, errlen, "%s: no 'list domain' given", name);
		return EINVAL;
	}
	if (!app_cfg.n_listen) {
		snprintf(err, errlen, "%s: no 'list listen' given", name);
		return EINVAL;
	}
	if (reg_cfg.max_expires && reg_cfg.max_expires < reg_cfg.min_expires) {
		snprintf(err, errlen, "%s: registrar max_expires (%d) is "
			 "below min_expires (%d)", name, reg_cfg.max_expires,
			 reg_cfg.min_expires);
		return EINVAL;
	}
	return 0;
}

static void on_options(struct sip_stx *st, const struct sip_msg *req)
{
	char hdrs[256];

	(void)req;
	snprintf(hdrs, sizeof(hdrs),
		 "Allow: %s\r\nAccept: text/plain, message/cpim\r\n"
		 "Supported: \r\n", sip_allow());
	sip_reply(st, 200, NULL, hdrs, NULL, NULL, 0);
}

static int make_state_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0) {
		return 0;
	}
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		return 0;
	}
	return errno ? errno : ENOTDIR;
}

#ifdef CONFIG_SIMPLED_STORAGE
/* LMDB needs a filesystem that maps files shared and writable, and the
 * 202 promise needs one that outlives a reboot. */
static int check_state_fs(const char *dir)
{
	enum port_fs kind;
	char name[32];

	if (port_fs_kind(dir, &kind, name, sizeof(name))) {
		return 0; /* unknown: LMDB will say */
	}
	if (kind == PORT_FS_JFFS2) {
		LOG_ERR("state_dir %s is on %s, where the store (LMDB) cannot "
			"work: put state_dir on UBIFS, ext4 or a USB disk "
			"(see the README's router storage table)", dir, name);
		return EINVAL;
	}
	if (kind == PORT_FS_RAM) {
		LOG_WRN("state_dir %s is in RAM (%s): stored messages, "
			"presence documents and rooms do not survive a reboot "
			"(a 202 holds until then)", dir, name);
	}
	return 0;
}
#endif

static int app_mod_start(void)
{
	return sip_route("OPTIONS", on_options);
}

/* Accounts are password equivalents (an HA1 lets anyone authenticate
 * as its user): say so when the file holding them is readable by others. */
static void check_cfg_mode(void)
{
	struct stat st;

	if (cfg_path[0] && sip_user_count() && !stat(cfg_path, &st) &&
	    (st.st_mode & 077)) {
		LOG_WRN("%s holds accounts (password equivalents) and is "
			"readable by others (mode %03o): chmod 600 %s",
			cfg_path, (unsigned)(st.st_mode & 0777), cfg_path);
	}
}

int app_start(void)
{
	int err;

	log_set_level(app_cfg.log_level);
	check_cfg_mode();
	mem_set_budget(mod_mem_budget());
	mem_osip_install();
	err = port_init();
	if (err) {
		LOG_ERR("port: %s", strerror(err));
		return err;
	}
	/* Every pooled object embeds at most two timers. */
	err = tmr_init(2 * mod_pool_total() + 64);
	if (err) {
		LOG_ERR("timers: %s", strerror(err));
		return err;
	}
	/* Before the store, which tells the clock the newest time it
	 * holds and follows its steps. */
	wall_reset();
	err = make_state_dir(app_cfg.state_dir);
	if (err) {
		LOG_ERR("state_dir %s: %s", app_cfg.state_dir, strerror(err));
		return err;
	}
#ifdef CONFIG_SIMPLED_STORAGE
	err = check_state_fs(app_cfg.state_dir);
	if (err) {
		return err;
	}
	/* A store that cannot be opened is logged; the services that need
	 * it answer 500 per request and the daemon still runs. */
	err = store_open(app_cfg.state_dir,
			 (size_t)store_cfg.map_size_kb * 1024u);
	if (err) {
		LOG_ERR("store unavailable: %s", store_strerror(err));
	}
	sip_view.commit_now = store_flush;
#endif
	sip_view.domain = (const void *)app_cfg.domain;
	sip_view.n_domain = app_cfg.n_domain;
	sip_view.listen = (const void *)app_cfg.listen;
	sip_view.n_listen = app_cfg.n_listen;
	sip_view.outbound_proxy = app_cfg.outbound_proxy;
	sip_view.open_registration = app_cfg.open_registration;
	sip_view.resolve_contacts = app_cfg.resolve_contacts;
	sip_view.udp_rcvbuf = (size_t)app_cfg.udp_rcvbuf_kb * 1024u;
	sip_view.n_dns_servers = dns_servers(dns, DNS_MAX_SERVERS);
	sip_view.dns_servers = dns;
	err = mod_start();
	if (!err) {
		err = sip_init(&sip_view);
	}
#ifdef CONFIG_SIMPLED_CTL
	if (!err) {
		struct ctl_view v = {app_cfg.state_dir, SIMPLED_VERSION,
				     app_features(), app_reload};

		err = ctl_open(&v);
	}
#endif
	if (err) {
		goto fail;
	}
	LOG_INF("simpled %s serving %s", SIMPLED_VERSION, app_cfg.domain[0]);
	return 0;
fail:
	LOG_ERR("start-up failed: %s", strerror(err));
	app_stop();
	return err;
}

void app_stop(void)
{
	/* A step since the last turn is taken before the last writes. */
	wall_check();
#ifdef CONFIG_SIMPLED_STORAGE
	/* Answers waiting for a group commit go out while SIP is up. */
	store_flush();
#endif
#ifdef CONFIG_SIMPLED_CTL
	ctl_close();
#endif
	/* Services stop in reverse order (presence writes its subscriptions
	 * back), then SIP, then the store takes their last writes. */
	mod_stop();
	sip_close();
#ifdef CONFIG_SIMPLED_STORAGE
	store_close();
#endif
	mod_release();
	tmr_release();
	port_close_all();
}
