/** @file imc.h  Chat rooms (Kamailio imc): IRC-like rooms driven by
 * #commands in MESSAGE bodies, with roles, fan-out, offline members,
 * history replay, and rooms and members kept in LMDB.
 */
#ifndef IMC_H
#define IMC_H

#include <stddef.h>

#include "simpled_config.h"

struct mod;

/** Most `list extra_hdr` lines. */
#define IMC_MAX_EXTRA_HDRS 8

/** Section `imc`; names and defaults follow Kamailio's imc. */
struct imc_cfg {
	char manager[64];		/**< user part of the manager URI */
	/** "" = conference.<first served domain> */
	char rooms_domain[CONFIG_SIMPLED_MAX_STR];
	char imc_cmd_start_char[2];
	int create_on_join;
	int check_on_create;
	/** header lines "Name: value" added to what rooms send */
	char extra_hdr[IMC_MAX_EXTRA_HDRS][CONFIG_SIMPLED_MAX_STR];
	unsigned n_extra_hdr;
	char outbound_proxy[CONFIG_SIMPLED_MAX_STR];
	int offline_members;
	int history_size;
	int max_members;		/**< per room; 0: only the pool */
	int max_rooms_per_source;	/**< rooms one source created; 0:
					 * only the pool */
};

extern struct imc_cfg imc_cfg;
/** The chat room module (section `imc`, pools rooms, room_members,
 * room_sources). */
extern const struct mod imc_mod;

unsigned imc_room_count(void);
/** h for each room: its name, members and whether it is private.
 * @return how many. */
unsigned imc_walk_rooms(void (*h)(const char *room, unsigned members,
				  int private_room, void *arg), void *arg);
/** h for each member of room (any case): user@domain and role.
 * @return ENOENT when there is no such room, else 0. */
int imc_walk_members(const char *room,
		     void (*h)(const char *user, const char *role, void *arg),
		     void *arg);
unsigned imc_member_count(void);

/* ----------------------------------------------- commands (imc_cmd.c) */

enum imc_cmd_kind {
#define IMC_CMD(id, name) IMC_##id,
#include "imc_cmds.def"
#undef IMC_CMD
	IMC__COUNT
};

enum imc_role {
	IMC_NONE = 0,	/**< not in the room */
	IMC_INVITED,
	IMC_MEMBER,
	IMC_ADMIN,
	IMC_OWNER,
};

#define IMC_NAME_MAX 64
#define IMC_ARG_MAX 256

struct imc_cmd {
	enum imc_cmd_kind kind;
	char user[IMC_ARG_MAX];	/**< the <user> argument, "" when none */
	char room[IMC_NAME_MAX];	/**< the [room] argument, "" when none */
	int private_room;	/**< create ... private */
	enum imc_role role;	/**< modify: the new role */
};

/**
 * Parse a command body (after the start character). @return 0, or EINVAL
 * with *why naming the problem ("unknown command 'x'", ...).
 */
int imc_cmd_parse(const char *text, size_t len, struct imc_cmd *c,
		  const char **why);
/** Is role allowed to run kind? */
int imc_cmd_allowed(enum imc_role role, enum imc_cmd_kind kind);
const char *imc_cmd_name(enum imc_cmd_kind kind);
const char *imc_role_name(enum imc_role role);
/** A valid room name: 1..63 of letters, digits, '.', '_', '-'. */
int imc_room_name_ok(const char *name);
/**
 * A <user> argument ("sip:u@d", "u@d", or "u" in domain dflt_domain) as
 * "user@domain": the user part as it compares (escapes of unreserved
 * characters decoded), of RFC 3261 user characters and escapes but an
 * escaped NUL, the domain a host name or IP literal, lower-cased.
 * @return 0, or EINVAL with *why saying what is wrong.
 */
int imc_user_norm(const char *arg, const char *dflt_domain, char *out,
		  size_t size, const char **why);

#endif
