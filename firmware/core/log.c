/** @file log.c  Log formatting; the sink belongs to the port. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "port.h"

static int cur_level = LOG_LVL_INFO;

void log_set_level(int level)
{
	cur_level = level;
}

int log_get_level(void)
{
	return cur_level;
}

int log_level_from_str(const char *s)
{
	static const char *const names[] = {"err", "warn", "info", "debug"};
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

void log_printf(int level, const char *module, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (level > cur_level) {
		return;
	}
	n = snprintf(line, sizeof(line), "%s: ", module);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		n = 0;
	}
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	port_log(level, line);
}
