/** @file log.h  Logging with a per-file LOG_MODULE and a compile-time floor
 * (CONFIG_SIMPLED_LOG_FLOOR). Lines go to the port's sink (stderr or
 * syslog). No per-packet INFO lines: count those in stats instead.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include "simpled_config.h"

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

#ifndef LOG_MODULE
#define LOG_MODULE "simpled"
#endif

void log_set_level(int level);
int log_get_level(void);
/** Parse "err", "warn", "info" or "debug". @return level or -1. */
int log_level_from_str(const char *s);
void log_printf(int level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, ...)                                               \
	do {                                                           \
		if ((lvl) <= CONFIG_SIMPLED_LOG_FLOOR) {               \
			log_printf((lvl), LOG_MODULE, __VA_ARGS__);    \
		}                                                      \
	} while (0)

#define LOG_ERR(...) LOG_AT(LOG_LVL_ERR, __VA_ARGS__)
#define LOG_WRN(...) LOG_AT(LOG_LVL_WARN, __VA_ARGS__)
#define LOG_INF(...) LOG_AT(LOG_LVL_INFO, __VA_ARGS__)
#define LOG_DBG(...) LOG_AT(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
