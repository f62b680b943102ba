/** @file ctl_json.c  The JSON of the control socket: the request parser
 * (an object with a string "command" and an array of strings "args",
 * RFC 8259) and the writer's string escaping. Bounded: no allocation,
 * strings land in the caller's buffer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_priv.h"

struct rd {
	const char *p, *end;
	char *out;		/* where unescaped strings go */
	size_t left;
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r')) {
		r->p++;
	}
}

static int hex4(const char *p, unsigned *v)
{
	unsigned i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9') {
			*v |= (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			*v |= (unsigned)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			*v |= (unsigned)(c - 'A' + 10);
		} else {
			return EINVAL;
		}
	}
	return 0;
}

static int put(struct rd *r, unsigned char c)
{
	if (!r->left) {
		return E2BIG;
	}
	*r->out++ = (char)c;
	r->left--;
	return 0;
}

/* A code point as UTF-8. */
static int put_utf8(struct rd *r, unsigned cp)
{
	int err = 0;

	if (cp < 0x80) {
		return put(r, (unsigned char)cp);
	}
	if (cp < 0x800) {
		err |= put(r, (unsigned char)(0xc0 | cp >> 6));
	} else {
		if (cp < 0x10000) {
			err |= put(r, (unsigned char)(0xe0 | cp >> 12));
		} else {
			err |= put(r, (unsigned char)(0xf0 | cp >> 18));
			err |= put(r, (unsigned char)(0x80 | (cp >> 12 & 0x3f)));
		}
		err |= put(r, (unsigned char)(0x80 | (cp >> 6 & 0x3f)));
	}
	err |= put(r, (unsigned char)(0x80 | (cp & 0x3f)));
	return err ? E2BIG : 0;
}

/* A string into r->out, NUL-terminated; *s points at it. No NUL inside
 * (\u0000 is refused: every consumer takes C strings). */
static int string(struct rd *r, const char **s, const char **why)
{
	*s = r->out;
	if (r->p >= r->end || *r->p != '"') {
		*why = "a string was expected";
		return EINVAL;
	}
	for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
		unsigned char c = (unsigned char)*r->p;
		unsigned cp, lo;

		if (c < 0x20) {
			*why = "a control character in a string";
			return EINVAL;
		}
		if (c != '\\') {
			if (put(r, c)) {
				goto big;
			}
			continue;
		}
		if (++r->p >= r->end) {
			break;
		}
		switch (*r->p) {
		case '"': case '\\': case '/':
			c = (unsigned char)*r->p;
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (r->end - r->p < 5 || hex4(r->p + 1, &cp)) {
				*why = "a bad \\u escape";
				return EINVAL;
			}
			r->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (r->end - r->p < 7 || r->p[1] != '\\' ||
				    r->p[2] != 'u' || hex4(r->p + 3, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					*why = "a lone surrogate";
					return EINVAL;
				}
				r->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			} else if ((cp >= 0xdc00 && cp < 0xe000) || !cp) {
				*why = cp ? "a lone surrogate" :
				       "a NUL in a string";
				return EINVAL;
			}
			if (put_utf8(r, cp)) {
				goto big;
			}
			continue;
		default:
			*why = "a bad escape";
			return EINVAL;
		}
		if (put(r, c)) {
			goto big;
		}
	}
	if (r->p >= r->end) {
		*why = "a string does not end";
		return EINVAL;
	}
	r->p++;
	if (put(r, 0)) {
		goto big;
	}
	return 0;
big:
	*why = "the request is too large";
	return E2BIG;
}

/* After a member of the object (close '}') or an element of args
 * (close ']'): a ',' and then another one, or close next. @return 0 or
 * EINVAL with why. */
static int after_item(struct rd *r, char close, const char **why)
{
	ws(r);
	if (r->p < r->end && *r->p == ',') {
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == close) {
			*why = close == ']' ? "a ',' before ']'" :
			       "a ',' before '}'";
			return EINVAL;
		}
	} else if (r->p < r->end && *r->p != close) {
		*why = close == ']' ? "',' or ']' was expected" :
		       "',' or '}' was expected";
		return EINVAL;
	}
	return 0;
}

int ctl_json_request(const char *text, size_t len, struct ctl_req *req,
		     const char **why)
{
	struct rd r = {text, text + len, req->strings, sizeof(req->strings)};
	int have_cmd = 0, have_args = 0, err;

	req->argc = 0;
	ws(&r);
	if (r.p >= r.end || *r.p++ != '{') {
		*why = "a request is a JSON object";
		return EINVAL;
	}
	ws(&r);
	while (r.p < r.end && *r.p != '}') {
		const char *key;

		err = string(&r, &key, why);
		if (err) {
			return err;
		}
		ws(&r);
		if (r.p >= r.end || *r.p++ != ':') {
			*why = "':' was expected";
			return EINVAL;
		}
		ws(&r);
		if (!strcmp(key, "command") && !have_cmd) {
			err = string(&r, &req->command, why);
			if (err) {
				return err;
			}
			have_cmd = 1;
		} else if (!strcmp(key, "args") && !have_args && r.p < r.end &&
			   *r.p == '[') {
			have_args = 1;
			r.p++;
			ws(&r);
			while (r.p < r.end && *r.p != ']') {
				if (req->argc == CTL_MAX_ARGS) {
					*why = "too many args";
					return E2BIG;
				}
				err = string(&r, &req->argv[req->argc++], why);
				if (err) {
					return err;
				}
				if (after_item(&r, ']', why)) {
					return EINVAL;
				}
			}
			if (r.p >= r.end) {
				*why = "the args do not end";
				return EINVAL;
			}
			r.p++;
		} else {
			*why = "only \"command\" (a string) and \"args\" (an "
			       "array of strings), once each";
			return EINVAL;
		}
		if (after_item(&r, '}', why)) {
			return EINVAL;
		}
	}
	if (r.p >= r.end) {
		*why = "the object does not end";
		return EINVAL;
	}
	r.p++;
	ws(&r);
	if (r.p != r.end) {
		*why = "something follows the object";
		return EINVAL;
	}
	if (!have_cmd) {
		*why = "no \"command\"";
		return EINVAL;
	}
	return 0;
}

/* Bytes of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * form, no surrogate, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80) {
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0; /* also the NUL that ends s */
		}
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp < 0xe000)) {
		return 0;
	}
	return n;
}

void ctl_json_str(struct sd_buf *b, const char *s)
{
	sd_buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t n;

		if (c >= 0x80) {
			/* SIP data need not be UTF-8; the answer must be. A
			 * byte that is not part of a character is written as
			 * the code point of its value. */
			n = utf8_len((const unsigned char *)s);
			if (n) {
				sd_buf_add(b, s, n);
				s += n - 1;
			} else {
				sd_buf_printf(b, "\\u%04x", c);
			}
			continue;
		}

		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			sd_buf_add(b, esc, 2);
		} else if (c == '\n') {
			sd_buf_add(b, "\\n", 2);
		} else if (c == '\r') {
			sd_buf_add(b, "\\r", 2);
		} else if (c == '\t') {
			sd_buf_add(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			sd_buf_printf(b, "\\u%04x", c);
		} else {
			sd_buf_add(b, s, 1);
		}
	}
	sd_buf_add(b, "\"", 1);
}

void ctl_json_kv_str(struct sd_buf *b, const char *key, const char *v)
{
	ctl_json_str(b, key);
	sd_buf_add(b, ":", 1);
	ctl_json_str(b, v);
}

void ctl_json_kv_strs(struct sd_buf *b, const char *key, ...)
{
	va_list ap;
	int first = 1;

	va_start(ap, key);
	for (; key; key = va_arg(ap, const char *)) {
		sd_buf_str(b, first ? "" : ",");
		ctl_json_kv_str(b, key, va_arg(ap, const char *));
		first = 0;
	}
	va_end(ap);
}

void ctl_json_kv_num(struct sd_buf *b, const char *key, unsigned long v)
{
	ctl_json_str(b, key);
	sd_buf_printf(b, ":%lu", v);
}
