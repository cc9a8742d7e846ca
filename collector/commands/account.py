"""The signed-in account on a server: ``account`` (show, rename, delete), ``leaderboard join``
and ``leave``, and ``open`` (the shared dashboard, signed in by a one-time code).

The server and token are those ``codextime login`` saved (or $CODEXTIME_SERVER and
$CODEXTIME_TOKEN). Everything the server sends back is shown as text, never as markup. The HTTP
client (collector.upload, with httpx and the record type) loads only when one of these runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from collector.config import load_config, save_config, setting
from collector.render import out, shown
from store.errors import UserError

NOT_LOGGED_IN = (
    "this machine is not logged in to a server: `codextime login --server URL` connects it "
    "(`codextime start` opens the dashboard of this machine's own usage)"
)
RANKED_DAYS = 30


def signed_in() -> tuple[str, str]:
    """The server and token this machine is logged in with."""
    server, token = setting("server", None), setting("token", None)
    if not server:
        raise UserError(NOT_LOGGED_IN)
    if not token:
        raise UserError(f"no token for {server}: run `codextime login --server {server}`")
    return server.rstrip("/"), token


# -- account --------------------------------------------------------------------------------


def show() -> None:
    """``codextime account``: the account as the server knows it."""
    server, token = signed_in()
    from collector import upload

    for line in account_lines(upload.me(server, token), server):
        out.print(line, soft_wrap=True)


def account_lines(me: dict, server: str) -> list[str]:
    """The account document of ``GET /api/v1/me`` as lines of text (rich markup, the server's
    strings escaped); fields an older server does not send are left out."""
    lines = [
        f"Account: {shown(me['name'])} (id {_number(me.get('account_id'))}) on {shown(server)}"
    ]
    lines.append(f"Leaderboard: {_standing(me)}")
    records = f"Records: {_number(me.get('records'))}"
    if me.get("first_record") and me.get("last_record"):
        records += f", from {_when(me['first_record'])} to {_when(me['last_record'])}"
    lines.append(records)
    flagged = me.get("flagged") or {}
    if isinstance(flagged, dict) and flagged:
        reasons = ", ".join(f"{shown(why)} {_number(n)}" for why, n in sorted(flagged.items()))
        total = sum(n for n in flagged.values() if type(n) is int)
        lines.append(f"Flagged as implausible (kept, never ranked): {total:,} ({reasons})")
    if me.get("default_label"):
        lines.append(f"Default label: {shown(me['default_label'])}")
    if me.get("profile_url"):
        lines.append(f"Profile: {shown(me['profile_url'])}")
    return lines


def _standing(me: dict) -> str:
    if not me.get("leaderboard_opt_in"):
        return "not joined (`codextime leaderboard join` adds you)"
    rank = me.get("rank_30d")
    if type(rank) is int:
        return f"joined, rank {rank:,} over the last {RANKED_DAYS} days"
    if "rank_30d" in me:
        return f"joined, no usage ranked over the last {RANKED_DAYS} days"
    return "joined"


def _number(value: object) -> str:
    """A count from the server, with thousands separators; anything else as text."""
    return f"{value:,}" if type(value) is int else shown(str(value))


def _when(value: object) -> str:
    """An ISO 8601 time from the server, in UTC to the minute; anything else as text."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return shown(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def rename(name: str) -> None:
    """``codextime account rename``: a new display name (the server may refuse it, and says why)."""
    server, token = signed_in()
    from collector import upload

    me = upload.change_me(server, token, name=name)
    out.print(f"Your account on {shown(server)} is now named {shown(me['name'])}.", soft_wrap=True)


def delete(yes: bool) -> None:
    """``codextime account delete``: the account and all its records, once its name is typed
    (or ``yes``); this machine is then logged out of that server."""
    server, token = signed_in()
    from collector import upload

    me = upload.me(server, token)
    name = str(me["name"])
    if not yes:
        from typer import prompt

        records = me.get("records")
        typed = prompt(
            f"This deletes the account {printable(name)} on {server} and its "
            f"{f'{records:,}' if type(records) is int else 'all'} records, for good. "
            "Type the account's name to go on"
        )
        if typed.strip() != name:
            raise UserError(f"{typed.strip()!r} is not the account's name: nothing was deleted")
    deleted = upload.delete_me(server, token, confirm=name)
    saved = load_config()
    if str(saved.get("server", "")).rstrip("/") == server and saved.get("token") == token:
        save_config({"server": None, "token": None})
    out.print(
        f"Deleted the account {shown(name)} and its {deleted:,} records from {shown(server)}; "
        "this machine is no longer logged in there.",
        soft_wrap=True,
    )


# -- leaderboard ----------------------------------------------------------------------------


def join(name: str | None) -> None:
    """``codextime leaderboard join``: opt in, renamed first if ``name`` is given (one call)."""
    server, token = signed_in()
    from collector import upload

    changes: dict[str, str | bool] = {"leaderboard_opt_in": True}
    if name is not None:
        changes["name"] = name
    me = upload.change_me(server, token, **changes)
    out.print(
        f"{shown(me['name'])} is on the leaderboard of {shown(server)}: tokens and API-equivalent "
        "over 7 days, 30 days and all time. Records flagged as implausible are never ranked.",
        soft_wrap=True,
    )


def leave() -> None:
    """``codextime leaderboard leave``: opt out; the records stay on the server."""
    server, token = signed_in()
    from collector import upload

    me = upload.change_me(server, token, leaderboard_opt_in=False)
    out.print(
        f"{shown(me['name'])} has left the leaderboard of {shown(server)}. Your records stay "
        "there (`codextime account delete` erases them with the account).",
        soft_wrap=True,
    )


# -- open -----------------------------------------------------------------------------------


def open_dashboard(app_url: str | None) -> None:
    """``codextime open``: the shared dashboard in the browser, signed in as this account by a
    one-time code (single use, short-lived: the address may be shown; the token never is)."""
    import webbrowser

    server, token = signed_in()
    from collector import upload

    if app_url is not None:
        app_url = web_address(app_url, "--app-url")
        save_config({"app_url": app_url})
    issued = upload.sign_in_code(server, token)
    code = issued["code"]
    saved = load_config().get("app_url")
    if app_url:
        url = sign_in_url(app_url, code)
    elif issued.get("url"):
        url = web_address(str(issued["url"]), f"{server}'s dashboard address")
    elif isinstance(saved, str) and saved:
        url = sign_in_url(saved, code)
    else:
        raise UserError(
            f"{server} does not say where its dashboard is: give its address once with "
            "`codextime open --app-url URL`"
        )
    until = f", valid until {_when(issued['expires_at'])}" if issued.get("expires_at") else ""
    out.print(f"Signing in at {shown(url)} (single use{until})", soft_wrap=True)
    if not webbrowser.open(url):
        out.print("No browser found here: open that address in one.")


def printable(text: str) -> str:
    """``text`` for a plain (not rich) prompt: anything unprintable, terminal escapes included,
    becomes ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text)


def sign_in_url(app_url: str, code: str) -> str:
    """The dashboard address that exchanges ``code`` for a signed-in session."""
    return f"{app_url.rstrip('/')}/?{urlencode({'signin': code})}"


def web_address(url: str, what: str) -> str:
    """``url`` if it is an http(s) address with a host; a browser is never handed anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"{what} is not an http(s) address: {url[:100]!r}")
    return url
