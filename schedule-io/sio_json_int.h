/* sio_json_int.h -- private to the library (schedule-io, and the sweep,
** which edits chip text in place): where a value sits in JSON text.
** jansson keeps no positions after a successful parse, so error messages
** that point at a key or a value find it again here by walking the text.
** Error path only: each call is O(size of the text). */
#ifndef PDA_SIO_JSON_INT_H
#define PDA_SIO_JSON_INT_H
#include <stddef.h>

/* One step into a document: the member `key` of an object, or (key NULL)
** element `index` of an array. */
typedef struct sio_jstep {
    const char *key;
    size_t index;
} sio_jstep;

/* Finds the value reached by path[0..depth) from the top-level value of
** text (len bytes; the text must parse as JSON). When at_key is set and the
** last step is a key, the position of that key's string is given instead.
** Sets *line and *col (1-based; col counts UTF-8 characters, as jansson
** does) and returns 0, or returns -1 (and sets 1:1) when the path is not
** there. depth 0 is the top-level value itself. */
int sio_json_locate(const char *text, size_t len, const sio_jstep *path,
                    size_t depth, int at_key, int *line, int *col);

/* The bytes [*start, *end) of the value reached by path[0..depth) (as
** sio_json_locate finds it): 0, or -1 when the path is not there. */
int sio_json_span(const char *text, size_t len, const sio_jstep *path, size_t depth, size_t *start,
                  size_t *end);

/* Line and column (1-based; col counts UTF-8 characters, as jansson does)
** of byte pos of text. */
void sio_json_line_col(const char *text, size_t pos, int *line, int *col);

/* Edit distance (optimal string alignment: insert, delete, substitute,
** swap two neighbours) between a and b, for "did you mean" hints. Strings
** longer than 63 bytes give a large distance. */
size_t sio_edit_distance(const char *a, const char *b);

#endif
