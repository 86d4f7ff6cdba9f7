"""API types of ``kreconcile.io/v1alpha1``: the single source of the CRD manifests."""

GROUP = "kreconcile.io"
VERSION = "v1alpha1"
