"""What every result of the API shares: its report, in any registered format."""

from __future__ import annotations

import json


class Rendered:
    """A result with a ``report``: ``render(format)`` gives the text of any registered format,
    ``to_dict()`` exactly the document the command's ``--format json`` prints, and Jupyter
    shows it as Markdown or HTML (``render("html")`` is the whole page)."""

    report: object  # report.model.Report, set by the dataclass that inherits this

    def to_dict(self) -> dict:
        return json.loads(self.render("json"))

    def render(self, format: str = "table", *, width: int | None = None,
               digits: int | None = None) -> str:
        """The report as text in a registered format (table, json, markdown, latex, html);
        ``digits``: numbers shown to that many significant digits (``--digits``; JSON keeps
        every digit)."""
        from backtrace_cli.errors import setting_error
        from backtrace_cli.formats.registry import Options, render
        from backtrace_cli.i18n import _
        from backtrace_cli.report.digits import MAX_DIGITS, MIN_DIGITS

        if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int)
                                   or not MIN_DIGITS <= digits <= MAX_DIGITS):
            raise setting_error("digits", _("digits must be a whole number from {low} to "
                                            "{high}, not {value!r}").format(
                low=MIN_DIGITS, high=MAX_DIGITS, value=digits))
        return render(self.report, format, Options(width=width, digits=digits))

    def _repr_markdown_(self) -> str:
        return self.render("markdown")

    def _repr_html_(self) -> str:
        """The HTML page's fragment: tables and, for a gradient, the graph with the
        step-through (its script inline: Jupyter runs it; nothing is fetched)."""
        from backtrace_cli.formats.html import fragment

        return fragment(self.report)
