"""ServiceAccount tokens: JWTs that TokenRequest issues and the authenticator checks.

The claims are kube-apiserver's bound service account tokens: ``iss``, ``sub``
(``system:serviceaccount:NS:NAME``), ``aud``, ``exp``/``iat``/``nbf``, ``jti`` and the
``kubernetes.io`` claim naming the ServiceAccount (and the Pod or Secret the token is bound
to) with UIDs. A token is accepted while it has not expired, one of its audiences is one the
caller accepts, and the ServiceAccount (and bound object) it names still exists with the same
UID, so deleting the ServiceAccount revokes its tokens at once.

Signatures are ES256 with the server's key. Verifying one costs ~0.1 ms, so verified claims
are remembered (bounded); the expiry and existence checks still run on every request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from reconcile.apiserver.auth.user import (
    AUTHENTICATED,
    UserInfo,
    parse_service_account,
    service_account_groups,
    service_account_username,
)
from reconcile.apiserver.storage import Store

__all__ = [
    "DEFAULT_EXPIRATION",
    "DEFAULT_ISSUER",
    "MIN_EXPIRATION",
    "InvalidToken",
    "IssuedToken",
    "ServiceAccountTokens",
    "looks_like_jwt",
]

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
"""kube-apiserver's usual ``--service-account-issuer``; also the default API audience."""
DEFAULT_EXPIRATION = 3600
"""Seconds a TokenRequest token lives when the request does not say (kube's default)."""
MIN_EXPIRATION = 600
"""TokenRequest refuses shorter lifetimes ("may not specify a duration less than 10 minutes")."""
MAX_EXPIRATION = 1 << 32
_CACHE_SIZE = 4096
_BOUND_KINDS = {"Pod": ("", "pods"), "Secret": ("", "secrets")}


class InvalidToken(Exception):
    """The token is not one this server accepts; the message says why (TokenReview shows it)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires: float
    """Seconds since the epoch."""


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class _Verified:
    """What a good signature proves; re-checked against the clock and the store each time."""

    user: UserInfo
    claims: dict[str, Any]


class ServiceAccountTokens:
    """Issues and authenticates ServiceAccount JWTs against one store."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        store: Store,
        *,
        clock: Callable[[], float],
        issuer: str = DEFAULT_ISSUER,
    ) -> None:
        self._key = key
        self._public = key.public_key()
        self._store = store
        self._clock = clock
        self.issuer = issuer
        self.api_audiences: tuple[str, ...] = (issuer,)
        der = self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = _b64(hashlib.sha256(der).digest())
        self._verified: dict[str, _Verified] = {}

    # issuing

    def issue(
        self,
        account: dict[str, Any],
        *,
        audiences: Sequence[str] = (),
        expiration_seconds: int = DEFAULT_EXPIRATION,
        bound: dict[str, Any] | None = None,
    ) -> IssuedToken:
        """A token for the stored ServiceAccount ``account`` (optionally bound to an object)."""
        meta = account["metadata"]
        now = math.floor(self._clock())
        expires = now + expiration_seconds
        scope: dict[str, Any] = {
            "namespace": meta["namespace"],
            "serviceaccount": {"name": meta["name"], "uid": meta.get("uid", "")},
        }
        if bound is not None:
            scope[bound["kind"].lower()] = {"name": bound["name"], "uid": bound["uid"]}
        claims = {
            "aud": list(audiences or self.api_audiences),
            "exp": expires,
            "iat": now,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": scope,
            "nbf": now,
            "sub": service_account_username(meta["namespace"], meta["name"]),
        }
        return IssuedToken(self._sign(claims), float(expires))

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "ES256", "kid": self.key_id}
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    # authenticating

    def authenticate(self, token: str, audiences: Sequence[str] = ()) -> UserInfo:
        """The ServiceAccount user of a valid token; InvalidToken saying why otherwise."""
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify_signature(token)
            if len(self._verified) >= _CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
        claims = verified.claims
        now = self._clock()
        if now >= float(claims.get("exp", 0)):
            raise InvalidToken("service account token has expired")
        if now < float(claims.get("nbf", 0)) - 60:
            raise InvalidToken("service account token is not valid yet")
        wanted = list(audiences or self.api_audiences)
        granted = claims.get("aud") or []
        if not set(wanted) & set(granted):
            raise InvalidToken(
                f"token audiences {_go_quote(granted)} is invalid for the target audiences "
                f"{_go_quote(wanted)}"
            )
        self._check_objects(claims)
        return verified.user

    def _verify_signature(self, token: str) -> _Verified:
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(claims_b64))
            signature = _unb64(signature_b64)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidToken("invalid bearer token: not a well-formed JWT") from exc
        if header.get("alg") != "ES256" or len(signature) != 64 or not isinstance(claims, dict):
            raise InvalidToken("invalid bearer token: unsupported signing algorithm")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            self._public.verify(
                der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature as exc:
            raise InvalidToken("invalid bearer token: signature does not verify") from exc
        if claims.get("iss") != self.issuer:
            raise InvalidToken("invalid bearer token: issued by another issuer")
        parsed = parse_service_account(str(claims.get("sub", "")))
        scope = claims.get("kubernetes.io") or {}
        account = scope.get("serviceaccount") or {}
        if parsed is None or not account.get("uid"):
            raise InvalidToken("invalid bearer token: not a service account token")
        namespace, _ = parsed
        extra: dict[str, tuple[str, ...]] = {
            "authentication.kubernetes.io/credential-id": (f"JTI={claims.get('jti', '')}",)
        }
        for kind in ("pod", "secret"):
            if kind in scope:
                extra[f"authentication.kubernetes.io/{kind}-name"] = (scope[kind]["name"],)
                extra[f"authentication.kubernetes.io/{kind}-uid"] = (scope[kind]["uid"],)
        user = UserInfo(
            name=str(claims["sub"]),
            uid=str(account["uid"]),
            groups=(*service_account_groups(namespace), AUTHENTICATED),
            extra=extra,
        )
        return _Verified(user, claims)

    def _check_objects(self, claims: dict[str, Any]) -> None:
        scope = claims["kubernetes.io"]
        namespace = scope.get("namespace", "")
        account = scope["serviceaccount"]
        stored = self._store.get(("", "serviceaccounts"), namespace, account["name"])
        if stored is None:
            raise InvalidToken(f'serviceaccounts "{account["name"]}" not found')
        if stored.obj["metadata"].get("uid") != account["uid"]:
            raise InvalidToken(
                f"service account UID ({stored.obj['metadata'].get('uid')}) does not match "
                f"claim ({account['uid']})"
            )
        for kind, key in _BOUND_KINDS.items():
            bound = scope.get(kind.lower())
            if bound is None:
                continue
            live = self._store.get(key, namespace, bound["name"])
            if live is None or live.obj["metadata"].get("uid") != bound["uid"]:
                raise InvalidToken(
                    f"{kind.lower()} {namespace}/{bound['name']} the token is bound to is gone"
                )


def bound_object_key(kind: str) -> tuple[str, str] | None:
    """Where TokenRequest looks up the object a token may be bound to (Pod or Secret)."""
    return _BOUND_KINDS.get(kind)


def _go_quote(values: Sequence[str]) -> str:
    """A string slice as Go's ``%q`` prints it: ``["a" "b"]``."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"
