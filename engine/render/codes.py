"""The documentation of diagnostic codes for ``dealgate rule``: one code in full, or the index."""

from __future__ import annotations

import difflib
import json
import textwrap

from ..codes import CodeDoc, catalogue, lookup, plain


def render_code(code: str, fmt: str = "text") -> str | None:
    """The documentation of ``code``, or None when no such code exists."""
    doc = lookup(code)
    if doc is None:
        return None
    if fmt == "json":
        return json.dumps(_as_dict(doc), indent=2, ensure_ascii=False) + "\n"
    out = [f"{doc.code} ({doc.severity}): {plain(doc.section)}", ""]
    out.extend(textwrap.wrap(plain(doc.meaning), width=88))
    if doc.example:
        out.extend(["", "Example:"])
        out.extend(textwrap.wrap(plain(doc.example), width=88, initial_indent="  ", subsequent_indent="  "))
    out.extend(["", f"Documented in docs/{doc.document}."])
    return "\n".join(out) + "\n"


def render_index(fmt: str = "text") -> str:
    docs = list(catalogue().values())
    if fmt == "json":
        return json.dumps([_as_dict(d) for d in docs], indent=2, ensure_ascii=False) + "\n"
    return "".join(f"{d.code}  {d.severity:<9}  {d.summary}\n" for d in docs)


def unknown_code(code: str) -> str:
    """The usage error for a code that does not exist, with the nearest codes."""
    known = list(catalogue())
    close = difflib.get_close_matches(code.strip().upper(), known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; 'dealgate rule' lists them all"
    return f"no diagnostic code {code!r}{hint}"


def _as_dict(doc: CodeDoc) -> dict:
    return {
        "code": doc.code,
        "severity": doc.severity,
        "summary": doc.summary,
        "meaning": plain(doc.meaning),
        "example": plain(doc.example),
        "section": plain(doc.section),
        "document": f"docs/{doc.document}",
    }
