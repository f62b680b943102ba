/** @file cfg.c  UCI-style parser (see cfg.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"

/* Longest line accepted and longest single token, in bytes. */
/* Biggest configuration file read, in bytes. */
#define CFG_FILE_MAX (256 * 1024)

/* "name: 'val' is not one of a, b, c": the names, then the aliases. */
static void enum_names(const struct cfg_opt *o, const char *val, char *why,
		       size_t whylen)
{
	const char *sep = " ";
	size_t l;
	int i;

	snprintf(why, whylen, "%s: '%s' is not one of", o->name, val);
	for (i = 0; o->names[i]; i++) {
		l = strlen(why);
		snprintf(why + l, whylen - l, "%s%s", sep, o->names[i]);
		sep = ", ";
	}
	for (i = 0; o->aliases && o->aliases[i].name; i++) {
		l = strlen(why);
		snprintf(why + l, whylen - l, "%s%s", sep, o->aliases[i].name);
	}
}

static int set_value(const struct cfg_sect *s, const struct cfg_opt *o,
		     const char *val, int is_list, char *why, size_t whylen)
{
	char *field = (char *)s->base + o->off;
	char *end;
	long v;
	int i;

	if (o->off_switch) {
		snprintf(why, whylen, "'%s' is not built in (%s is off)",
			 o->name, o->off_switch);
		return EINVAL;
	}
	if (o->check && o->check(val, why, whylen)) {
		return EINVAL;
	}
	switch (o->type) {
	case CFG_STR:
		if (is_list) {
			snprintf(why, whylen, "'%s' is an option, not a list",
				 o->name);
			return EINVAL;
		}
		if (strlen(val) >= o->size) {
			snprintf(why, whylen, "%s: value longer than %zu bytes",
				 o->name, o->size - 1);
			return EINVAL;
		}
		strcpy(field, val);
		return 0;
	case CFG_INT:
		if (is_list) {
			snprintf(why, whylen, "'%s' is an option, not a list",
				 o->name);
			return EINVAL;
		}
		errno = 0;
		v = strtol(val, &end, 10);
		if (!*val || *end || errno) {
			snprintf(why, whylen, "%s: '%s' is not a number",
				 o->name, val);
			return EINVAL;
		}
		if (v < o->min || v > o->max) {
			snprintf(why, whylen, "%s: %ld is outside %ld..%ld",
				 o->name, v, o->min, o->max);
			return EINVAL;
		}
		*(int *)field = (int)v;
		return 0;
	case CFG_BOOL:
		if (!strcmp(val, "1") || !strcasecmp(val, "on") ||
		    !strcasecmp(val, "yes") || !strcasecmp(val, "true")) {
			*(int *)field = 1;
		} else if (!strcmp(val, "0") || !strcasecmp(val, "off") ||
			   !strcasecmp(val, "no") ||
			   !strcasecmp(val, "false")) {
			*(int *)field = 0;
		} else {
			snprintf(why, whylen, "%s: '%s' is not a boolean",
				 o->name, val);
			return EINVAL;
		}
		return 0;
	case CFG_ENUM:
		for (i = 0; o->names[i]; i++) {
			if (!strcmp(val, o->names[i])) {
				*(int *)field = i;
				return 0;
			}
		}
		for (i = 0; o->aliases && o->aliases[i].name; i++) {
			if (!strcmp(val, o->aliases[i].name)) {
				*(int *)field = o->aliases[i].value;
				return 0;
			}
		}
		enum_names(o, val, why, whylen);
		return EINVAL;
	case CFG_LIST: {
		unsigned *cnt = (unsigned *)((char *)s->base + o->cnt_off);

		if (!is_list) {
			snprintf(why, whylen, "'%s' is a list: use 'list %s'",
				 o->name, o->name);
			return EINVAL;
		}
		if (*cnt >= (unsigned)o->max) {
			snprintf(why, whylen, "%s: more than %ld entries",
				 o->name, o->max);
			return EINVAL;
		}
		if (strlen(val) >= o->size) {
			snprintf(why, whylen, "%s: value longer than %zu bytes",
				 o->name, o->size - 1);
			return EINVAL;
		}
		strcpy(field + (size_t)*cnt * o->size, val);
		(*cnt)++;
		return 0;
	}
	}
	return EINVAL;
}

/* A list's default may hold several values separated by spaces. */
static int set_default(const struct cfg_sect *s, const struct cfg_opt *o,
		       char *why, size_t whylen)
{
	char val[CFG_LINE_MAX];
	const char *p = o->dflt;

	if (o->type != CFG_LIST) {
		return set_value(s, o, p, 0, why, whylen);
	}
	while (*p) {
		size_t n = strcspn(p, " ");

		if (n && n < sizeof(val)) {
			memcpy(val, p, n);
			val[n] = '\0';
			if (set_value(s, o, val, 1, why, whylen)) {
				return EINVAL;
			}
		}
		p += n + (p[n] == ' ');
	}
	return 0;
}

const char *const cfg_restart_all[] = {"*", NULL};

void cfg_value_str(const struct cfg_opt *o, const void *base, char *buf,
		   size_t size)
{
	const char *field = (const char *)base + o->off;
	int v;
	unsigned i, cnt;
	size_t len = 0;

	buf[0] = '\0';
	switch (o->type) {
	case CFG_STR:
		snprintf(buf, size, "%s", field);
		return;
	case CFG_INT:
	case CFG_BOOL:
		memcpy(&v, field, sizeof(v));
		snprintf(buf, size, "%d", v);
		return;
	case CFG_ENUM:
		memcpy(&v, field, sizeof(v));
		snprintf(buf, size, "%s", v >= 0 ? o->names[v] : "?");
		return;
	case CFG_LIST:
		memcpy(&cnt, (const char *)base + o->cnt_off, sizeof(cnt));
		for (i = 0; i < cnt && len < size; i++) {
			int n = snprintf(buf + len, size - len, "%s%s",
					 i ? " " : "", field + i * o->size);

			len += n > 0 ? (size_t)n : 0;
		}
		return;
	}
}

/* Every option of one section (or instance) from its defaults. */
static int sect_defaults(const struct cfg_sect *s, char *err, size_t errlen)
{
	size_t j;

	for (j = 0; j < s->nopts; j++) {
		const struct cfg_opt *o = &s->opts[j];
		char why[160];

		if (o->type == CFG_LIST) {
			*(unsigned *)((char *)s->base + o->cnt_off) = 0;
		}
		if (o->dflt && set_default(s, o, why, sizeof(why))) {
			snprintf(err, errlen, "built-in default: %s", why);
			return EINVAL;
		}
	}
	return 0;
}

int cfg_defaults(const struct cfg_sect *s, size_t n, char *err,
		 size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i].max) {
			*s[i].count = 0; /* instances get theirs as they come */
			continue;
		}
		if (sect_defaults(&s[i], err, errlen)) {
			return EINVAL;
		}
	}
	return 0;
}

/* Split the next token off *p into tok. @return 1 token, 0 none, -1 error*/
static int next_token(const char **p, char *tok, size_t toklen,
		      char *why, size_t whylen)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (!*s || *s == '#') {
		*p = s;
		return 0;
	}
	while (*s && *s != ' ' && *s != '\t' && *s != '#') {
		char q = *s;

		if (q == '\'' || q == '"') {
			s++;
			while (*s && *s != q) {
				if (q == '"' && *s == '\\' && s[1]) {
					s++;
				}
				if (n + 1 >= toklen) {
					snprintf(why, whylen, "token too long");
					return -1;
				}
				tok[n++] = *s++;
			}
			if (*s != q) {
				snprintf(why, whylen, "unterminated %c quote",
					 q);
				return -1;
			}
			s++;
			continue;
		}
		if (n + 1 >= toklen) {
			snprintf(why, whylen, "token too long");
			return -1;
		}
		tok[n++] = *s++;
	}
	tok[n] = '\0';
	*p = s;
	return 1;
}

static const struct cfg_opt *find_opt(const struct cfg_sect *s,
				      const char *name)
{
	size_t j;

	for (j = 0; j < s->nopts; j++) {
		if (!strcmp(s->opts[j].name, name)) {
			return &s->opts[j];
		}
	}
	return NULL;
}

/* The next instance of repeated section s, with its defaults, as inst. */
static int inst_begin(const struct cfg_sect *s, struct cfg_sect *inst,
		      char *why, size_t whylen)
{
	if (*s->count >= s->max) {
		snprintf(why, whylen, "more than %u '%s' sections", s->max,
			 s->type);
		return ENOSPC;
	}
	*inst = *s;
	inst->base = (char *)s->base + (size_t)*s->count * s->stride;
	memset(inst->base, 0, s->stride);
	if (sect_defaults(inst, why, whylen)) {
		return EINVAL;
	}
	(*s->count)++;
	return 0;
}

/* cur ends: when it is an instance, let its owner judge it. */
static int inst_end(const struct cfg_sect *cur, const struct cfg_sect *inst,
		    char *why, size_t whylen)
{
	if (cur != inst || !inst->check) {
		return 0;
	}
	return inst->check(inst->base, why, whylen) ? EINVAL : 0;
}

int cfg_parse(const char *name, const char *text, const struct cfg_sect *s,
	      size_t n, char *err, size_t errlen)
{
	const struct cfg_sect *cur = NULL;
	struct cfg_sect inst;	/* cur when it is one of a repeated type */
	size_t cur_i = 0;
	const char *p = text;
	unsigned lineno = 0, inst_line = 0;
	char why[200];
	char line[CFG_LINE_MAX];
	/* Lists are replaced, not appended to, the first time a file sets
	 * them; remember which were reset with a bit per (section, option). */
	unsigned char reset[32][64];

	memset(reset, 0, sizeof(reset));
	why[0] = '\0';
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char kw[32], a[CFG_LINE_MAX], b[CFG_LINE_MAX], extra[8];
		const char *q;
		int na, nb;

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(why, sizeof(why), "line longer than %d bytes",
				 CFG_LINE_MAX - 1);
			goto fail;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r') {
			line[len - 1] = '\0';
		}
		p = eol ? eol + 1 : p + len;
		q = line;
		if (next_token(&q, kw, sizeof(kw), why, sizeof(why)) <= 0) {
			if (why[0]) {
				goto fail;
			}
			continue;
		}
		na = next_token(&q, a, sizeof(a), why, sizeof(why));
		if (na < 0) {
			goto fail;
		}
		nb = next_token(&q, b, sizeof(b), why, sizeof(why));
		if (nb < 0) {
			goto fail;
		}
		if (next_token(&q, extra, sizeof(extra), why,
			       sizeof(why)) != 0) {
			snprintf(why, sizeof(why), "unexpected text after "
				 "the value (quote values with spaces)");
			goto fail;
		}
		if (!strcmp(kw, "config")) {
			size_t i;

			if (inst_end(cur, &inst, why, sizeof(why))) {
				lineno = inst_line;
				goto fail;
			}
			if (na <= 0) {
				snprintf(why, sizeof(why),
					 "'config' needs a section type");
				goto fail;
			}
			for (i = 0; i < n && strcmp(s[i].type, a); i++) {
			}
			if (i == n) {
				snprintf(why, sizeof(why),
					 "unknown section type '%.64s'", a);
				goto fail;
			}
			cur = &s[i];
			cur_i = i;
			if (cur->off_switch) {
				snprintf(why, sizeof(why), "section '%.64s' "
					 "is not built in (%s is off)", a,
					 cur->off_switch);
				goto fail;
			}
			if (cur->max) {
				if (inst_begin(cur, &inst, why, sizeof(why))) {
					goto fail;
				}
				cur = &inst;
				inst_line = lineno;
				memset(reset[cur_i % 32], 0,
				       sizeof(reset[0]));
			}
		} else if (!strcmp(kw, "option") || !strcmp(kw, "list")) {
			const struct cfg_opt *o;
			int is_list = kw[0] == 'l';

			if (!cur) {
				snprintf(why, sizeof(why),
					 "'%s' before any 'config' line", kw);
				goto fail;
			}
			if (na <= 0 || nb <= 0) {
				snprintf(why, sizeof(why),
					 "'%s' needs a name and a value", kw);
				goto fail;
			}
			o = find_opt(cur, a);
			if (!o) {
				snprintf(why, sizeof(why),
					 "unknown option '%.64s' in section '%s'",
					 a, cur->type);
				goto fail;
			}
			if (o->type == CFG_LIST) {
				size_t si = cur_i % 32;
				size_t oi = (size_t)(o - cur->opts) % 64;

				if (!reset[si][oi]) {
					reset[si][oi] = 1;
					*(unsigned *)((char *)cur->base +
						      o->cnt_off) = 0;
				}
			}
			if (set_value(cur, o, b, is_list, why, sizeof(why))) {
				goto fail;
			}
		} else {
			snprintf(why, sizeof(why), "unknown keyword '%.32s' "
				 "(expected config, option or list)", kw);
			goto fail;
		}
	}
	if (inst_end(cur, &inst, why, sizeof(why))) {
		lineno = inst_line;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
	return EINVAL;
}

int cfg_load_file(const char *path, const struct cfg_sect *s, size_t n,
		  char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t len;
	int rc;

	if (!f) {
		rc = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(rc));
		return rc;
	}
	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return ENOMEM;
	}
	len = fread(buf, 1, CFG_FILE_MAX + 1, f);
	fclose(f);
	if (len > CFG_FILE_MAX) {
		free(buf);
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 CFG_FILE_MAX);
		return EFBIG;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		free(buf);
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		return EINVAL;
	}
	rc = cfg_parse(path, buf, s, n, err, errlen);
	free(buf);
	return rc;
}
