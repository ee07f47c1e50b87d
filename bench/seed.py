#!/usr/bin/env python3
"""Seeds a ChattConnect database (already migrated by the server) with bulk data
for the scaling benchmark, straight through SQL: users, and for one existing
user ("the viewer") direct chats and one long history.

    seed.py DB users N                  # N more users (user_000001 ...), password as the viewer's
    seed.py DB chats VIEWER N           # N direct chats of VIEWER, 3 messages each
    seed.py DB history VIEWER N UNREAD  # one chat of VIEWER with N messages, the last UNREAD unread
    seed.py DB others N                 # N direct chats between other seeded users, 3 messages each
    seed.py DB groups VIEWER N          # N groups of VIEWER and two seeded users, 3 messages each
    seed.py DB lounge LOUNGE N          # the first N seeded users join the lounge LOUNGE (an id)

DB is sqlite:PATH or a postgres:// URL (loaded with psql's COPY). Prints the id
of the chat it made, for `chats` and `history`.
"""
import csv
import io
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

DB = sys.argv[1]
PG = DB.startswith("postgres")
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def uuid7(ms):
    """A UUID v7 for a time in ms, so ids sort as the server's do."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 66 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def ts(ms):
    t = BASE + timedelta(milliseconds=ms)
    return t.isoformat(timespec="microseconds")


def uid(u):
    return str(u) if PG else u.bytes


def rows_in(table, columns, rows):
    rows = list(rows)
    if PG:
        buf = io.StringIO()
        writer = csv.writer(buf)
        for row in rows:
            writer.writerow(["\\N" if v is None else v for v in row])
        copy = f"\\copy {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        # Bulk rows skip the server's triggers (the seeder sets what they would).
        no_triggers = "SET session_replication_role = replica"
        subprocess.run(["psql", "-q", DB, "-c", no_triggers, "-c", copy], input=buf.getvalue(), text=True, check=True)
    else:
        con = sqlite3.connect(DB.removeprefix("sqlite:"))
        con.execute("PRAGMA synchronous=OFF")
        # SQLite cannot switch triggers off: they are dropped for the load and put back.
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).fetchall()
        for name, _ in triggers:
            con.execute(f"DROP TRIGGER {name}")
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        for _, sql in triggers:
            con.execute(sql)
        con.commit()
        con.close()


def query(sql):
    if PG:
        out = subprocess.run(["psql", "-At", DB, "-c", sql], capture_output=True, text=True, check=True).stdout
        return [line.split("|") for line in out.splitlines() if line]
    con = sqlite3.connect(DB.removeprefix("sqlite:"))
    rows = con.execute(sql).fetchall()
    con.close()
    return rows


def viewer(name):
    column = "id::text" if PG else "id"
    row = query(f"SELECT {column}, password_hash FROM users WHERE username_lower = '{name.lower()}'")[0]
    return (uuid.UUID(row[0]) if PG else uuid.UUID(bytes=row[0])), row[1]


def seed_users(n, password_hash):
    start = int(time.time() * 1000)
    offset = int(query("SELECT count(*) FROM users WHERE username LIKE 'user\\_%' ESCAPE '\\'")[0][0])
    rows = []
    for i in range(offset, offset + n):
        name = f"user_{i:06d}"
        display = f"Member {i:06d}"
        rows.append((uid(uuid7(start + i)), name, name, display, display.lower(), password_hash, "user", "B1", ts(i)))
    rows_in(
        "users",
        ["id", "username", "username_lower", "display_name", "display_name_lower", "password_hash", "role", "level", "created_at"],
        rows,
    )


def direct_chat(me, peer, at):
    chat = uuid7(at)
    low, high = sorted([me, peer])
    rows_in(
        "chats",
        ["id", "kind", "title", "scenario_id", "level", "direct_key", "created_at", "updated_at"],
        [(uid(chat), "direct", None, None, None, f"{low}:{high}", ts(at), ts(at))],
    )
    rows_in(
        "chat_members",
        ["chat_id", "user_id", "last_read_message_id", "hidden", "joined_at", "activity_at"],
        [
            (uid(chat), uid(me), None, False if PG else 0, ts(at), ts(at)),
            (uid(chat), uid(peer), None, False if PG else 0, ts(at), ts(at)),
        ],
    )
    return chat


def peers(n, offset=0):
    column = "id::text" if PG else "id"
    rows = query(
        f"SELECT {column} FROM users WHERE username LIKE 'user\\_%' ESCAPE '\\' ORDER BY username LIMIT {n} OFFSET {offset}"
    )
    return [uuid.UUID(r[0]) if PG else uuid.UUID(bytes=r[0]) for r in rows]


def messages(chat, me, peer, n, start_ms, unread):
    ids = []
    rows = []
    for i in range(n):
        mid = uuid7(start_ms + i)
        ids.append(mid)
        sender = peer if i >= n - unread else (me if i % 2 else peer)
        rows.append((uid(mid), uid(chat), uid(sender), "user", f"message {i} of a long talk", None, ts(start_ms + i), None, i + 1))
        if len(rows) == 100_000:
            rows_in("messages", MESSAGE_COLUMNS, rows)
            rows = []
    if rows:
        rows_in("messages", MESSAGE_COLUMNS, rows)
    if ids:
        execute(f"UPDATE chats SET last_message_id = ?, last_seq = {n} WHERE id = ?", (ids[-1], chat))
    return ids


MESSAGE_COLUMNS = ["id", "chat_id", "sender_id", "role", "content", "feedback", "created_at", "edited_at", "seq"]


def execute(sql, params):
    """One statement with uuid parameters (`?` placeholders)."""
    if PG:
        for p in params:
            sql = sql.replace("?", f"'{p}'", 1)
        query(sql)
    else:
        con = sqlite3.connect(DB.removeprefix("sqlite:"))
        con.execute(sql, tuple(p.bytes for p in params))
        con.commit()
        con.close()


def mark_read(chat, me, message, seq):
    execute(
        f"UPDATE chat_members SET last_read_message_id = ?, last_read_seq = {seq} WHERE chat_id = ? AND user_id = ?",
        (message, chat, me),
    )


what = sys.argv[2]
if what == "users":
    first = query("SELECT username FROM users ORDER BY created_at LIMIT 1")[0][0]
    seed_users(int(sys.argv[3]), viewer(first)[1])
elif what == "chats":
    me, _ = viewer(sys.argv[3])
    n = int(sys.argv[4])
    now = int(time.time() * 1000)
    have = int(query("SELECT count(*) FROM chats WHERE kind = 'direct'")[0][0])
    for i, peer in enumerate(peers(n, have)):
        chat = direct_chat(me, peer, now + i * 10)
        messages(chat, me, peer, 3, now + i * 10, 1)
elif what == "history":
    me, _ = viewer(sys.argv[3])
    n, unread = int(sys.argv[4]), int(sys.argv[5])
    have = int(query("SELECT count(*) FROM chats WHERE kind = 'direct'")[0][0])
    peer = peers(1, have)[0]
    start = int(time.time() * 1000) + 10_000_000
    chat = direct_chat(me, peer, start)
    ids = messages(chat, me, peer, n, start, unread)
    if n > unread:
        mark_read(chat, me, ids[n - unread - 1], n - unread)
    print(chat)
elif what == "others":
    # Other people's chats, so that the tables are not only the viewer's.
    n = int(sys.argv[3])
    users = peers(10_000)
    pairs = ((a, b) for i, a in enumerate(users) for b in users[i + 1 :])
    now = int(time.time() * 1000)
    chats, members, msgs = [], [], []
    for i, (a, b) in zip(range(n), pairs):
        at = now - 10_000_000 - i * 10
        chat, (low, high) = uuid7(at), sorted([a, b])
        ids = [uuid7(at + k) for k in range(3)]
        chats.append((uid(chat), "direct", f"{low}:{high}", ts(at), ts(at), uid(ids[-1])))
        for u in (a, b):
            members.append((uid(chat), uid(u), None, False if PG else 0, ts(at), ts(at)))
        for k, mid in enumerate(ids):
            msgs.append((uid(mid), uid(chat), uid(a if k % 2 else b), "user", f"message {k}", ts(at + k)))
    rows_in("chats", ["id", "kind", "direct_key", "created_at", "updated_at", "last_message_id"], chats)
    rows_in("chat_members", ["chat_id", "user_id", "last_read_message_id", "hidden", "joined_at", "activity_at"], members)
    rows_in("messages", ["id", "chat_id", "sender_id", "role", "content", "created_at"], msgs)
elif what == "groups":
    me, _ = viewer(sys.argv[3])
    n = int(sys.argv[4])
    people = peers(2 * n)
    now = int(time.time() * 1000)
    chats, members, msgs = [], [], []
    for i in range(n):
        at = now + i * 10
        chat = uuid7(at)
        ids = [uuid7(at + k) for k in range(3)]
        chats.append((uid(chat), "group", f"Group {i}", ts(at), ts(at + 2), uid(ids[-1]), 3))
        for j, u in enumerate([me, people[2 * i], people[2 * i + 1]]):
            # The viewer has read the first message: two unread.
            read = 1 if u == me else 0
            members.append((uid(chat), uid(u), "owner" if j == 0 else "member", read, False if PG else 0, ts(at), ts(at + 2)))
        for k, mid in enumerate(ids):
            msgs.append((uid(mid), uid(chat), uid(people[2 * i + k % 2]), "user", f"message {k}", ts(at + k), k + 1))
    rows_in("chats", ["id", "kind", "title", "created_at", "updated_at", "last_message_id", "last_seq"], chats)
    rows_in("chat_members", ["chat_id", "user_id", "role", "last_read_seq", "hidden", "joined_at", "activity_at"], members)
    rows_in("messages", ["id", "chat_id", "sender_id", "role", "content", "created_at", "seq"], msgs)
elif what == "lounge":
    lounge = uuid.UUID(sys.argv[3])
    n = int(sys.argv[4])
    at = int(time.time() * 1000)
    rows_in(
        "chat_members",
        ["chat_id", "user_id", "hidden", "joined_at", "activity_at"],
        [(uid(lounge), uid(u), False if PG else 0, ts(at), ts(at)) for u in peers(n)],
    )
else:
    sys.exit(__doc__)
