/*
 * collector._heads: the reader's hot loop in C (optional; collector/reader.py has the same loop
 * in Python and is used when this module was not built).
 *
 * candidates(buffer, first, last) -> list[bytes]
 *
 * Looks at every line that starts at `first` or right after a newline, up to the newline at
 * `last`, and returns, in order and without their newline, the lines whose head is that of a
 * usage-bearing line as Codex writes it. The head test is collector.reader._head_kind:
 *
 *   {"timestamp":"<0 to 40 bytes, no quote, no newline>",["ordinal":<digits>,]"type":"<kind>"
 *
 * where <kind>" is session_meta", turn_context", token_usage_record", inter_agent_communication",
 * inter_agent_communication_metadata", or event_msg","payload":{"type":" followed by token_count",
 * task_started" or thread_settings_applied". A line that does not begin that way up to the opening
 * quote of its type (another key order, spacing or timestamp) is tested as
 * collector.parse.HEAD tests it, in its first HEAD_WINDOW bytes, so no usage line is lost for its
 * layout. Only the head of a line is ever compared; memchr finds the ends.
 *
 * fresh_candidates(buffer, first, last, previous) -> (lines, previous, dropped)
 *
 * The same, less each token_count line whose serialized info (cut as collector.reader._info_of
 * cuts it) is byte for byte the one of the token_count line before: Codex's re-emits, about half
 * of all rows (R4). `previous` carries that info from one call to the next (None at a file's
 * start); `dropped` counts the lines left out.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* (defines _GNU_SOURCE where memmem needs it) */
#include <string.h>

#define LIT(s) s, (sizeof(s) - 1)

static int starts(const char *p, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* collector.parse.HEAD_WINDOW, LINE_KINDS and EVENT_KINDS, each kind with its closing quote. */
#define HEAD_WINDOW 320
static const char *const line_kinds[] = {
    "session_meta\"", "turn_context\"", "token_usage_record\"", "inter_agent_communication\"",
    "inter_agent_communication_metadata\"", NULL};
static const char *const event_kinds[] = {"token_count\"", "task_started\"",
                                          "thread_settings_applied\"", NULL};

/* Past one of `kinds` at p (ending by `end`), or NULL. */
static const char *kind_at(const char *p, const char *end, const char *const *kinds)
{
    for (; *kinds != NULL; kinds++) {
        size_t n = strlen(*kinds);
        if (starts(p, end, *kinds, n))
            return p + n;
    }
    return NULL;
}

/* Python's bytes \s: space, \t, \n, \v, \f, \r. */
static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
        p++;
    return p;
}

/* Past `lit`, then \s*, at p, or NULL. */
static const char *token(const char *p, const char *end, const char *lit, size_t n)
{
    return starts(p, end, lit, n) ? skip_space(p + n, end) : NULL;
}

/* Whether collector.parse.HEAD matches the bytes [p, end) somewhere:
 * "type"\s*:\s*"<line kind>" or "payload"\s*:\s*{\s*"type"\s*:\s*"<event kind>". */
static int tolerant_head(const char *p, const char *end)
{
    for (; p < end; p++) {
        if (*p != '"')
            continue;
        const char *q = token(p, end, LIT("\"type\""));
        if (q && (q = token(q, end, LIT(":"))) && starts(q, end, LIT("\"")) &&
            kind_at(q + 1, end, line_kinds))
            return 1;
        q = token(p, end, LIT("\"payload\""));
        if (q && (q = token(q, end, LIT(":"))) && (q = token(q, end, LIT("{"))) &&
            (q = token(q, end, LIT("\"type\""))) && (q = token(q, end, LIT(":"))) &&
            starts(q, end, LIT("\"")) && kind_at(q + 1, end, event_kinds))
            return 1;
    }
    return 0;
}

/* The compact head test for the line [p, end): 0 when it is not usage-bearing, 1 when it is, 2 for
 * a token_count line, with *after set to the end of the head (just past `token_count"`); -1 when
 * the line does not begin as Codex's compact lines do (the tolerant test decides). */
static int compact_kind(const char *p, const char *end, const char **after)
{
    if (!starts(p, end, LIT("{\"timestamp\":\"")))
        return -1;
    p += sizeof("{\"timestamp\":\"") - 1;
    const char *stamp_end = p;
    while (stamp_end < end && *stamp_end != '"' && stamp_end - p < 41)
        stamp_end++;
    if (stamp_end - p > 40 || !starts(stamp_end, end, LIT("\",")))
        return -1;
    p = stamp_end + 2;
    if (starts(p, end, LIT("\"ordinal\":"))) {
        const char *digits = p + sizeof("\"ordinal\":") - 1, *q = digits;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q > digits && starts(q, end, LIT(",")))
            p = q + 1; /* else, as the regex, the head is tried without an ordinal */
    }
    if (!starts(p, end, LIT("\"type\":\"")))
        return -1;
    p += sizeof("\"type\":\"") - 1;
    if (kind_at(p, end, line_kinds))
        return 1;
    if (!starts(p, end, LIT("event_msg\",\"payload\":{\"type\":\"")))
        return 0;
    p += sizeof("event_msg\",\"payload\":{\"type\":\"") - 1;
    const char *past = kind_at(p, end, event_kinds);
    if (past == NULL)
        return 0;
    if (!starts(p, end, LIT("token_count\"")))
        return 1;
    *after = past;
    return 2;
}

/* The head test for the line [p, end): 0 when it is not usage-bearing, else 1; for a token_count
 * line in compact form 2 (see compact_kind); 3 for a line the tolerant test let through. */
static int head_kind(const char *p, const char *end, const char **after)
{
    int kind = compact_kind(p, end, after);
    if (kind >= 0)
        return kind;
    const char *window = end - p > HEAD_WINDOW ? p + HEAD_WINDOW : end;
    return tolerant_head(p, window) ? 3 : 0;
}

/* The serialized info of a token_count line whose head ends at `p`, as collector.reader._info_of
 * cuts it: after `,"info":`, up to `,"rate_limits":` (or the line's closing `}}`), with no text
 * value in it. Returns 0 when it cannot be cut that way. */
static int info_of(const char *p, const char *end, const char **start, const char **stop)
{
    if (!starts(p, end, LIT(",\"info\":")))
        return 0;
    p += sizeof(",\"info\":") - 1;
    const char *cut = memmem(p, end - p, LIT(",\"rate_limits\":"));
    if (cut == NULL) {
        if (end - p < 2 || end[-1] != '}' || end[-2] != '}')
            return 0;
        cut = end - 2;
    }
    if (memmem(p, cut - p, LIT("\":\"")) != NULL)
        return 0;
    *start = p;
    *stop = cut;
    return 1;
}
/* Both functions below: the lines that start at `first` or right after a newline, up to the
 * newline at `last`. */
static PyObject *scan(Py_buffer *view, Py_ssize_t first, Py_ssize_t last, PyObject **previous,
                      Py_ssize_t *dropped)
{
    if (first < 0 || last < first || last >= view->len) {
        PyErr_SetString(PyExc_ValueError, "first and last must satisfy 0 <= first <= last < len");
        return NULL;
    }
    const char *buf = view->buf;
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    const char *line = buf + first;
    const char *stop = buf + last + 1; /* one past the last newline */
    while (line < stop) {
        const char *nl = memchr(line, '\n', stop - line);
        if (nl == NULL)
            nl = stop - 1; /* as the Python loop: buf[last] should be a newline */
        const char *after = NULL;
        int kind = head_kind(line, nl, &after);
        if (kind == 3 && previous != NULL) {
            Py_CLEAR(*previous); /* a token_count line in another layout: not compared */
        } else if (kind == 2 && previous != NULL) {
            const char *start, *cut;
            if (!info_of(after, nl, &start, &cut)) {
                Py_CLEAR(*previous); /* cannot tell: the next line is not compared */
            } else if (!(cut - start == 4 && memcmp(start, "null", 4) == 0)) {
                if (*previous != NULL && PyBytes_GET_SIZE(*previous) == cut - start &&
                    memcmp(PyBytes_AS_STRING(*previous), start, cut - start) == 0) {
                    (*dropped)++;
                    line = nl + 1;
                    continue;
                }
                PyObject *info = PyBytes_FromStringAndSize(start, cut - start);
                if (info == NULL) {
                    Py_DECREF(found);
                    return NULL;
                }
                Py_XSETREF(*previous, info);
            }
        }
        if (kind) {
            PyObject *item = PyBytes_FromStringAndSize(line, nl - line);
            if (item == NULL || PyList_Append(found, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(found);
                return NULL;
            }
            Py_DECREF(item);
        }
        line = nl + 1;
    }
    return found;
}

static PyObject *candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t first, last;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &first, &last))
        return NULL;
    PyObject *found = scan(&view, first, last, NULL, NULL);
    PyBuffer_Release(&view);
    return found;
}

static PyObject *fresh_candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t first, last, dropped = 0;
    PyObject *given;
    if (!PyArg_ParseTuple(args, "y*nnO", &view, &first, &last, &given))
        return NULL;
    if (given != Py_None && !PyBytes_Check(given)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "previous must be bytes or None");
        return NULL;
    }
    PyObject *previous = given == Py_None ? NULL : Py_NewRef(given);
    PyObject *found = scan(&view, first, last, &previous, &dropped);
    PyBuffer_Release(&view);
    if (found == NULL) {
        Py_XDECREF(previous);
        return NULL;
    }
    PyObject *result = Py_BuildValue("(NNn)", found, previous ? previous : Py_NewRef(Py_None),
                                     dropped);
    return result;
}

static PyMethodDef methods[] = {
    {"candidates", candidates, METH_VARARGS,
     "candidates(buffer, first, last) -> list of the usage-bearing lines between first and the "
     "newline at last."},
    {"fresh_candidates", fresh_candidates, METH_VARARGS,
     "fresh_candidates(buffer, first, last, previous) -> (lines, previous, dropped): as "
     "candidates, leaving out each token_count line whose info repeats the one before's."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "collector._heads",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__heads(void)
{
    return PyModule_Create(&module);
}
