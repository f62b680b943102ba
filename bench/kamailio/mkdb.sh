#!/usr/bin/env bash
# Creates a fresh SQLite file for bench/kamailio/full.cfg with exactly the
# tables it uses, from the schema files Debian ships with
# kamailio-sqlite-modules (/usr/share/kamailio/db_sqlite):
#   version                                     standard-create.sql
#   silo                                        msilo-create.sql
#   presentity, active_watchers, watchers, xcap presence-create.sql
#   imc_rooms, imc_members                      imc-create.sql
# (presence-create.sql also makes pua, which full.cfg does not use: left out.)
# Usage: bench/kamailio/mkdb.sh DBFILE   (an existing DBFILE is replaced)
set -eu
db=${1:?usage: mkdb.sh DBFILE}
dir=${KAMAILIO_SQL_DIR:-/usr/share/kamailio/db_sqlite}
for f in standard msilo presence imc; do
	if [ ! -r "$dir/$f-create.sql" ]; then
		echo "mkdb.sh: $dir/$f-create.sql missing" \
			"(apt-get install kamailio-sqlite-modules)" >&2
		exit 1
	fi
done
want="version silo presentity active_watchers watchers xcap imc_rooms imc_members"
rm -f "$db" "$db-journal" "$db-wal" "$db-shm"
# Every statement of the files (they end in ";" at a line end) whose table,
# the name after CREATE TABLE / ON / INTO, is in $want.
sql=$(for f in standard msilo presence imc; do cat "$dir/$f-create.sql"; echo; done |
	awk -v want=" $want " '
	BEGIN { RS = ";[ \t]*\n" }
	{
		s = $0
		gsub(/^[ \t\n]+/, "", s)
		if (s == "") next
		if (match(s, /^CREATE TABLE [A-Za-z0-9_]+/))
			t = substr(s, 14, RLENGTH - 13)
		else if (match(s, /^CREATE (UNIQUE )?INDEX [A-Za-z0-9_]+ ON [A-Za-z0-9_]+/)) {
			n = split(substr(s, RSTART, RLENGTH), w, " ")
			t = w[n]
		} else if (match(s, /^INSERT INTO version .*values \(\x27[A-Za-z0-9_]+\x27/)) {
			u = substr(s, RSTART, RLENGTH)
			sub(/.*values \(\x27/, "", u)
			sub(/\x27$/, "", u)
			t = u
		} else {
			print "mkdb.sh: statement not understood: " substr(s, 1, 60) > "/dev/stderr"
			exit 2
		}
		if (index(want, " " t " ")) print s ";"
	}')
# Run the statements in one transaction; then list the tables made.
if command -v sqlite3 > /dev/null; then
	printf 'BEGIN;\n%s\nCOMMIT;\n' "$sql" | sqlite3 -bail "$db"
	got=$(sqlite3 "$db" "select name from sqlite_master where type='table'")
elif command -v python3 > /dev/null; then
	got=$(printf '%s\n' "$sql" | python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("BEGIN;" + sys.stdin.read() + "COMMIT;")
print("\n".join(r[0] for r in
                c.execute("select name from sqlite_master where type=\"table\"")))
' "$db")
else
	echo "mkdb.sh: needs sqlite3 (apt-get install sqlite3) or python3" >&2
	exit 1
fi
got=" $(printf '%s' "$got" | tr '\n' ' ') "
for t in $want; do
	case "$got" in
	*" $t "*) ;;
	*) echo "mkdb.sh: table $t not created in $db" >&2; exit 1 ;;
	esac
done
