"""What every benchmark script needs: a fresh bench database and a free port."""

import socket
import urllib.parse

import psycopg
from psycopg import sql


def recreate_database(url: str) -> None:
    """Drop and create the database of `url`, which must be a bench database."""
    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    if not name.startswith("urakata_bench"):  # never drop anything but a bench database
        raise SystemExit(f"Refusing to drop {name!r}: the bench database's name starts with urakata_bench.")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
