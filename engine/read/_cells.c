/* engine.read._cells: the per-record loop of the generated converters, in C (optional).
 *
 * engine.read.csv.compile_row and engine.read.record.compile_record write straight-line Python
 * per export (or per pack) that turns texts into a deal dict: a text field is stripped (blank ->
 * its default), any other field is one lookup in a memo of texts already read, and only a text
 * the memo lacks calls the field's converter. That Python is the reference; this module runs the
 * same steps from a table of slots, without the interpreter's per-step cost. It holds no
 * knowledge of types, dates or money: every conversion is a Python callable it is given, so the
 * two can only differ in the loop, and tests/test_cells.py holds this loop to the generated one.
 *
 * Converter(template, slots, by_key, fallback, catch, exact=True) -> convert(source) -> dict
 *
 *   template  the deal every call starts from (a copy of it): its keys in order, holding the
 *             defaults of the fields no slot fills.
 *   slots     a tuple of (key, source, kind, memo, call, default, blank), one per field read:
 *             source is the index of its cell in a list (by_key false) or its key in a dict;
 *             kind STRIP: the text stripped, or if that is empty `blank()` when blank is not
 *               None (it raises: a required field) else `default`; a value that is not a str
 *               goes to call(value) when there is a call (a JSON number), else raises TypeError;
 *             kind MEMO: a str is memo[text], or call(text) when the memo lacks it; any other
 *               value is call(value) (the memos hold texts only);
 *             kind CALL: call(text).
 *   by_key    false: the source is a list of cells (a CSV row); true: a dict holding the
 *             slots' keys (KeyError if one is absent) and, when `exact`, no other key
 *             (len(source) == len(slots)), or the fallback answers.
 *   fallback  None, or a callable given the source when it is a dict of another shape.
 *   catch     (exceptions, handler) pairs, as the generated Python's `except` clauses: the first
 *             pair whose exceptions match one raised on the way gets the source (KeyError and
 *             TypeError the per-field tier, ValueProblem the reference that names the field;
 *             the per-field tier would read a blank str subclass as a blank, not a missing
 *             required field); any other exception (KeyboardInterrupt, MemoryError) propagates.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

enum { KIND_STRIP = 0, KIND_MEMO = 1, KIND_CALL = 2 };

typedef struct {
    PyObject *key;     /* the deal's key */
    PyObject *source;  /* the dict key to read (by_key), else NULL */
    Py_hash_t hash;    /* its hash */
    Py_ssize_t index;  /* the list index to read (not by_key) */
    int kind;
    PyObject *memo;    /* dict or NULL */
    PyObject *call;    /* callable or NULL */
    PyObject *deflt;   /* the blank's value (STRIP) */
    PyObject *blank;   /* callable raising for a blank required field, or NULL */
} Slot;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *template;
    PyObject *slots_arg; /* the slots tuple as given: keeps every Slot's objects alive */
    PyObject *fallback;
    PyObject *catch;
    PyObject *strip;     /* str.strip, unbound */
    int by_key;
    int exact;           /* by_key: the dict holds the slots' keys and no other */
    Py_ssize_t count;
    Slot *slots;
} Converter;

/* The text stripped as str.strip(text) strips it, as a new reference (text itself when there is
 * nothing to strip, as str.strip returns it). */
static PyObject *
stripped(Converter *self, PyObject *text)
{
    if (PyUnicode_CheckExact(text)) {
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(text) < 0) /* a legacy str from an old extension: made canonical first */
            return NULL;
#endif
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        if (length == 0) {
            Py_INCREF(text);
            return text;
        }
        else {
            int kind = PyUnicode_KIND(text);
            const void *data = PyUnicode_DATA(text);
            if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0))
                && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, length - 1))) {
                Py_INCREF(text);
                return text;
            }
        }
    }
    return PyObject_CallOneArg(self->strip, text); /* TypeError for anything but a str */
}

/* One slot's value for its text, as a new reference; NULL with an exception set. */
static PyObject *
slot_value(Converter *self, Slot *slot, PyObject *text)
{
    PyObject *value;
    switch (slot->kind) {
    case KIND_STRIP:
        if (slot->call != NULL && !PyUnicode_Check(text))
            return PyObject_CallOneArg(slot->call, text); /* a JSON number in a text field */
        value = stripped(self, text);
        if (value == NULL || PyUnicode_GET_LENGTH(value) > 0)
            return value;
        Py_DECREF(value);
        if (slot->blank != NULL)
            return PyObject_CallNoArgs(slot->blank);
        Py_INCREF(slot->deflt);
        return slot->deflt;
    case KIND_MEMO:
        if (!PyUnicode_Check(text)) /* the memos hold texts: a native, even unhashable, goes to call */
            return PyObject_CallOneArg(slot->call, text);
        value = PyDict_GetItemWithError(slot->memo, text);
        if (value != NULL) {
            Py_INCREF(value);
            return value;
        }
        if (PyErr_Occurred())
            return NULL; /* a str subclass failing to hash */
        return PyObject_CallOneArg(slot->call, text);
    default:
        return PyObject_CallOneArg(slot->call, text);
    }
}

/* The slot's value from its text (a borrowed reference), stored in the deal; -1 with an exception set. */
static int
store(Converter *self, PyObject *deal, Slot *slot, PyObject *text)
{
    Py_INCREF(text); /* a converter may run any Python: hold the text while it does */
    PyObject *value = slot_value(self, slot, text);
    Py_DECREF(text);
    if (value == NULL)
        return -1;
    int stored = PyDict_SetItem(deal, slot->key, value);
    Py_DECREF(value);
    return stored;
}

/* Whether a dict's key is the slot's source key: the same object, or an equal str. */
static int
same_key(Slot *slot, PyObject *key)
{
    if (key == slot->source)
        return 1;
    if (!PyUnicode_CheckExact(key) || PyObject_Hash(key) != slot->hash) /* a str's hash is cached */
        return 0;
    return PyUnicode_Compare(key, slot->source) == 0;
}

/* How many of the first slots find their texts walking the dict once, in its order, past keys no
 * slot reads (texts gets them, new references); the slots after those are looked up. A dict made
 * from a CSV row, by a CRM client from its field list or by a JSON export's writer has its keys in
 * the same order every time, and then every slot is found on the walk. */
static Py_ssize_t
in_order(Converter *self, PyObject *source, PyObject **texts)
{
    Py_ssize_t position = 0, i = 0;
    PyObject *key, *text;
    while (i < self->count && PyDict_Next(source, &position, &key, &text)) {
        if (!same_key(&self->slots[i], key))
            continue;
        Py_INCREF(text); /* held: a converter may run any Python, another thread's too */
        texts[i++] = text;
    }
    return i;
}

#define TEXTS_ON_STACK 64

/* The dict's first texts in order (new references in texts), then the rest by lookup. */
static int
store_by_key(Converter *self, PyObject *deal, PyObject *source, PyObject **texts)
{
    Py_ssize_t ordered = in_order(self, source, texts), i;
    int failed = 0;
    for (i = 0; i < ordered && !failed; i++)
        failed = store(self, deal, &self->slots[i], texts[i]) < 0;
    for (i = 0; i < ordered; i++)
        Py_DECREF(texts[i]);
    for (i = ordered; i < self->count && !failed; i++) {
        Slot *slot = &self->slots[i];
        PyObject *text = PyDict_GetItemWithError(source, slot->source);
        if (text == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetObject(PyExc_KeyError, slot->source);
            return -1;
        }
        failed = store(self, deal, slot, text) < 0;
    }
    return failed ? -1 : 0;
}

static int
store_by_index(Converter *self, PyObject *deal, PyObject *row)
{
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Slot *slot = &self->slots[i];
        if (slot->index >= PyList_GET_SIZE(row)) {
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            return -1;
        }
        if (store(self, deal, slot, PyList_GET_ITEM(row, slot->index)) < 0)
            return -1;
    }
    return 0;
}

static PyObject *
convert(Converter *self, PyObject *source)
{
    PyObject *deal = PyDict_Copy(self->template);
    if (deal == NULL)
        return NULL;
    int stored;
    if (!self->by_key) {
        stored = store_by_index(self, deal, source);
    }
    else if (self->count <= TEXTS_ON_STACK) {
        PyObject *texts[TEXTS_ON_STACK]; /* on the stack: calls from other threads each have their own */
        stored = store_by_key(self, deal, source, texts);
    }
    else {
        PyObject **texts = PyMem_Malloc(self->count * sizeof(PyObject *));
        if (texts == NULL) {
            Py_DECREF(deal);
            return PyErr_NoMemory();
        }
        stored = store_by_key(self, deal, source, texts);
        PyMem_Free(texts);
    }
    if (stored < 0) {
        Py_DECREF(deal);
        return NULL;
    }
    return deal;
}

static PyObject *
converter_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Converter *self = (Converter *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0)) {
        PyErr_SetString(PyExc_TypeError, "a converter takes one argument");
        return NULL;
    }
    PyObject *source = args[0];
    if (self->by_key) {
        if (!PyDict_CheckExact(source) || (self->exact && PyDict_GET_SIZE(source) != self->count))
            goto fall_back;
    }
    else if (!PyList_Check(source)) {
        PyErr_SetString(PyExc_TypeError, "a row converter takes a list of cells");
        return NULL;
    }
    PyObject *deal = convert(self, source);
    if (deal != NULL)
        return deal;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(self->catch); i++) {
        PyObject *pair = PyTuple_GET_ITEM(self->catch, i);
        if (PyErr_ExceptionMatches(PyTuple_GET_ITEM(pair, 0))) {
            PyErr_Clear();
            return PyObject_CallOneArg(PyTuple_GET_ITEM(pair, 1), source);
        }
    }
    return NULL;
fall_back:
    if (self->fallback == Py_None) {
        PyErr_SetString(PyExc_TypeError, "a record converter takes a dict of every field");
        return NULL;
    }
    return PyObject_CallOneArg(self->fallback, source);
}

static int
read_slot(Slot *slot, PyObject *item, int by_key)
{
    PyObject *source, *memo, *call, *blank;
    if (!PyTuple_Check(item)
        || !PyArg_ParseTuple(item, "UOiOOOO;a slot is (key, source, kind, memo, call, default, blank)",
                             &slot->key, &source, &slot->kind, &memo, &call, &slot->deflt, &blank)) {
        slot->key = NULL; /* not held: nothing for converter_clear to release */
        return -1;
    }
    /* Interned, as attribute names (the template's keys) are: a store then finds its key by identity. */
    Py_INCREF(slot->key);
    PyUnicode_InternInPlace(&slot->key);
    if (by_key) {
        slot->source = source;
        slot->hash = PyObject_Hash(source);
        if (slot->hash == -1)
            return -1;
    }
    else {
        slot->index = PyLong_AsSsize_t(source);
        if (slot->index < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a cell's index is not negative");
            return -1;
        }
    }
    slot->memo = memo == Py_None ? NULL : memo;
    slot->call = call == Py_None ? NULL : call;
    slot->blank = blank == Py_None ? NULL : blank;
    if (slot->kind < KIND_STRIP || slot->kind > KIND_CALL) {
        PyErr_SetString(PyExc_ValueError, "a slot's kind is STRIP, MEMO or CALL");
        return -1;
    }
    if ((slot->kind == KIND_MEMO && (slot->memo == NULL || !PyDict_CheckExact(slot->memo)))
        || (slot->kind != KIND_STRIP && slot->call == NULL)
        || (slot->call != NULL && !PyCallable_Check(slot->call))) {
        PyErr_SetString(PyExc_TypeError, "a MEMO slot needs a dict and a callable; a CALL slot a callable");
        return -1;
    }
    return 0;
}

static PyObject *
converter_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"template", "slots", "by_key", "fallback", "catch", "exact", NULL};
    PyObject *template, *slots, *fallback, *catch;
    int by_key, exact = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!pOO!|p", keywords, &PyDict_Type, &template, &PyTuple_Type,
                                     &slots, &by_key, &fallback, &PyTuple_Type, &catch, &exact))
        return NULL;
    if (fallback != Py_None && !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "the fallback is None or a callable");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(catch); i++) {
        PyObject *pair = PyTuple_GET_ITEM(catch, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyCallable_Check(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_TypeError, "catch is a tuple of (exceptions, handler) pairs");
            return NULL;
        }
    }
    Converter *self = (Converter *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = converter_vectorcall;
    self->by_key = by_key;
    self->exact = exact;
    Py_ssize_t count = PyTuple_GET_SIZE(slots);
    self->slots = PyMem_Calloc(count ? count : 1, sizeof(Slot));
    if (self->slots != NULL)
        self->count = count; /* not before: converter_clear (on fail) walks count slots */
    self->strip = PyObject_GetAttrString((PyObject *)&PyUnicode_Type, "strip");
    if (self->slots == NULL || self->strip == NULL)
        goto fail;
    Py_INCREF(template);
    self->template = template;
    Py_INCREF(slots);
    self->slots_arg = slots;
    Py_INCREF(fallback);
    self->fallback = fallback;
    Py_INCREF(catch);
    self->catch = catch;
    for (Py_ssize_t i = 0; i < self->count; i++)
        if (read_slot(&self->slots[i], PyTuple_GET_ITEM(slots, i), by_key) < 0)
            goto fail;
    return (PyObject *)self;
fail:
    if (self->slots == NULL)
        PyErr_NoMemory();
    Py_DECREF(self);
    return NULL;
}

static int
converter_traverse(Converter *self, visitproc visit, void *arg)
{
    Py_VISIT(self->template);
    Py_VISIT(self->slots_arg);
    Py_VISIT(self->fallback);
    Py_VISIT(self->catch);
    return 0;
}

static int
converter_clear(Converter *self)
{
    for (Py_ssize_t i = 0; i < self->count; i++)
        Py_CLEAR(self->slots[i].key); /* the one reference a slot holds; the rest it borrows from slots_arg */
    self->count = 0;
    Py_CLEAR(self->template);
    Py_CLEAR(self->slots_arg);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->catch);
    return 0;
}

static void
converter_dealloc(Converter *self)
{
    PyObject_GC_UnTrack(self);
    converter_clear(self);
    Py_CLEAR(self->strip);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject ConverterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "engine.read._cells.Converter",
    .tp_doc = PyDoc_STR("Converter(template, slots, by_key, fallback, catch): texts to a deal dict, per slot."),
    .tp_basicsize = sizeof(Converter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = converter_new,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Converter, vectorcall),
    .tp_traverse = (traverseproc)converter_traverse,
    .tp_clear = (inquiry)converter_clear,
    .tp_dealloc = (destructor)converter_dealloc,
};

static struct PyModuleDef cells_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "engine.read._cells",
    .m_doc = PyDoc_STR("The generated converters' per-record loop in C (see engine.read.cells)."),
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__cells(void)
{
    if (PyType_Ready(&ConverterType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&cells_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddIntConstant(module, "STRIP", KIND_STRIP) < 0
        || PyModule_AddIntConstant(module, "MEMO", KIND_MEMO) < 0
        || PyModule_AddIntConstant(module, "CALL", KIND_CALL) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&ConverterType);
    if (PyModule_AddObject(module, "Converter", (PyObject *)&ConverterType) < 0) {
        Py_DECREF(&ConverterType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
