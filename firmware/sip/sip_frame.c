/** @file sip_frame.c  Framing of a SIP byte stream (TCP): where the next
 * message starts and ends, what to answer when it cannot be taken. Pure:
 * no I/O, no state, so it is fuzzed on its own (tests/host/fuzz).
 */
#include <errno.h>
#include <string.h>

#include "sip_priv.h"

/* A refused message's body longer than this is not skipped: the
 * connection closes after the 513. */
#define FRAME_SKIP_MAX (64 * (size_t)CONFIG_SIMPLED_MAX_MSG_SIZE)

/* How many keep-alive pings (CRLF CRLF) are in the n bytes at p. */
static unsigned count_pings(const char *p, size_t n)
{
	unsigned pings = 0;
	size_t i;

	for (i = 0; i + 3 < n; i++) {
		if (!memcmp(p + i, "\r\n\r\n", 4)) {
			pings++;
			i += 3;
		}
	}
	return pings;
}

/* The header section up to and with its empty line, however the line
 * ends are written (CRLF or LF, as the parser takes them); byte by byte,
 * so a quoted NUL (RFC 4475 intmeth) is no end. @return its length, 0
 * when it has not all arrived. */
static size_t head_len(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n') {
			continue;
		}
		if (i + 1 < len && p[i + 1] == '\n') {
			return i + 2;
		}
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
			return i + 3;
		}
	}
	return 0;
}

void sip_frame_next(const char *buf, size_t len, struct sip_frame *f)
{
	uint32_t cl;
	int err;

	memset(f, 0, sizeof(*f));
	/* CRLF keep-alives between messages (RFC 5626 3.5.1). */
	while (f->lead < len &&
	       (buf[f->lead] == '\r' || buf[f->lead] == '\n')) {
		f->lead++;
	}
	f->pings = count_pings(buf, f->lead);
	buf += f->lead;
	len -= f->lead;
	f->what = SIP_FRAME_MORE;
	if (!len) {
		return;
	}
	f->hlen = head_len(buf, len);
	if (!f->hlen) {
		if (len >= CONFIG_SIMPLED_MAX_MSG_SIZE) {
			f->what = SIP_FRAME_CLOSE; /* a head past the limit */
		}
		return;
	}
	err = sip_frame_content_length(buf, f->hlen, &cl);
	if (err == EBADMSG) {
		/* Where the body ends is unknown (RFC 4475 ncl, mcl01). */
		f->what = SIP_FRAME_CLOSE;
		f->code = 400;
		f->reason = "Malformed Content-Length header";
		return;
	}
	if (err) {
		/* RFC 3261 18.3: a stream message must say its length; taken
		 * as one without a body. */
		f->what = SIP_FRAME_REFUSE;
		f->code = 400;
		f->reason = "Missing Content-Length";
		return;
	}
	if (cl > CONFIG_SIMPLED_MAX_MSG_SIZE - f->hlen) {
		/* Checked before adding: no wrap on 32 bits. */
		f->what = cl > FRAME_SKIP_MAX ? SIP_FRAME_CLOSE :
			  SIP_FRAME_REFUSE;
		f->code = 513;
		f->skip = cl;
		return;
	}
	if (len >= f->hlen + cl) {
		f->what = SIP_FRAME_MESSAGE;
		f->len = f->hlen + cl;
	}
}
