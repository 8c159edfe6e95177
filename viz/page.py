"""One page skeleton for the project's self-contained HTML pages.

The explorer (``viz.explore``) and the learning page (``viz.learn``) are
each one HTML file with everything inside: the styles and the script are
package files beside this one, read and inlined when the page is built,
and the numbers the script shows travel as JSON in a
``<script type="application/json">`` element.  No request leaves the page:
it opens from ``file://``, offline, or inside Jupyter's sandboxed frame.

:func:`html_page` writes that skeleton once for both; :class:`Page` is the
``str`` a builder returns, which Jupyter shows inline in an
``<iframe srcdoc=…>``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from tinygrad_sine.files import atomic_write, make_folder, safe_text

HERE = Path(__file__).resolve().parent

_SKELETON = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
{{css}}
</style>
</head>
<body{{attributes}}>
{{body}}
<script type="application/json" id="{{data_id}}">{{data}}</script>
<script>
{{js}}
</script>
</body>
</html>
"""


class Page(str):
    """A page's HTML text (a ``str``); in Jupyter it shows as the page itself, inline.

    Jupyter displays it in an ``<iframe srcdoc=…>`` whose sandbox keeps the
    page's script and styles apart from the notebook's; everything the page
    shows is inside it, so it needs no kernel and works in a notebook
    exported to HTML.  Subclasses set ``frame_title`` and ``frame_height``.
    """

    frame_title = "page"
    frame_height = 640

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self, quote=True)}" sandbox="allow-scripts" '
                f'title="{html.escape(self.frame_title)}" '
                f'style="width: 100%; height: {self.frame_height}px; border: 1px solid #ccc">'
                '</iframe>')


def html_page(title: str, body: str, *, assets: tuple[str, ...], data, data_id: str,
              attributes: dict[str, str] | None = None) -> str:
    """The whole page: ``title`` (plain text), ``body`` (HTML), the CSS and JS ``assets``
    (file names beside this module, inlined in order) and ``data`` as JSON under ``data_id``.

    Text that UTF-8 or HTML cannot hold (a lone surrogate in an op's name, U+FFFF in a
    label) shows as its escape, ``\\ud800``, as in the diagrams
    (:func:`tinygrad_sine.files.safe_text`): in the data, in the title, in the body."""
    attrs = "".join(f' {name}="{html.escape(value, quote=True)}"'
                    for name, value in (attributes or {}).items())
    return safe_text(fill(_SKELETON, {
        "title": html.escape(safe_text(str(title))),
        "css": "\n".join(asset(a) for a in assets if a.endswith(".css")),
        "js": "\n".join(asset(a) for a in assets if a.endswith(".js")),
        "attributes": attrs,
        "body": body,
        "data_id": data_id,
        "data": json_in_html(data),
    }))


def write_page(page: str, path: str | Path, where: str) -> None:
    """Write ``page`` to ``path`` whole or not at all, making its folder if needed."""
    path = Path(path)
    make_folder(path.parent, f"{where}: path's folder")
    atomic_write(path, page)


def json_in_html(value) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` as such,
    and every string's odd text escaped (``safe_text``), so the page shows ``\\ud800``."""
    text = json.dumps(_safe_strings(value), ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _safe_strings(value):
    """``value`` (JSON-like: dicts, lists, strings, numbers) with ``safe_text`` on every
    string, keys included."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {_safe_strings(k): _safe_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe_strings(v) for v in value]
    return value


def asset(name: str) -> str:
    """A package file beside this module (a page's script or styles), as text."""
    return (HERE / name).read_text(encoding="utf-8")


def fill(template: str, values: dict[str, str]) -> str:
    """``{{name}}`` → ``values[name]``, in one pass (so a value is never filled in again)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)
