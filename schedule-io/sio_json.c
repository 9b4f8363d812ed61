/* sio_json.c -- positions of keys and values in JSON text, for messages.
**
** jansson gives a line and column for syntax errors only. To point an error
** at the key or value it is about, sio_json_locate walks the text again
** structurally: punctuation and whitespace by hand, and each key or value
** token through json_loadb(..., JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK),
** whose error.position (also set on success) is the length of the token,
** so string escapes and number syntax are jansson's own. Keys are compared
** after decoding, so "n\u0061me" is found as "name".
**
** Invariants: the text has already parsed as one JSON value (with duplicate
** keys refused), so the first key that matches is the only one. Cost: every
** skipped value is parsed once, O(len) per call; used on the error path only.
** Also here: the edit distance behind "did you mean" hints (<= 63 bytes). */
#include "sio_json_int.h"

#include <jansson.h>
#include <string.h>

static size_t skip_ws(const char *t, size_t len, size_t pos)
{
    while (pos < len && (t[pos] == ' ' || t[pos] == '\t' || t[pos] == '\n' || t[pos] == '\r'))
        pos++;
    return pos;
}

/* Parses one token or value at pos; returns its length (0 on failure) and,
** when val is not NULL, the decoded value (caller decrefs). */
static size_t token_len(const char *t, size_t len, size_t pos, json_t **val)
{
    json_error_t e;
    json_t *v;
    if (pos >= len)
        return 0;
    v = json_loadb(t + pos, len - pos, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
    if (!v)
        return 0;
    if (val)
        *val = v;
    else
        json_decref(v);
    return e.position > 0 ? (size_t)e.position : 0;
}

void sio_json_line_col(const char *t, size_t pos, int *line, int *col)
{
    int l = 1, c = 1;
    size_t i;
    for (i = 0; i < pos; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;   /* count characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *col = c;
}

/* Moves *pos from the '{' of an object to the value of member key (and
** *keypos to its key). Returns 0 when found. */
static int find_member(const char *t, size_t len, size_t *pos, const char *key,
                       size_t *keypos)
{
    size_t p = *pos + 1;
    for (;;) {
        json_t *k = NULL;
        size_t n;
        int match;
        p = skip_ws(t, len, p);
        if (p >= len || t[p] != '"')
            return -1;
        n = token_len(t, len, p, &k);
        if (n == 0)
            return -1;
        match = json_is_string(k) && strcmp(json_string_value(k), key) == 0;
        json_decref(k);
        *keypos = p;
        p = skip_ws(t, len, p + n);
        if (p >= len || t[p] != ':')
            return -1;
        p = skip_ws(t, len, p + 1);
        if (match) {
            *pos = p;
            return 0;
        }
        n = token_len(t, len, p, NULL);
        if (n == 0)
            return -1;
        p = skip_ws(t, len, p + n);
        if (p >= len || t[p] != ',')
            return -1;
        p++;
    }
}

/* Moves *pos from the '[' of an array to its element index. */
static int find_element(const char *t, size_t len, size_t *pos, size_t index)
{
    size_t p = skip_ws(t, len, *pos + 1), i;
    if (p < len && t[p] == ']')
        return -1;
    for (i = 0; i < index; i++) {
        size_t n = token_len(t, len, p, NULL);
        if (n == 0)
            return -1;
        p = skip_ws(t, len, p + n);
        if (p >= len || t[p] != ',')
            return -1;
        p = skip_ws(t, len, p + 1);
    }
    *pos = p;
    return p < len ? 0 : -1;
}

/* Moves from the top-level value along path[0..depth): *pos is the value
** reached, *keypos the key of the last step (when it is a key). */
static int walk(const char *text, size_t len, const sio_jstep *path, size_t depth, size_t *pos,
                size_t *keypos)
{
    size_t d;
    *pos = skip_ws(text, len, 0);
    *keypos = 0;
    for (d = 0; d < depth; d++) {
        int rc;
        if (*pos >= len)
            return -1;
        if (path[d].key) {
            if (text[*pos] != '{')
                return -1;
            rc = find_member(text, len, pos, path[d].key, keypos);
        } else {
            if (text[*pos] != '[')
                return -1;
            rc = find_element(text, len, pos, path[d].index);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

int sio_json_locate(const char *text, size_t len, const sio_jstep *path,
                    size_t depth, int at_key, int *line, int *col)
{
    size_t pos, keypos;
    *line = 1;
    *col = 1;
    if (walk(text, len, path, depth, &pos, &keypos) != 0)
        return -1;
    if (at_key && depth > 0 && path[depth - 1].key)
        pos = keypos;
    sio_json_line_col(text, pos, line, col);
    return 0;
}

int sio_json_span(const char *text, size_t len, const sio_jstep *path, size_t depth, size_t *start,
                  size_t *end)
{
    size_t pos, keypos, n;
    if (walk(text, len, path, depth, &pos, &keypos) != 0 || (n = token_len(text, len, pos, NULL)) == 0)
        return -1;
    *start = pos;
    *end = pos + n;
    return 0;
}

size_t sio_edit_distance(const char *a, const char *b)
{
    enum { MAXN = 64 };
    size_t d[MAXN][MAXN];
    size_t na = strlen(a), nb = strlen(b), i, j;
    if (na >= MAXN || nb >= MAXN)
        return (size_t)-1 / 2;
    for (i = 0; i <= na; i++)
        d[i][0] = i;
    for (j = 0; j <= nb; j++)
        d[0][j] = j;
    for (i = 1; i <= na; i++) {
        for (j = 1; j <= nb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[na][nb];
}
