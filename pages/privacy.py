"""Privacy and method: what is uploaded and what never is, how tokens are counted, the FAQ."""

from pathlib import Path

import streamlit as st

from pages.lib.data import db_url, say_if_unreachable
from pages.lib.routing import routed
from pages.lib.text import ESTIMATE_NOTE

DOCS = Path(__file__).resolve().parent.parent / "docs"

routed("pages/privacy.py")  # routes a deep link through the entry point
st.title("Privacy and method")
say_if_unreachable(db_url())  # the page reads no usage, but the viewer should know
st.header("What is uploaded")
st.markdown(
    """
One record per model response, and nothing else:

| field | meaning |
|---|---|
| `ts` | when the response finished (UTC) |
| `model` | the model name Codex recorded (`unknown` for logs that name none) |
| `tier` | the service tier it ran at, or `unknown` (billing metadata) |
| `input`, `cached`, `cache_write`, `output`, `reasoning` | token counts |
| `event_id` | a keyed hash naming the response, so a re-sync never counts it twice |
| `session` | a keyed hash of the session id |
| `label` | an optional name you give a machine or seat |

`cached` (read from the prompt cache) and `cache_write` (written to it) are parts of `input`,
`reasoning` part of `output`. The tier is `standard`, `priority`, `flex` or `ultrafast`, as the
log names it, and `unknown` when it does not.

The record type cannot hold any other field, and the server refuses any other field too.
Run `codextime scan --json` to see exactly what a sync would send.
"""
)
st.header("What never leaves your machine")
st.markdown(
    """
Prompts, answers, reasoning, tool calls and their output, file contents and paths, the working
folder, git data (repository, branch, commit), instructions and AGENTS.md files, session ids in
clear, rate-limit and plan data, and your sync state (which files were read, how far). A test
plants a marker in every private field of the Codex log format and checks that none comes out.
"""
)
st.header("How tokens are counted")
st.markdown((DOCS / "counting.md").read_text().split("\n", 1)[1])
st.header("FAQ")
st.markdown(
    f"""
**Is the API-equivalent what I paid?** No. {ESTIMATE_NOTE} A ChatGPT plan is billed by
subscription, not by token.

**Why does Codextime show fewer tokens than another tool?** Codex re-emits the same token count
several times, and forks and subagents copy their parent's history; counting those again
inflates totals by up to several times. Codextime counts each model response once.

**Why are my old sessions missing in other tools?** Codex compresses logs older than a week
(`.jsonl.zst`); Codextime reads them.

**Who sees my usage on a shared server?** Only you, with your token. The leaderboard lists
accounts that opted in, with totals and model mix only: never hours or days of activity.

**Why is some of my usage not ranked?** Records that fail the plausibility checks (more tokens in
a minute or a day than one person's Codex sessions can spend) are kept and counted in your own
figures, and the Overview says how many and why, but the leaderboard never ranks them. Records
dated before Codex existed or over a day ahead are kept too, but left out of every figure.

**How do I delete my data?** `DELETE /api/v1/me/usage` on the server erases every record of
your account; locally, delete the embedded store file.
"""
)
