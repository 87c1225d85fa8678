"""Package data of the report (templates, CSS, JS) and the escaping helpers that keep
document text inert in a page."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from markupsafe import Markup

if TYPE_CHECKING:
    import jinja2

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")
_UNSAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def _asset(folder: str, name: str) -> str:
    """Read a text file shipped as package data."""
    return resources.files("mtqa.report").joinpath(folder, name).read_text(encoding="utf-8")


def _inline(code: str, tag: str) -> Markup:
    """Mark trusted package CSS/JS as safe after checking it cannot close its own element."""
    if f"</{tag}" in code.lower() or "<!--" in code:
        raise RuntimeError(f"static asset contains '</{tag}' or '<!--' and cannot be inlined")
    return Markup(code)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2  # only the HTML report needs it: keep it off `mtqa score`'s start-up

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _asset("templates", name)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["score"] = lambda value: f"{float(value):.2f}"
    return env


@lru_cache(maxsize=1)
def static_assets() -> dict[str, Markup]:
    css = _asset("static", "report.css")
    js = _asset("static", "report.js")
    return {
        "css": _inline(css, "style"),
        "css_hash": _csp_hash(css),
        "js": _inline(js, "script"),
        "js_hash": _csp_hash(js),
    }


def _csp_hash(code: str) -> Markup:
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return Markup("sha256-" + base64.b64encode(digest).decode("ascii"))


# --------------------------------------------------------------------------- helpers


def json_for_script(data: Any) -> Markup:
    """JSON safe to embed inside any HTML element: no ``<``, ``>`` or ``&`` survive literally.

    ``JSON.parse`` turns the ``\\u003c`` escapes back into the original characters, so
    ``</script>`` and ``<!--`` in document text cannot end or confuse the data block.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(_JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text))


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: JavaScript string offsets count these, not code points."""
    return len(text.encode("utf-16-le")) // 2


def safe_href(path: str) -> str:
    """A relative link that can never carry a scheme (``javascript:``) or a foreign host."""
    href = quote(path.replace("\\", "/"), safe="/")
    return "./" + href if href.startswith("//") else href


def safe_filename(name: str, default: str = "document") -> str:
    """A plain file stem made of letters, digits, ``.``, ``_`` and ``-``."""
    cleaned = _UNSAFE_NAME_RE.sub("_", name).strip("._")
    return cleaned[:80] or default
