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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define LIT(s) s, (sizeof(s) - 1)

static int starts(const char *p, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* The head test for the line [p, end). */
static int is_candidate(const char *p, const char *end)
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
    return starts(p, end, LIT("token_count\"")) || starts(p, end, LIT("task_started\""));
}

static PyObject *candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t first, last;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &first, &last))
        return NULL;
    PyObject *found = NULL;
    if (first < 0 || last < first || last >= view.len) {
        PyErr_SetString(PyExc_ValueError, "first and last must satisfy 0 <= first <= last < len");
        goto done;
    }
    const char *buf = view.buf;
    found = PyList_New(0);
    if (found == NULL)
        goto done;
    const char *line = buf + first;
    const char *stop = buf + last + 1; /* one past the last newline */
    while (line < stop) {
        const char *nl = memchr(line, '\n', stop - line);
        if (nl == NULL)
            nl = stop - 1; /* cannot happen: buf[last] is a newline */
        if (is_candidate(line, nl)) {
            PyObject *item = PyBytes_FromStringAndSize(line, nl - line);
            if (item == NULL || PyList_Append(found, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(found);
                goto done;
            }
            Py_DECREF(item);
        }
        line = nl + 1;
    }
done:
    PyBuffer_Release(&view);
    return found;
}

static PyMethodDef methods[] = {
    {"candidates", candidates, METH_VARARGS,
     "candidates(buffer, first, last) -> list of the usage-bearing lines between first and the "
     "newline at last."},
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
