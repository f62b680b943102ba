/** @file harness.c  In-process daemon on the simulation port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app.h"
#include "harness.h"
#include "loop.h"
#include "mem.h"
#include "mod.h"
#include "port_sim.h"
#include "sd.h"
#include "sip.h"
#include "sip_auth.h"
#include "stat.h"
#include "tmr.h"

static char rxbuf[65536];
static char hdrbuf[2048];
static char tokbuf[32];
static unsigned tokn;
static int running;

static char state_dir[512];

static void wipe_state(void)
{
	char f[600];

	snprintf(f, sizeof(f), "%s/data.mdb", state_dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", state_dir);
	unlink(f);
}

const char *h_state_dir(void)
{
	return state_dir;
}

static int start_err(const char *extra_cfg, int keep);

static void start(const char *extra_cfg, int keep)
{
	assert_int_equal(start_err(extra_cfg, keep), 0);
}

static void make_state_dir(void)
{
	snprintf(state_dir, sizeof(state_dir), "%s/simstate-%d",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	mkdir(state_dir, 0700);
}

void h_start(const char *extra_cfg)
{
	start(extra_cfg, 0);
}

void h_start_with_store(const char *extra_cfg, const char *data_mdb)
{
	char dst[600], buf[4096];
	FILE *in, *out;
	size_t n;

	sim_reset(0xfffff000u);
	sim_set_wall_s(SIM_WALL_DEFAULT_S);
	make_state_dir();
	wipe_state();
	snprintf(dst, sizeof(dst), "%s/data.mdb", state_dir);
	in = fopen(data_mdb, "rb");
	out = fopen(dst, "wb");
	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		assert_int_equal(fwrite(buf, 1, n, out), n);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
	start(extra_cfg, 1);
}

void h_restart(const char *extra_cfg)
{
	app_stop();
	running = 0;
	start(extra_cfg, 1);
}

void h_restart_wall(int64_t wall_s, const char *extra_cfg)
{
	app_stop();
	running = 0;
	sim_set_wall_s(wall_s);
	start(extra_cfg, 1);
}

static int start_err(const char *extra_cfg, int keep)
{
	int err_start;
	char cfg[4096];
	char err[512];

	if (running) {
		/* A failed test left its daemon behind. */
		app_stop();
		running = 0;
	}
	if (!keep) {
		sim_reset(0xfffff000u); /* near the 32-bit wrap on purpose */
		sim_set_wall_s(SIM_WALL_DEFAULT_S);
	}
	stat_reset();
	make_state_dir();
	if (!keep) {
		wipe_state();
	}
	snprintf(cfg, sizeof(cfg),
		 "config simpled 'main'\n"
		 "\tlist domain '" H_DOMAIN "'\n"
		 "\tlist listen 'udp:" H_SERVER ":5060'\n"
		 "\toption state_dir '%s'\n"
		 "\toption log_level 'debug'\n"
		 /* Tests of accounts and challenges turn it off. */
		 "\toption open_registration '1'\n"
		 /* No name server answers in the simulated network; the
		  * tests of contact names turn it on. */
		 "\toption resolve_contacts '0'\n"
		 "%s",
		 state_dir, extra_cfg ? extra_cfg : "");
	err[0] = '\0';
	if (app_configure(NULL, cfg, err, sizeof(err))) {
		fail_msg("config: %s", err);
	}
	err_start = app_start();
	running = err_start == 0;
	return err_start;
}

int h_start_err(const char *extra_cfg)
{
	return start_err(extra_cfg, 0);
}

void h_stop(void)
{
	app_stop();
	running = 0;
	assert_int_equal(mod_pools_used(), 0);
	assert_int_equal(sip_txn_count(), 0);
	assert_int_equal(tmr_count(), 0);
	assert_int_equal(mem_blocks(), 0);
	assert_int_equal(mem_used(), 0);
}

int h_client(int n)
{
	struct port_addr a;
	char ip[32];
	int sock;

	snprintf(ip, sizeof(ip), "10.0.0.%d", n);
	assert_int_equal(sd_addr_parse(&a, ip, 5060), 0);
	assert_int_equal(port_udp_open(&sock, &a), 0);
	return sock;
}

/* Send head with its LF line ends made CRLF, then body as it is, as one
 * datagram. */
static void send_parts(int sock, const char *head, const char *body)
{
	static char out[16384];
	struct port_addr srv;
	size_t i, o = 0, bl = strlen(body);

	for (i = 0; head[i]; i++) {
		assert_true(o + 2 < sizeof(out));
		if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
			out[o++] = '\r';
		}
		out[o++] = head[i];
	}
	assert_true(o + bl <= sizeof(out));
	memcpy(out + o, body, bl);
	assert_int_equal(sd_addr_parse(&srv, H_SERVER, 5060), 0);
	assert_int_equal(port_sendto(sock, out, o + bl, &srv), 0);
}

static void vsend(int sock, const char *fmt, va_list ap)
{
	static char raw[16384];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	assert_true(n > 0 && (size_t)n < sizeof(raw));
	send_parts(sock, raw, "");
}

void h_send(int sock, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsend(sock, fmt, ap);
	va_end(ap);
}

const char *h_send_wait(int sock, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsend(sock, fmt, ap);
	va_end(ap);
	return h_wait(sock);
}

void h_run(uint32_t ms)
{
	uint32_t end = port_now_ms() + ms;

	do {
		int left = (int)(end - port_now_ms());

		loop_once(left > 0 ? left : 0);
	} while (tmr_before(port_now_ms(), end) || sim_pending());
}

const char *h_recv(int sock)
{
	struct port_addr src;
	size_t len = sizeof(rxbuf) - 1;

	if (port_recvfrom(sock, rxbuf, &len, &src)) {
		return NULL;
	}
	rxbuf[len] = '\0';
	return rxbuf;
}

const char *h_wait(int sock)
{
	h_run(10);
	return h_recv(sock);
}

unsigned h_drain(int sock)
{
	unsigned n = 0;

	while (h_recv(sock)) {
		n++;
	}
	return n;
}

int h_final(int sock)
{
	const char *m;
	int code = 0;

	while ((m = h_recv(sock)) != NULL) {
		if (h_status(m) >= 200) {
			code = h_status(m);
		}
	}
	return code;
}

unsigned h_oom_sweep(h_exchange_h *x, h_settle_h *settle, const int *ok)
{
	unsigned long n, before;
	unsigned failed = 0;
	const int *o;
	int code;

	for (n = 1; n < 1000; n++) {
		before = mem_fails();
		mem_fail_nth(n);
		code = x((int)n, 0);
		if (!code) {
			code = x((int)n, 1);
		}
		mem_fail_nth(0);
		if (settle) {
			settle((int)n);
		}
		for (o = ok; *o && *o != code; o++) {
		}
		if (!*o) {
			print_error("allocation %lu failed: final status %d\n",
				    n, code);
			fail();
		}
		if (mem_fails() == before) {
			return failed; /* no n-th allocation: all were tried */
		}
		failed++;
	}
	fail_msg("more than 1000 allocations in one exchange");
	return failed;
}

static const char *hdr_next(const char *p, const char *name, size_t *vl);

/* The value of parameter name (quoted or not) in a challenge line. */
static void chal_param(const char *line, const char *name, char *buf,
		       size_t size)
{
	char key[32];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), "%s=", name);
	buf[0] = '\0';
	p = strstr(line, key);
	if (!p) {
		return;
	}
	p += strlen(key);
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else {
		n = strcspn(p, ", \r\n");
	}
	if (n >= size) {
		n = size - 1;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
}

const char *h_digest(const char *resp, unsigned n, const char *user,
		     const char *password, const char *method,
		     const char *uri, unsigned nc)
{
	static char out[1024];
	int proxy = h_status(resp) == 407;
	const char *name = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
	char line[512], realm[128], nonce[128], alg[16], ha1[SIP_HEX_MAX];
	char rsp[SIP_HEX_MAX], ncs[16], cnonce[17];
	const char *p = resp;
	enum sip_auth_alg a;
	size_t vl;

	assert_non_null(resp);
	do {
		p = hdr_next(p, name, &vl);
		assert_non_null(p);
	} while (n--);
	assert_true(vl < sizeof(line));
	memcpy(line, p, vl);
	line[vl] = '\0';
	chal_param(line, "realm", realm, sizeof(realm));
	chal_param(line, "nonce", nonce, sizeof(nonce));
	chal_param(line, "algorithm", alg, sizeof(alg));
	assert_int_equal(sip_auth_alg_parse(alg, strlen(alg), &a), 0);
	sip_auth_ha1(a, user, realm, password, ha1);
	snprintf(ncs, sizeof(ncs), "%08x", nc);
	sd_rand_hex(cnonce, 16);
	sip_auth_response(a, ha1, nonce, ncs, cnonce, method, uri, rsp);
	snprintf(out, sizeof(out),
		 "%s: Digest username=\"%s\", realm=\"%s\", "
		 "nonce=\"%s\", uri=\"%s\", response=\"%s\", "
		 "algorithm=%s, cnonce=\"%s\", qop=auth, nc=%s\n",
		 proxy ? "Proxy-Authorization" : "Authorization", user, realm,
		 nonce, uri, rsp, alg, cnonce, ncs);
	return out;
}

int h_status(const char *msg)
{
	if (!msg || strncmp(msg, "SIP/2.0 ", 8)) {
		return 0;
	}
	return atoi(msg + 8);
}

static const char *hdr_next(const char *p, const char *name, size_t *vl)
{
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (p[0] == '\r') {
			return NULL; /* end of headers */
		}
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ') {
				v++;
			}
			*vl = strcspn(v, "\r");
			return v;
		}
	}
	return NULL;
}

const char *h_hdr(const char *msg, const char *name)
{
	size_t vl;
	const char *v = msg ? hdr_next(msg, name, &vl) : NULL;

	if (!v) {
		return NULL;
	}
	if (vl >= sizeof(hdrbuf)) {
		vl = sizeof(hdrbuf) - 1;
	}
	memcpy(hdrbuf, v, vl);
	hdrbuf[vl] = '\0';
	return hdrbuf;
}

unsigned h_hdr_count(const char *msg, const char *name)
{
	unsigned n = 0;
	size_t vl;
	const char *p = msg;

	while (p && (p = hdr_next(p, name, &vl)) != NULL) {
		n++;
	}
	return n;
}

const char *h_token(void)
{
	snprintf(tokbuf, sizeof(tokbuf), "t%06u", ++tokn);
	return tokbuf;
}

/* user, or user@host, as user@host into buf. */
static const char *aor(char *buf, size_t size, const char *user)
{
	snprintf(buf, size, "%s%s", user,
		 strchr(user, '@') ? "" : "@" H_DOMAIN);
	return buf;
}

/* s, or a fresh token when s is NULL, into buf. */
static const char *or_token(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s ? s : h_token());
	return buf;
}

/* Append "name: val" LF to head when val is set (name NULL: val holds
 * whole lines). */
static void put(char *head, size_t size, const char *name, const char *val)
{
	size_t l = strlen(head);
	int n;

	if (!val) {
		return;
	}
	n = snprintf(head + l, size - l, "%s%s%s%s", name ? name : "",
		     name ? ": " : "", val, name ? "\n" : "");
	assert_true(n >= 0 && (size_t)n < size - l);
}

void h_request(int sock, const struct h_req *r)
{
	static char head[4096];
	char from[128], to[128], ruri[160], branch[64], ftag[64], cid[2048];
	char len[24];
	const char *body = r->body ? r->body : "";

	assert_non_null(r->method);
	assert_non_null(r->from);
	aor(from, sizeof(from), r->from);
	aor(to, sizeof(to), r->to ? r->to : r->from);
	if (r->ruri) {
		snprintf(ruri, sizeof(ruri), "%s", r->ruri);
	} else if (!strcmp(r->method, "REGISTER")) {
		snprintf(ruri, sizeof(ruri), "sip:%s", strchr(to, '@') + 1);
	} else {
		snprintf(ruri, sizeof(ruri), "sip:%s", to);
	}
	snprintf(head, sizeof(head),
		 "%s %s SIP/2.0\n"
		 "Via: SIP/2.0/UDP 10.0.0.%d:5060;branch=z9hG4bK%s%s\n"
		 "Max-Forwards: 70\n"
		 "From: <sip:%s>;tag=%s\n"
		 "To: <sip:%s>%s%s\n"
		 "Call-ID: %s\n"
		 "CSeq: %u %s\n",
		 r->method, ruri, r->n,
		 or_token(branch, sizeof(branch), r->branch),
		 r->rport ? ";rport" : "", from,
		 or_token(ftag, sizeof(ftag), r->from_tag), to,
		 r->to_tag ? ";tag=" : "", r->to_tag ? r->to_tag : "",
		 or_token(cid, sizeof(cid), r->call_id),
		 r->cseq ? r->cseq : 1, r->method);
	put(head, sizeof(head), "Event", r->event);
	put(head, sizeof(head), "Contact", r->contact);
	put(head, sizeof(head), NULL, r->hdrs);
	if (r->body) {
		put(head, sizeof(head), "Content-Type",
		    r->ctype ? r->ctype : "text/plain");
	}
	snprintf(len, sizeof(len), "%zu", strlen(body));
	put(head, sizeof(head), "Content-Length", len);
	put(head, sizeof(head), NULL, "\n");
	send_parts(sock, head, body);
}

const char *h_request_wait(int sock, const struct h_req *r)
{
	h_request(sock, r);
	return h_wait(sock);
}

int h_register(int sock, int n, const char *user, int expires)
{
	static unsigned cseq;
	char cid[64], contact[96], hdrs[32];

	snprintf(cid, sizeof(cid), "reg-%s-%d", user, n);
	snprintf(contact, sizeof(contact), "<sip:%s@10.0.0.%d:5060>", user,
		 n);
	snprintf(hdrs, sizeof(hdrs), "Expires: %d\n", expires);
	return h_status(h_request_wait(sock, &(struct h_req){
		.method = "REGISTER", .n = n, .from = user, .call_id = cid,
		.cseq = ++cseq, .contact = contact, .hdrs = hdrs}));
}

void h_message(int sock, int n, const char *to, const char *token,
	       const char *extra, const char *body)
{
	char tag[64], cid[64];

	snprintf(tag, sizeof(tag), "b%s", token);
	snprintf(cid, sizeof(cid), "m-%s", token);
	h_request(sock, &(struct h_req){.method = "MESSAGE", .n = n,
		.from = "bob", .to = to, .from_tag = tag, .call_id = cid,
		.branch = token, .rport = 1, .hdrs = extra, .body = body});
}

/* A response to req with code, LF line ends, without Content-Length. */
static const char *answer_text(const char *req, int code)
{
	static const char *const copied[] = {"Via", "From", "To", "Call-ID",
					     "CSeq"};
	static char out[8192];
	size_t o, i;

	o = (size_t)snprintf(out, sizeof(out), "SIP/2.0 %d Whatever\n", code);
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		const char *v = h_hdr(req, copied[i]);

		assert_non_null(v);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s: %s%s\n",
				      copied[i], v ? v : "",
				      !strcmp(copied[i], "To") && v &&
				      !strstr(v, ";tag=") ? ";tag=u" : "");
		assert_true(o < sizeof(out));
	}
	return out;
}

void h_answer(int sock, const char *req, int code)
{
	h_send(sock, "%sContent-Length: 0\n\n", answer_text(req, code));
}

void h_answer_hdrs(int sock, const char *req, int code, const char *hdrs)
{
	h_send(sock, "%s%sContent-Length: 0\n\n", answer_text(req, code),
	       hdrs);
}

void h_answer_tcp(int sock, const char *req, int code)
{
	h_tcp_send(sock, "%sContent-Length: 0\n\n", answer_text(req, code));
}

const char *h_body(const char *msg)
{
	const char *b = msg ? strstr(msg, "\r\n\r\n") : NULL;

	return b ? b + 4 : "";
}

/* ------------------------------------------------------------------ TCP */

static char tcp_in[65536];
static size_t tcp_in_len;
static char tcp_msg[65536];

int h_tcp_client(int n)
{
	struct port_addr from, to;
	char ip[32];
	int sock;

	snprintf(ip, sizeof(ip), "10.0.0.%d", n);
	assert_int_equal(sd_addr_parse(&from, ip, 0), 0);
	assert_int_equal(sd_addr_parse(&to, H_SERVER, 5060), 0);
	assert_int_equal(sim_tcp_connect(&sock, &from, &to), 0);
	tcp_in_len = 0;
	return sock;
}

void h_tcp_send(int sock, const char *fmt, ...)
{
	static char raw[16384], out[16384];
	size_t i, o = 0, sent;
	int in_body = 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(raw));
	for (i = 0; raw[i]; i++) {
		if (!in_body && raw[i] == '\n' && (i == 0 ||
						   raw[i - 1] != '\r')) {
			out[o++] = '\r';
		}
		out[o++] = raw[i];
		if (!in_body && i >= 1 && raw[i] == '\n' &&
		    raw[i - 1] == '\n') {
			in_body = 1;
		}
	}
	assert_int_equal(port_send(sock, out, o, &sent), 0);
	assert_int_equal(sent, o);
}

/* Move what the server sent into tcp_in. */
static void tcp_fill(int sock)
{
	size_t got = 0;

	while (tcp_in_len < sizeof(tcp_in) - 1 &&
	       !port_recv(sock, tcp_in + tcp_in_len,
			  sizeof(tcp_in) - 1 - tcp_in_len, &got) && got) {
		tcp_in_len += got;
	}
	tcp_in[tcp_in_len] = '\0';
}

const char *h_tcp_recv(int sock)
{
	const char *hend, *cl;
	size_t hlen, len;

	h_run(10);
	tcp_fill(sock);
	hend = memmem(tcp_in, tcp_in_len, "\r\n\r\n", 4);
	if (!hend) {
		return NULL;
	}
	hlen = (size_t)(hend - tcp_in) + 4;
	cl = memmem(tcp_in, hlen, "\r\nContent-Length: ", 18);
	len = hlen + (cl ? strtoul(cl + 18, NULL, 10) : 0);
	if (len > tcp_in_len) {
		return NULL;
	}
	memcpy(tcp_msg, tcp_in, len);
	tcp_msg[len] = '\0';
	memmove(tcp_in, tcp_in + len, tcp_in_len - len);
	tcp_in_len -= len;
	return tcp_msg;
}

const char *h_tcp_pending(void)
{
	tcp_in[tcp_in_len] = '\0';
	return tcp_in;
}

int h_tcp_closed(int sock)
{
	char b[1];
	size_t got = 1;

	/* Nothing asked for: 0 only at the end of the stream. */
	return port_recv(sock, b, 0, &got) == 0;
}
