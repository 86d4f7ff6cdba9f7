"""The operators built on kreconcile's framework, one subpackage each.

Each operator exposes ``setup(manager, options)``; the ``kreconcile`` CLI
(``controllers.cli``) is the only place that wires them together.
"""
