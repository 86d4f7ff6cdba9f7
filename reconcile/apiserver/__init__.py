"""An embedded Kubernetes API server, faithful enough that kubectl cannot tell the difference.

It is kreconcile's test bed (every integration test talks to it over HTTP) and the embedded
default of ``kreconcile dev``. See ``server.py`` for how it runs, ``api.py`` for the verbs'
semantics and ``storage.py`` for resourceVersions and watch history.
"""

from reconcile.apiserver.faults import Faults
from reconcile.apiserver.server import APIServer, ServerOptions

__all__ = ["APIServer", "Faults", "ServerOptions"]
