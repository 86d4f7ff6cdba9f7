from __future__ import annotations

import reconcile


def test_all_is_sorted_and_unique() -> None:
    assert list(reconcile.__all__) == sorted(set(reconcile.__all__))


def test_all_names_resolve() -> None:
    missing = [name for name in reconcile.__all__ if not hasattr(reconcile, name)]
    assert missing == []


def test_lazy_exports_match_all() -> None:
    import reconcile.client

    for package in (reconcile, reconcile.client):
        exported = set(package.__all__) - {"__version__"}
        assert exported == set(package._EXPORTS), package.__name__
        assert set(dir(package)) >= exported
