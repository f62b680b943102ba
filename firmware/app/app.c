/** @file app.c  Configuration tables and module start/stop order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define LOG_MODULE "simpled"
#include "app.h"
#include "cfg.h"
#include "imc.h"
#include "log.h"
#include "mem.h"
#include "msg.h"
#include "offline.h"
#include "pool.h"
#include "pres.h"
#include "reg.h"
#include "sip.h"
#include "stat.h"
#include "store.h"
#include "tmr.h"

struct app_cfg app_cfg;
static struct sip_cfg sip_view;

static const char *const log_levels[] = {"err", "warn", "info", "debug",
					 NULL};
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

#define A struct app_cfg

static const struct cfg_opt main_opts[] = {
	CFG_LIST_OPT(A, "domain", domain, n_domain, "simpled.lan",
		     check_domain),
	CFG_LIST_OPT(A, "listen", listen, n_listen, NULL, sip_listen_check),
	CFG_STR_OPT(A, "state_dir", state_dir, "./simpled-state", NULL),
	CFG_ENUM_OPT(A, "log_level", log_level, "info", log_levels),
	CFG_ENUM_OPT(A, "log_target", log_target, "stderr", log_targets),
	CFG_STR_OPT(A, "outbound_proxy", outbound_proxy, "", sip_proxy_check),
};
#undef A

/* The second default listen address: a list default holds one value. */
#define APP_DEFAULT_UDP "udp:127.0.0.1:5060"
#define APP_DEFAULT_TCP "tcp:127.0.0.1:5060"

enum {
	SECT_MAIN,
	SECT_REGISTRAR,
	SECT_LIMITS,
	SECT_STORAGE,
	SECT_OFFLINE,
	SECT_PRESENCE,
	SECT_IMC,
	SECT__COUNT
};

static void sections(struct cfg_sect *s)
{
	s[SECT_MAIN].type = "simpled";
	s[SECT_MAIN].opts = main_opts;
	s[SECT_MAIN].nopts = sizeof(main_opts) / sizeof(main_opts[0]);
	s[SECT_MAIN].base = &app_cfg;
	reg_cfg_sect(&s[SECT_REGISTRAR]);
	pool_cfg_sect(&s[SECT_LIMITS]);
	store_cfg_sect(&s[SECT_STORAGE]);
	offline_cfg_sect(&s[SECT_OFFLINE]);
	pres_cfg_sect(&s[SECT_PRESENCE]);
	imc_cfg_sect(&s[SECT_IMC]);
}

int app_configure(const char *path, const char *text, char *err,
		  size_t errlen)
{
	struct cfg_sect s[SECT__COUNT];
	int rc;

	sections(s);
	memset(&app_cfg, 0, sizeof(app_cfg));
	rc = cfg_defaults(s, SECT__COUNT, err, errlen);
	if (rc) {
		return rc;
	}
	strcpy(app_cfg.listen[0], APP_DEFAULT_UDP);
	strcpy(app_cfg.listen[1], APP_DEFAULT_TCP);
	app_cfg.n_listen = 2;
	if (text) {
		rc = cfg_parse("(text)", text, s, SECT__COUNT, err, errlen);
	} else if (path) {
		rc = cfg_load_file(path, s, SECT__COUNT, err, errlen);
	}
	if (rc) {
		return rc;
	}
	if (!app_cfg.n_domain) {
		snprintf(err, errlen, "%s: no 'list domain' given",
			 path ? path : "(config)");
		return EINVAL;
	}
	if (!app_cfg.n_listen) {
		snprintf(err, errlen, "%s: no 'list listen' given",
			 path ? path : "(config)");
		return EINVAL;
	}
	if (reg_cfg.max_expires && reg_cfg.max_expires < reg_cfg.min_expires) {
		snprintf(err, errlen, "%s: registrar max_expires (%d) is "
			 "below min_expires (%d)", path ? path : "(config)",
			 reg_cfg.max_expires, reg_cfg.min_expires);
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

int app_start(void)
{
	int err;

	log_set_level(app_cfg.log_level);
	mem_init((size_t)pool_cfg.mem_budget_kb * 1024u);
	mem_osip_install();
	err = port_init();
	if (err) {
		LOG_ERR("port: %s", strerror(err));
		return err;
	}
	/* Every pooled object embeds at most two timers. */
	err = tmr_init(2 * pool_total() + 64);
	if (err) {
		LOG_ERR("timers: %s", strerror(err));
		return err;
	}
	err = make_state_dir(app_cfg.state_dir);
	if (err) {
		LOG_ERR("state_dir %s: %s", app_cfg.state_dir, strerror(err));
		return err;
	}
	sip_view.domain = (const void *)app_cfg.domain;
	sip_view.n_domain = app_cfg.n_domain;
	sip_view.listen = (const void *)app_cfg.listen;
	sip_view.n_listen = app_cfg.n_listen;
	sip_view.outbound_proxy = app_cfg.outbound_proxy;
	err = reg_init();
	if (!err) {
		err = offline_init(app_cfg.state_dir);
	}
	if (!err) {
		err = msg_init();
	}
	if (!err) {
		err = pres_init();
	}
	if (!err) {
		err = imc_init();
	}
	if (!err) {
		err = sip_route("OPTIONS", on_options);
	}
	if (!err) {
		err = sip_init(&sip_view);
	}
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
	/* Presence writes its subscriptions back; offline answers 202s
	 * waiting for a batch sync; both before the store and SIP close. */
	pres_close();
	imc_close();
	offline_close();
	sip_close();
	msg_close();
	reg_close();
	pool_teardown_all();
	tmr_release();
	port_close_all();
}
