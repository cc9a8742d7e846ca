/*
 * collector._heads: the reader's hot loop in C (optional; collector/reader.py has the same loop
 * in Python and is used when this module was not built).
 *
 * candidates(buffer, first, last) -> list[bytes]
 *
 * Looks at every line that starts at `first` or right after a newline, up to the newline at
 * `last`, and returns, in order and without their newline, the lines whose head is that of a
 * usage-bearing line as Codex writes it. The head test is exactly collector.reader._CANDIDATE:
 *
 *   {"timestamp":"<0 to 40 bytes, no quote, no newline>",["ordinal":<digits>,]"type":"<kind>"
 *
 * where <kind>" is session_meta", turn_context", or event_msg","payload":{"type":" followed by
 * token_count" or task_started". Only the head of a line is ever compared; memchr finds the ends.
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

/* The head test for the line [p, end): 0 when it is not usage-bearing, else 1; for a token_count
 * line 2, with *after set to the end of the head (just past `token_count"`). */
static int head_kind(const char *p, const char *end, const char **after)
{
    if (!starts(p, end, LIT("{\"timestamp\":\"")))
        return 0;
    p += sizeof("{\"timestamp\":\"") - 1;
    const char *stamp_end = p;
    while (stamp_end < end && *stamp_end != '"' && stamp_end - p < 41)
        stamp_end++;
    if (stamp_end - p > 40 || !starts(stamp_end, end, LIT("\",")))
        return 0;
    p = stamp_end + 2;
    if (starts(p, end, LIT("\"ordinal\":"))) {
        p += sizeof("\"ordinal\":") - 1;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits || !starts(p, end, LIT(",")))
            return 0;
        p++;
    }
    if (!starts(p, end, LIT("\"type\":\"")))
        return 0;
    p += sizeof("\"type\":\"") - 1;
    if (starts(p, end, LIT("session_meta\"")) || starts(p, end, LIT("turn_context\"")))
        return 1;
    if (!starts(p, end, LIT("event_msg\",\"payload\":{\"type\":\"")))
        return 0;
    p += sizeof("event_msg\",\"payload\":{\"type\":\"") - 1;
    if (starts(p, end, LIT("task_started\"")))
        return 1;
    if (!starts(p, end, LIT("token_count\"")))
        return 0;
    *after = p + sizeof("token_count\"") - 1;
    return 2;
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
        if (kind == 2 && previous != NULL) {
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
