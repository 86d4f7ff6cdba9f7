"""Command-line flags shared by ``kreconcile run`` and ``kreconcile agent``.

Spelled as controller-runtime (and kubebuilder's scaffolded ``main.go``) spell them, so
manifests and habits carry over: ``--metrics-bind-address``, ``--health-probe-bind-address``,
``--leader-elect``, ``--kubeconfig``, ``--metrics-secure``, ``--metrics-cert-path``,
``--zap-log-level``. Boolean flags take Go's forms: ``--leader-elect``,
``--leader-elect=false``.

``--metrics-secure`` is kubebuilder's: /metrics over HTTPS (the ``--metrics-cert-path``
certificate, else a self-signed one) and only for scrapers whose bearer token the API
server authenticates (TokenReview) and authorizes for ``get`` on the path
(SubjectAccessReview), so the process's ServiceAccount needs ``create`` on tokenreviews and
subjectaccessreviews (config/rbac/metrics_auth_role.yaml) and scrapers a role like
config/rbac/metrics_reader_role.yaml. Unlike kubebuilder's scaffold it is off by default
(local runs and ``kreconcile dev`` serve plain HTTP); the manifests turn it on.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from reconcile.metrics.filters import with_authentication_and_authorization

__all__ = [
    "add_common_flags",
    "log_level",
    "metrics_cert_files",
    "metrics_options",
    "parse_bool",
    "split_list",
]

_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "error": logging.ERROR}


def parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool: 1/t/true and 0/f/false in any case."""
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}: use true or false")


def log_level(text: str) -> int:
    """``--zap-log-level``: debug, info, error, or a verbosity integer (higher: more)."""
    if text.lower() in _LEVELS:
        return _LEVELS[text.lower()]
    try:
        verbosity = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid log level {text!r}: use debug, info, error or an integer"
        ) from None
    return logging.DEBUG if verbosity > 0 else logging.INFO


def split_list(text: str) -> tuple[str, ...]:
    """``a,b, c`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_common_flags(parser: argparse.ArgumentParser, *, process: str) -> None:
    """Flags every kreconcile process has: API access, metrics, probes, config, logging."""
    parser.add_argument(
        "--kubeconfig",
        default=None,
        help="path to a kubeconfig; default: in-cluster service account, else $KUBECONFIG",
    )
    parser.add_argument(
        "--metrics-bind-address",
        default=":8080",
        help='address /metrics is served on; "0" disables it (default: :8080)',
    )
    parser.add_argument(
        "--health-probe-bind-address",
        default=":8081",
        help="address /healthz and /readyz are served on (default: :8081)",
    )
    parser.add_argument(
        "--metrics-secure",
        type=parse_bool,
        nargs="?",
        const=True,
        default=False,
        help="serve /metrics over HTTPS to scrapers whose bearer token the API server "
        "authenticates and authorizes for get on the path (default: false)",
    )
    parser.add_argument(
        "--metrics-cert-path",
        default=None,
        help="directory with the metrics server's certificate; serves /metrics over HTTPS, "
        "reloading the files when they change",
    )
    parser.add_argument(
        "--metrics-cert-name", default="tls.crt", help="certificate file name (default: tls.crt)"
    )
    parser.add_argument(
        "--metrics-cert-key", default="tls.key", help="key file name (default: tls.key)"
    )
    parser.add_argument(
        "--config",
        default=None,
        help=f"the operators' configuration file (YAML, one section per operator), "
        f"reloaded when it changes; the {process} keeps the last good one on a bad edit",
    )
    parser.add_argument(
        "--zap-log-level",
        type=log_level,
        default=logging.INFO,
        help="debug, info, error, or an integer verbosity (default: info)",
    )


def metrics_cert_files(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(certificate, key) paths from the --metrics-cert-* flags, or (None, None)."""
    if not args.metrics_cert_path:
        return None, None
    directory = Path(args.metrics_cert_path)
    return str(directory / args.metrics_cert_name), str(directory / args.metrics_cert_key)


def metrics_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ManagerOptions fields the metrics flags set (certificate, HTTPS, scrape auth)."""
    cert, key = metrics_cert_files(args)
    return {
        "metrics_bind_address": args.metrics_bind_address,
        "metrics_cert_file": cert,
        "metrics_key_file": key,
        "metrics_secure_serving": args.metrics_secure,
        "metrics_filter": with_authentication_and_authorization if args.metrics_secure else None,
    }
