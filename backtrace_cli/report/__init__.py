"""The report model: what a command found, as a document of sections, built once per result.

Every output format is one writer of this model (``backtrace_cli.formats``)."""
