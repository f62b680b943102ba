/** @file app.h  The daemon: configuration of section `simpled`, start-up
 * and shutdown of every module in order. Used by main() and by the tests,
 * which run the whole daemon in-process on port/sim.
 */
#ifndef APP_H
#define APP_H

#include "simpled_config.h"

enum app_log_target {
	APP_LOG_STDERR = 0,
	APP_LOG_SYSLOG,
};

/** Section `simpled` (one, named 'main'). */
struct app_cfg {
	char domain[CONFIG_SIMPLED_MAX_DOMAINS][CONFIG_SIMPLED_MAX_STR];
	unsigned n_domain;
	char listen[CONFIG_SIMPLED_MAX_LISTEN][CONFIG_SIMPLED_MAX_STR];
	unsigned n_listen;
	char state_dir[CONFIG_SIMPLED_MAX_STR];
	int log_level;
	int log_target;
	char outbound_proxy[CONFIG_SIMPLED_MAX_STR];
	int open_registration;		/**< no accounts, nothing challenged */
	int resolve_contacts;		/**< host names in contacts by DNS */
	int udp_rcvbuf_kb;		/**< UDP receive buffer asked; 0 kernel */
	char resolver[3][64];		/**< name servers; none: resolv.conf */
	unsigned n_resolver;
};

extern struct app_cfg app_cfg;

/**
 * Load configuration: built-in defaults, then path (NULL: defaults only),
 * or text when given (tests). @return 0 or EINVAL with "file:line: reason".
 */
int app_configure(const char *path, const char *text, char *err,
		  size_t errlen);
/** The services this build has, e.g. " offline presence imc" (what
 * `--version` prints; the e2e tests read it). */
const char *app_features(void);
/** `simpled ctl`: the command in argv to the daemon of the loaded
 * configuration (or at socket), its answer printed. @return the exit
 * status. */
int app_ctl(const char *socket, int argc, char **argv, int pretty);
/** -d given n times: the log level n steps above log_level, now and
 * after each reload. */
void app_log_boost(int n);
/** Read the configuration file again (SIGHUP, `simpled ctl reload`):
 * what can change live is applied; the options that need a restart are
 * kept as they run and named in restart ("registrar.x simpled.listen").
 * @return 0, or an errno with the reason in err (nothing changed). */
int app_reload(char *restart, size_t rsize, char *err, size_t errlen);
/** Start every module on the loaded configuration. */
int app_start(void);
/** Stop every module and release pools and the budget. */
void app_stop(void);

#endif
