"""Translations that stay cheap when one page asks for thousands of them.

Flask-Babel resolves the domain, the locale and the catalogue on every call: ~10 µs for a `_()` in a
template, ~25 µs for an enum's `.label` (a lazy string). The progress board and 今天 make over a thousand
of them per page, which was a third of their render time. Here the catalogue is looked up once per
request (again only if the locale changes), and templates translate a text without variables once per
render. Python code keeps writing `_l("…")` (now `from crm.core.i18n import lazy_gettext as _l`);
`pybabel extract` finds them under the same keywords.
"""

from __future__ import annotations

from flask import Flask, g, has_app_context
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup


def current_translations():
    """The current locale's catalogue, looked up once per request (and again only if the locale changes).
    `force_locale` swaps `g._flask_babel.babel_locale` for another object, which the identity check notices."""
    if not has_app_context():
        return get_translations()
    babel_state = g.get("_flask_babel")  # where Flask-Babel keeps the request's locale
    locale = getattr(babel_state, "babel_locale", None)
    cached = g.get("_pantu_translations")
    if cached is None or locale is None or cached[0] is not locale:
        translations = get_translations()
        cached = (g._flask_babel.babel_locale, translations)
        g._pantu_translations = cached
    return cached[1]


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext, through the request's catalogue."""
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """flask_babel.lazy_gettext (a LazyString, translated each time it is shown), through the request's catalogue."""
    return LazyString(gettext, string, **variables)


def install_template_gettext(app: Flask) -> None:
    # Templates rendered without a context (macros imported plainly) use these.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
    )

    @app.context_processor
    def _render_gettext():
        return {"gettext": _render_gettext_for(current_translations())}


def _render_gettext_for(translations):
    """`_()` for one render: the catalogue looked up once, and a call without variables (most of them: a
    page of 70 script cards makes ~900) translated once per render.

    Behaves as Jinja's newstyle gettext: the text is a format string even without variables (%% → %), and
    Markup when the template autoescapes, so variables are escaped and the text is not."""
    constant: dict[tuple[str, bool], str] = {}

    def newstyle(text: str, autoescape: bool, variables: dict) -> str:
        return (Markup(text) if autoescape else text) % variables

    @pass_context
    def render_gettext(context, msgid: str, **variables):
        autoescape = context.eval_ctx.autoescape
        if not variables:
            key = (msgid, autoescape)
            text = constant.get(key)
            if text is None:
                text = constant[key] = newstyle(translations.ugettext(msgid), autoescape, {})
            return text
        return newstyle(translations.ugettext(msgid), autoescape, variables)

    return render_gettext
