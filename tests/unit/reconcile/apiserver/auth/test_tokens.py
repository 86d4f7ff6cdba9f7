from __future__ import annotations

import pytest

from reconcile.apiserver.auth.pki import ServerSecrets
from reconcile.apiserver.auth.tokens import InvalidToken, ServiceAccountTokens
from reconcile.apiserver.storage import Store

ACCOUNTS = ("", "serviceaccounts")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Store:
    store = Store()
    store.put(ACCOUNTS, {"metadata": {"name": "bot", "namespace": "ns", "uid": "u1"}}, created=True)
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(store: Store, clock: Clock) -> ServiceAccountTokens:
    key = ServerSecrets.load_or_create(None, hosts=("127.0.0.1",)).signing_key
    return ServiceAccountTokens(key, store, clock=clock)


def _account(store: Store) -> dict[str, object]:
    stored = store.get(ACCOUNTS, "ns", "bot")
    assert stored is not None
    return stored.obj


def test_token_names_the_service_account(tokens: ServiceAccountTokens, store: Store) -> None:
    user = tokens.authenticate(tokens.issue(_account(store)).token)
    assert user.name == "system:serviceaccount:ns:bot"
    assert user.uid == "u1"
    assert user.groups == (
        "system:serviceaccounts",
        "system:serviceaccounts:ns",
        "system:authenticated",
    )


def test_token_expires(tokens: ServiceAccountTokens, store: Store, clock: Clock) -> None:
    issued = tokens.issue(_account(store), expiration_seconds=600)
    clock.now += 599
    tokens.authenticate(issued.token)
    clock.now += 1
    with pytest.raises(InvalidToken, match="service account token has expired"):
        tokens.authenticate(issued.token)


def test_audience_must_match(tokens: ServiceAccountTokens, store: Store) -> None:
    token = tokens.issue(_account(store), audiences=["vault"]).token
    assert tokens.authenticate(token, ["vault"]).name.endswith(":bot")
    with pytest.raises(InvalidToken, match=r'token audiences \["vault"\] is invalid'):
        tokens.authenticate(token)


def test_tampered_token_is_refused(tokens: ServiceAccountTokens, store: Store) -> None:
    header, claims, signature = tokens.issue(_account(store)).token.split(".")
    forged = ".".join(
        [header, claims.replace(claims[5], "A" if claims[5] != "A" else "B"), signature]
    )
    with pytest.raises(InvalidToken):
        tokens.authenticate(forged)


def test_recreated_service_account_revokes_old_tokens(
    tokens: ServiceAccountTokens, store: Store
) -> None:
    token = tokens.issue(_account(store)).token
    store.put(
        ACCOUNTS, {"metadata": {"name": "bot", "namespace": "ns", "uid": "u2"}}, created=False
    )
    with pytest.raises(
        InvalidToken, match=r"service account UID \(u2\) does not match claim \(u1\)"
    ):
        tokens.authenticate(token)
