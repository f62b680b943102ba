/** @file cfg.h  UCI-style configuration parser driven by policy tables.
 *
 * Grammar (one statement a line, '#' starts a comment outside quotes):
 *   config <type> ['<name>']
 *   option <name> '<value>'
 *   list <name> '<value>'
 * Values may be bare words, 'single' or "double" quoted (backslash escapes
 * the next character in double quotes). Every section and option must be
 * known to a policy table; anything else stops start-up with
 * "file:line: reason".
 */
#ifndef CORE_CFG_H
#define CORE_CFG_H

#include <stddef.h>

/** The longest line a config file may hold. */
#define CFG_LINE_MAX 1024

enum cfg_type {
	CFG_STR,	/**< char[size] */
	CFG_INT,	/**< int within [min, max] */
	CFG_BOOL,	/**< int 0/1: 0, 1, on, off, yes, no, true, false */
	CFG_ENUM,	/**< int index into names[], or an alias's value */
	CFG_LIST,	/**< char[max][size] with an unsigned count at cnt_off */
};

/** Extra validation of a value; writes a reason on failure. */
typedef int (cfg_check_h)(const char *val, char *why, size_t whylen);

/** Another name a CFG_ENUM option accepts for one of its values. */
struct cfg_alias {
	const char *name;
	int value;		/**< an index into the option's names[] */
};

struct cfg_opt {
	const char *name;
	enum cfg_type type;
	size_t off;		/**< offset of the field in the section */
	long min, max;		/**< CFG_INT range; CFG_LIST: max = entries */
	size_t size;		/**< CFG_STR / CFG_LIST: bytes per string */
	size_t cnt_off;		/**< CFG_LIST: offset of the unsigned count */
	const char *dflt;	/**< default, parsed like a value (a list:
				 * values separated by spaces); NULL none */
	const char *const *names; /**< CFG_ENUM: NULL-terminated */
	const struct cfg_alias *aliases; /**< CFG_ENUM: more names, ended
					  * by a NULL name; NULL: none */
	cfg_check_h *check;
	const char *off_switch;	/**< set: refused, its module is not built */
};

struct cfg_sect {
	const char *type;	/**< the word after `config` */
	const struct cfg_opt *opts;
	size_t nopts;
	void *base;		/**< the struct the options fill */
	const char *off_switch;	/**< set: refused, its module is not built */
	/* A section that may appear several times (`config user`): each
	 * fills the next of max structs stride bytes apart from base, and
	 * *count says how many did; check, when set, judges each one when
	 * it ends (its error is given the line of its `config`). */
	unsigned max;
	size_t stride;
	unsigned *count;
	int (*check)(const void *inst, char *why, size_t whylen);
	/* Live reload (mod_reload()): */
	size_t size;		/**< bytes at base (a section filled once) */
	/** Options a reload cannot change (NULL-terminated; "*": all):
	 * what was read at start is kept, and the caller is told. */
	const char *const *restart;
	/** Told after a reload changed the section (new values in base).
	 * @return 0, or an errno with why (the values cannot be taken: the
	 * whole reload is undone, this hook having changed nothing). */
	int (*reload)(char *why, size_t whylen);
};

/* Every option of a section needs a restart to change. */
extern const char *const cfg_restart_all[];

/* A section filled once, from the option table opts into *base; more
 * designated initializers may follow (.restart, .reload). */
#define CFG_SECT(t, opts_, base_, ...)                                    \
	{.type = t, .opts = opts_,                                           \
	 .nopts = sizeof(opts_) / sizeof((opts_)[0]), .base = base_,        \
	 .size = sizeof(*(base_)), __VA_ARGS__}

/* A number as a default string: CFG_NUM(CONFIG_X). */
#define CFG_NUM_(x) #x
#define CFG_NUM(x) CFG_NUM_(x)

/* Table entries for a field of section struct T; every module's table is
 * written with these. */
#define CFG_FIELD_SIZE(T, f) sizeof(((T *)0)->f)
#define CFG_INT_OPT(T, n, f, lo, hi, d)                                   \
	{n, CFG_INT, offsetof(T, f), lo, hi, 0, 0, d, NULL, NULL, NULL, NULL}
#define CFG_BOOL_OPT(T, n, f, d)                                          \
	{n, CFG_BOOL, offsetof(T, f), 0, 1, 0, 0, d, NULL, NULL, NULL, NULL}
#define CFG_STR_OPT(T, n, f, d, chk)                                      \
	{n, CFG_STR, offsetof(T, f), 0, 0, CFG_FIELD_SIZE(T, f), 0, d, NULL, \
	 NULL, chk, NULL}
#define CFG_ENUM_OPT(T, n, f, d, names)                                   \
	CFG_ENUM_ALIAS_OPT(T, n, f, d, names, NULL)
/* An enum that also takes the names in aliases (a NULL-name-ended table
 * of struct cfg_alias) for some of its values. */
#define CFG_ENUM_ALIAS_OPT(T, n, f, d, names, aliases)                    \
	{n, CFG_ENUM, offsetof(T, f), 0, 0, 0, 0, d, names, aliases, NULL,   \
	 NULL}
#define CFG_LIST_OPT(T, n, f, cnt, d, chk)                                \
	{n, CFG_LIST, offsetof(T, f), 0,                                     \
	 CFG_FIELD_SIZE(T, f) / CFG_FIELD_SIZE(T, f[0]),                     \
	 CFG_FIELD_SIZE(T, f[0]), offsetof(T, cnt), d, NULL, NULL, chk, NULL}

/** The current value of option o of the section filled at base, as the
 * config file would write it (a list: its values separated by spaces). */
void cfg_value_str(const struct cfg_opt *o, const void *base, char *buf,
		   size_t size);

/** Fill every option of every section with its default. */
int cfg_defaults(const struct cfg_sect *s, size_t n, char *err,
		 size_t errlen);
/**
 * Parse text (named name in messages) into the sections. Defaults must
 * have been applied first. @return 0, or EINVAL with "name:line: reason"
 * in err.
 */
int cfg_parse(const char *name, const char *text, const struct cfg_sect *s,
	      size_t n, char *err, size_t errlen);
/** Read a file and cfg_parse() it; ENOENT etc. are reported in err. */
int cfg_load_file(const char *path, const struct cfg_sect *s, size_t n,
		  char *err, size_t errlen);

#endif
