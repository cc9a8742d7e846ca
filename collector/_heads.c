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
 * tolerant_candidates(buffer, first, last) -> list[bytes]
 *
 * The same lines, for a file that is not in Codex's compact layout: every line is tested as
 * collector.parse.HEAD tests it, in its first HEAD_WINDOW bytes (collector.reader._tolerant).
 *
 * fresh_candidates(buffer, first, last, previous) -> (lines, previous, dropped)
 *
 * The same, less each token_count line whose serialized info (cut as collector.reader._info_of
 * cuts it) is byte for byte the one of the token_count line before: Codex's re-emits, about half
 * of all rows (R4). `previous` carries that info from one call to the next (None at a file's
 * start); `dropped` counts the lines left out.
 *
 * fresh_rows(buffer, first, last, previous) -> (items, previous, dropped)
 *
 * As fresh_candidates, but a token_count line laid out exactly as Codex writes it comes as the
 * tuple (ts_ms, ordinal or None, total, last, info, identity): its UTC time in milliseconds,
 * its two usage vectors as collector.parse.Vec (input, cached, output, reasoning, total,
 * cache_write), its serialized info and the text that names its response
 * (collector.parse._IDENTITY). Nothing else of the line is needed: the layout has no place for a
 * model name, so the parser's decoding path would read the same from it. The layout (see figures_row) is checked whole, to the
 * line's last byte; any other line (keys in another order, spaces, floats, nulls, a missing key,
 * a figure of more than 18 digits, an escaped or non-ASCII text) comes as bytes, for the parser's
 * general path: the tuple only saves decoding what that path would decode the same way.
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
 * cuts it: after `,"info":`, up to `,"rate_limits":` (or the line's closing `}}`); _info_of also
 * wants no text value in it (has_text). Returns 0 when it cannot be cut that way. */
static int info_span(const char *p, const char *end, const char **start, const char **stop)
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
    *start = p;
    *stop = cut;
    return 1;
}

/* Whether the info [p, cut) holds a text value (then it is never compared). The exact layout has
 * none, so a line read in it needs no such search. */
static int has_text(const char *p, const char *cut)
{
    return memmem(p, cut - p, LIT("\":\"")) != NULL;
}
/* -- the exact layout of a token_count line (fresh_rows) ------------------------------------ */

/* collector.parse.EARLIEST_MS and LATEST_MS: a time outside is left to the general path. */
#define EARLIEST_MS 946684800000LL
#define LATEST_MS 4102444800000LL
/* A figure of up to 18 digits fits a long long; a longer one is left to the general path. */
#define MAX_DIGITS 18
/* Nesting and number length the tail check accepts (Codex's rate limits: depth 3, short). */
#define MAX_DEPTH 16
#define MAX_NUMBER 20

/* Past `lit` at *p, or 0. */
static int take(const char **p, const char *end, const char *lit, size_t n)
{
    if (!starts(*p, end, lit, n))
        return 0;
    *p += n;
    return 1;
}

/* A JSON non-negative integer of at most MAX_DIGITS digits (no leading zero) at *p. */
static int whole_number(const char **p, const char *end, long long *value)
{
    const char *q = *p;
    while (q < end && *q >= '0' && *q <= '9' && q - *p <= MAX_DIGITS)
        q++;
    Py_ssize_t len = q - *p;
    if (len == 0 || len > MAX_DIGITS || (len > 1 && **p == '0'))
        return 0;
    long long n = 0;
    for (const char *d = *p; d < q; d++)
        n = n * 10 + (*d - '0');
    *p = q;
    *value = n;
    return 1;
}

/* `count` digits at p as a number, or -1. */
static int fixed_digits(const char *p, int count)
{
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        n = n * 10 + (p[i] - '0');
    }
    return n;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Codex's own UTC time `YYYY-MM-DDTHH:MM:SS.mmmZ` (exactly 24 bytes, a real date) in
 * milliseconds, within EARLIEST_MS and LATEST_MS; 0 for any other text. */
static int stamp_ms(const char *p, Py_ssize_t len, long long *ms)
{
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len != 24 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[19] != '.' || p[23] != 'Z')
        return 0;
    int year = fixed_digits(p, 4), month = fixed_digits(p + 5, 2), day = fixed_digits(p + 8, 2);
    int hour = fixed_digits(p + 11, 2), minute = fixed_digits(p + 14, 2);
    int second = fixed_digits(p + 17, 2), milli = fixed_digits(p + 20, 3);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
        hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
        milli < 0)
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap)
        return 0;
    long long t = days_from_civil(year, month, day) * 86400LL + hour * 3600 + minute * 60 + second;
    t = t * 1000 + milli;
    if (t < EARLIEST_MS || t >= LATEST_MS)
        return 0;
    *ms = t;
    return 1;
}

/* A usage object in Codex's key order at *p, into v as collector.parse.Vec (cache writes 0 when
 * the key is absent, as before 0.145). */
static int usage_vector(const char **p, const char *end, long long v[6])
{
    v[5] = 0;
    if (!(take(p, end, LIT("{\"input_tokens\":")) && whole_number(p, end, &v[0]) &&
          take(p, end, LIT(",\"cached_input_tokens\":")) && whole_number(p, end, &v[1])))
        return 0;
    if (take(p, end, LIT(",\"cache_write_input_tokens\":")) && !whole_number(p, end, &v[5]))
        return 0;
    return take(p, end, LIT(",\"output_tokens\":")) && whole_number(p, end, &v[2]) &&
           take(p, end, LIT(",\"reasoning_output_tokens\":")) && whole_number(p, end, &v[3]) &&
           take(p, end, LIT(",\"total_tokens\":")) && whole_number(p, end, &v[4]) &&
           take(p, end, LIT("}"));
}

/* A compact JSON value at *p in a narrow form every JSON decoder reads alike: no spaces, texts
 * of printable ASCII without escapes, numbers of at most MAX_NUMBER bytes without exponent. */
static int plain_value(const char **p, const char *end, int depth)
{
    const char *q = *p;
    if (q >= end || depth > MAX_DEPTH)
        return 0;
    if (*q == '"') {
        for (q++; q < end && *q != '"'; q++)
            if (*q < 0x20 || *q > 0x7e || *q == '\\')
                return 0;
        if (q >= end)
            return 0;
        *p = q + 1;
        return 1;
    }
    if (*q == '{' || *q == '[') {
        char close = *q == '{' ? '}' : ']';
        q++;
        if (q < end && *q == close) {
            *p = q + 1;
            return 1;
        }
        for (;;) {
            if (close == '}' && !(q < end && *q == '"' && plain_value(&q, end, depth + 1) &&
                                  take(&q, end, LIT(":"))))
                return 0; /* a key: a text */
            if (!plain_value(&q, end, depth + 1))
                return 0;
            if (take(&q, end, ",", 1))
                continue;
            if (!take(&q, end, &close, 1))
                return 0;
            *p = q;
            return 1;
        }
    }
    if (take(&q, end, LIT("true")) || take(&q, end, LIT("false")) || take(&q, end, LIT("null"))) {
        *p = q;
        return 1;
    }
    const char *start = q;
    if (q < end && *q == '-')
        q++;
    const char *digits = q;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    if (q == digits || (q - digits > 1 && *digits == '0'))
        return 0;
    if (q < end && *q == '.') {
        const char *fraction = ++q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == fraction)
            return 0;
    }
    if (q - start > MAX_NUMBER)
        return 0;
    *p = q;
    return 1;
}

/* The line [line, end) read in Codex's exact token_count layout, its info being [info, cut):
 *   {"timestamp":"<stamp_ms>",["ordinal":<n>,]"type":"event_msg","payload":{"type":"token_count",
 *   "info":{"total_token_usage":<usage>,"last_token_usage":<usage>[,"model_context_window":<n or
 *   null>]}[,"rate_limits":<plain value>]}}
 * Returns 1 with the figures set, 0 for any other line. */
static int exact_layout(const char *line, const char *end, const char *info, const char *cut,
                        long long *ts, long long *ordinal, int *has_ordinal, long long total[6],
                        long long last[6])
{
    const char *p = line;
    if (!take(&p, end, LIT("{\"timestamp\":\"")))
        return 0;
    const char *stamp = p;
    while (p < end && *p != '"')
        p++;
    if (!stamp_ms(stamp, p - stamp, ts) || !take(&p, end, LIT("\",")))
        return 0;
    *has_ordinal = take(&p, end, LIT("\"ordinal\":"));
    if (*has_ordinal && !(whole_number(&p, end, ordinal) && take(&p, end, LIT(","))))
        return 0;
    if (!take(&p, end, LIT("\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":")) ||
        p != info)
        return 0;
    long long window;
    if (!(take(&p, end, LIT("{\"total_token_usage\":")) && usage_vector(&p, end, total) &&
          take(&p, end, LIT(",\"last_token_usage\":")) && usage_vector(&p, end, last)))
        return 0;
    if (take(&p, end, LIT(",\"model_context_window\":")) && !take(&p, end, LIT("null")) &&
        !whole_number(&p, end, &window))
        return 0;
    if (!take(&p, end, LIT("}")) || p != cut)
        return 0;
    if (take(&p, end, LIT(",\"rate_limits\":")) && !plain_value(&p, end, 0))
        return 0;
    return take(&p, end, LIT("}}")) && p == end;
}

/* A tuple of `n` new references (stolen), or NULL if one of them is NULL. */
static PyObject *tuple_of(PyObject **items, int n)
{
    PyObject *tuple = PyTuple_New(n);
    for (int i = 0; i < n; i++) {
        if (tuple == NULL || items[i] == NULL) {
            for (int j = i; j < n; j++)
                Py_XDECREF(items[j]);
            Py_XDECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, items[i]);
    }
    return tuple;
}

static PyObject *vector(const long long v[6])
{
    PyObject *items[6];
    for (int i = 0; i < 6; i++)
        items[i] = PyLong_FromLongLong(v[i]);
    return tuple_of(items, 6);
}

/* What names the response of a row with both vectors (collector.parse._IDENTITY): its time and
 * the first five figures of each vector, as decimal text. */
static char *decimal(char *p, long long value) /* value >= 0, as every figure read here */
{
    char digits[20];
    int n = 0;
    do
        digits[n++] = (char)('0' + value % 10);
    while ((value /= 10) > 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

static PyObject *identity(long long ts, const long long total[6], const long long last[6])
{
    char text[256]; /* 11 numbers of at most 19 digits, and 10 separators (snprintf is slower) */
    char *p = decimal(text, ts);
    for (int i = 0; i < 10; i++) {
        *p++ = i == 0 || i == 5 ? '|' : ',';
        p = decimal(p, i < 5 ? total[i] : last[i - 5]);
    }
    return PyBytes_FromStringAndSize(text, p - text);
}

/* The figures of a token_count line in the exact layout (see exact_layout). */
struct figures {
    long long ts, ordinal, total[6], last[6];
    int has_ordinal;
};

/* fresh_rows' item for a token_count line in the exact layout whose info is not a repeat. */
static PyObject *figures_row(const struct figures *f, PyObject *info_bytes)
{
    PyObject *items[6] = {
        PyLong_FromLongLong(f->ts),
        f->has_ordinal ? PyLong_FromLongLong(f->ordinal) : Py_NewRef(Py_None),
        vector(f->total),
        vector(f->last),
        Py_NewRef(info_bytes),
        identity(f->ts, f->total, f->last),
    };
    return tuple_of(items, 6);
}

/* Whether first and last delimit lines of the buffer (else ValueError). */
static int check_range(Py_buffer *view, Py_ssize_t first, Py_ssize_t last)
{
    if (first < 0 || last < first || last >= view->len) {
        PyErr_SetString(PyExc_ValueError, "first and last must satisfy 0 <= first <= last < len");
        return 0;
    }
    return 1;
}

/* The functions below: the lines that start at `first` or right after a newline, up to the
 * newline at `last`; with `figures`, as fresh_rows. */
static PyObject *scan(Py_buffer *view, Py_ssize_t first, Py_ssize_t last, PyObject **previous,
                      Py_ssize_t *dropped, int figures)
{
    if (!check_range(view, first, last))
        return NULL;
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
        const char *after = NULL, *start = NULL, *cut = NULL;
        struct figures f = {0};
        int exact = 0;
        int kind = head_kind(line, nl, &after);
        if (kind == 3 && previous != NULL) {
            Py_CLEAR(*previous); /* a token_count line in another layout: not compared */
        } else if (kind == 2 && previous != NULL) {
            if (!info_span(after, nl, &start, &cut)) {
                Py_CLEAR(*previous); /* cannot tell: the next line is not compared */
            } else if (cut - start == 4 && memcmp(start, "null", 4) == 0) {
                /* info null: not figures, and the one before stays the one compared */
            } else if (*previous != NULL && PyBytes_GET_SIZE(*previous) == cut - start &&
                       memcmp(PyBytes_AS_STRING(*previous), start, cut - start) == 0 &&
                       !has_text(start, cut)) {
                (*dropped)++;
                line = nl + 1;
                continue;
            } else if (!(exact = figures && exact_layout(line, nl, start, cut, &f.ts, &f.ordinal,
                                                         &f.has_ordinal, f.total, f.last)) &&
                       has_text(start, cut)) {
                Py_CLEAR(*previous); /* a text value: not compared (the exact layout has none) */
            } else {
                PyObject *info = PyBytes_FromStringAndSize(start, cut - start);
                if (info == NULL) {
                    Py_DECREF(found);
                    return NULL;
                }
                Py_XSETREF(*previous, info);
            }
        }
        if (kind) {
            PyObject *item = exact ? figures_row(&f, *previous)
                                   : PyBytes_FromStringAndSize(line, nl - line);
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

static PyObject *tolerant_candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t first, last;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &first, &last))
        return NULL;
    PyObject *found = check_range(&view, first, last) ? PyList_New(0) : NULL;
    const char *line = (const char *)view.buf + first;
    const char *stop = (const char *)view.buf + last + 1;
    while (found != NULL && line < stop) {
        const char *nl = memchr(line, '\n', stop - line);
        if (nl == NULL)
            nl = stop - 1; /* as the Python loop: buf[last] should be a newline */
        if (tolerant_head(line, nl - line > HEAD_WINDOW ? line + HEAD_WINDOW : nl)) {
            PyObject *item = PyBytes_FromStringAndSize(line, nl - line);
            if (item == NULL || PyList_Append(found, item) < 0)
                Py_CLEAR(found);
            Py_XDECREF(item);
        }
        line = nl + 1;
    }
    PyBuffer_Release(&view);
    return found;
}

static PyObject *candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t first, last;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &first, &last))
        return NULL;
    PyObject *found = scan(&view, first, last, NULL, NULL, 0);
    PyBuffer_Release(&view);
    return found;
}

static PyObject *fresh(PyObject *args, int figures)
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
    PyObject *found = scan(&view, first, last, &previous, &dropped, figures);
    PyBuffer_Release(&view);
    if (found == NULL) {
        Py_XDECREF(previous);
        return NULL;
    }
    PyObject *result = Py_BuildValue("(NNn)", found, previous ? previous : Py_NewRef(Py_None),
                                     dropped);
    return result;
}

static PyObject *fresh_candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    return fresh(args, 0);
}

static PyObject *fresh_rows(PyObject *Py_UNUSED(module), PyObject *args)
{
    return fresh(args, 1);
}

static PyMethodDef methods[] = {
    {"candidates", candidates, METH_VARARGS,
     "candidates(buffer, first, last) -> list of the usage-bearing lines between first and the "
     "newline at last."},
    {"tolerant_candidates", tolerant_candidates, METH_VARARGS,
     "tolerant_candidates(buffer, first, last) -> list of the lines between first and the "
     "newline at last that collector.parse.HEAD finds in their first HEAD_WINDOW bytes."},
    {"fresh_candidates", fresh_candidates, METH_VARARGS,
     "fresh_candidates(buffer, first, last, previous) -> (lines, previous, dropped): as "
     "candidates, leaving out each token_count line whose info repeats the one before's."},
    {"fresh_rows", fresh_rows, METH_VARARGS,
     "fresh_rows(buffer, first, last, previous) -> (items, previous, dropped): as "
     "fresh_candidates, a token_count line in Codex's exact layout as the tuple (ts_ms, ordinal, "
     "total, last, info, identity)."},
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
