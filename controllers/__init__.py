"""The operators built on kreconcile's framework, one subpackage each, and the CLI.

Each operator exposes ``setup(manager, options)`` (and optionally ``setup_agent`` and
``parse_config``) in its package and is listed in ``controllers.operators.OPERATORS``; the
entry points ``kreconcile run``, ``kreconcile agent`` and ``kreconcile dev`` are the only
places that wire them together.
"""
