"""One writer per output format, all registered in ``formats.registry``."""
