"""The local credentials of a service folder: how the local AWS services and the callback endpoint
tell this folder's handlers and commands from anyone else.

Each folder has a secret, `.tool/local-credentials.key` (32 random bytes, 0600 inside the 0700
`.tool`), made by the first command that needs it. Credentials are derived from it: an access key
id is random (`ASIA` and 16 base32 characters, the form of AWS's temporary keys), and its secret
access key and session token are HMAC-SHA256 of the folder's secret and the key id. So whoever
holds the folder's secret (the local AWS services' process, an execution's callback endpoint, a
`tool` command) can check a request signed with any key id handed out for the folder, without
sharing state with whoever handed it out; a handler of another folder, or another user (who
cannot read `.tool`), cannot make credentials that pass.

Every request must carry a Signature Version 4 signature made with such credentials, checked as
AWS checks it: the `Authorization` header (or, for presigned URLs, the `X-Amz-*` query
parameters), the session token, the canonical request (S3's path taken as sent, other services'
encoded once more, as the SDKs sign them), the payload's SHA-256 (or `x-amz-content-sha256` when
it was signed: `UNSIGNED-PAYLOAD` and the streaming forms are taken as they are, and the chunk
signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` are not checked), and the date: within 15
minutes of the clock, or before a presigned URL's expiry.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

from tooling.errors import InputError
from tooling.statedir import inside, private_parents

KEY_FILE = "local-credentials.key"
_SECRET_BYTES = 32
_ALGORITHM = "AWS4-HMAC-SHA256"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 +Credential=(?P<credential>[^,\s]+), *"
    r"SignedHeaders=(?P<headers>[^,\s]+), *Signature=(?P<signature>[0-9a-f]{64})"
)
_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
# AWS refuses a signature dated more than 15 minutes away from its clock ("Signature expired").
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# Query parameters that are part of a Signature Version 2 resource (S3's REST authentication).
_V2_SUBRESOURCES = frozenset(
    [
        "accelerate",
        "acl",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
        "analytics",
    ]
)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """Lambda's reserved credential variables, which the AWS SDKs sign with."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


class SignatureRefused(Exception):
    """A request the credentials do not vouch for. `reason`: missing (no signature), unrecognized
    (a key or token not made from this secret), incomplete (not a well-formed SigV4 signature),
    signature (does not match), expired, payload (the body is not the one signed)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers. `target` is the path and query as sent (percent-encoded);
    `headers` are keyed in lower case."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class LocalSigning:
    """Credentials made from one secret, and the check of requests signed with them."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def ephemeral(cls) -> LocalSigning:
        """A secret that lives in this process only (a run whose folder has none and needs
        none on disk: only its own callback endpoint checks its handlers' requests)."""
        return cls(secrets.token_bytes(_SECRET_BYTES))

    @classmethod
    def of_folder(cls, tool_dir: Path, *, create: bool) -> LocalSigning | None:
        """The folder's secret (`.tool/local-credentials.key`), made first with `create`;
        None when it is not there and `create` is false."""
        path = inside(tool_dir, KEY_FILE)
        secret = _read_secret(path)
        if secret is None and create:
            secret = _create_secret(path)
        return cls(secret) if secret is not None else None

    def issue(self) -> Credentials:
        """Credentials with a new key id."""
        alphabet = base64.b32encode(secrets.token_bytes(10)).decode("ascii")
        return self.credentials("ASIA" + alphabet[:16])

    def credentials(self, key_id: str) -> Credentials:
        return Credentials(key_id, self._derive(b"secret", key_id), self._derive(b"token", key_id))

    def _derive(self, purpose: bytes, key_id: str) -> str:
        digest = hmac.new(self._secret, purpose + b"\0" + key_id.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")

    # -- checking ----------------------------------------------------------------------------

    def verify(self, request: SignedRequest, now: datetime) -> str:
        """Check the request's SigV4 signature; the service of its credential scope, or
        SignatureRefused."""
        path, _, query = request.target.partition("?")
        pairs = _query_pairs(query)
        if "authorization" in request.headers:
            parsed = _from_header(request.headers["authorization"], request.headers)
        elif any(key == "X-Amz-Algorithm" for key, _ in pairs):
            parsed = _from_query(pairs)
        elif any(key == "AWSAccessKeyId" for key, _ in pairs):
            self._verify_v2_query(request.method, path, pairs, request.headers, now)
            return "s3"
        else:
            raise SignatureRefused(
                "missing",
                "Missing Authentication Token: sign the request with the credentials the local "
                "runtime gives handlers (`tool local env` prints a set for other programs)",
            )
        key_id, scope = parsed.credential
        own = self.credentials(key_id) if _KEY_ID.fullmatch(key_id) else None
        token = parsed.token.encode()
        if own is None or not hmac.compare_digest(token, own.session_token.encode()):
            raise SignatureRefused(
                "unrecognized", "The security token included in the request is invalid."
            )
        service = scope[2]
        payload = _payload_hash(request, parsed.presigned, service)
        canonical = "\n".join(
            [
                request.method.upper(),
                _canonical_path(path, service),
                "&".join(
                    f"{_encode(k)}={_encode(v)}"
                    for k, v in sorted(pairs)
                    if not (parsed.presigned and k == "X-Amz-Signature")
                ),
                "".join(
                    f"{name}:{' '.join(request.headers.get(name, '').split())}\n"
                    for name in parsed.signed_headers
                ),
                ";".join(parsed.signed_headers),
                payload,
            ]
        )
        to_sign = "\n".join(
            [
                _ALGORITHM,
                parsed.stamp,
                "/".join(scope),
                hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            ]
        )
        key = ("AWS4" + own.secret_access_key).encode()
        for part in scope:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
            raise SignatureRefused(
                "signature",
                "The request signature we calculated does not match the signature you provided.",
            )
        if _HEX_SHA256.fullmatch(payload) and payload != hashlib.sha256(request.body).hexdigest():
            raise SignatureRefused(
                "payload", "The provided x-amz-content-sha256 header does not match the body."
            )
        if parsed.presigned:
            if now > parsed.signed_at + timedelta(seconds=parsed.expires):
                raise SignatureRefused("expired", "Request has expired")
        elif abs(now - parsed.signed_at) > MAX_SKEW:
            raise SignatureRefused(
                "expired",
                f"Signature expired: {parsed.stamp} is more than 15 minutes from the local "
                "services' time",
            )
        return service

    def _verify_v2_query(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        headers: dict[str, str],
        now: datetime,
    ) -> None:
        """An S3 URL presigned with Signature Version 2, as boto3 presigns by default
        (botocore's HmacV1QueryAuth): HMAC-SHA1 of the method, Content-MD5, Content-Type,
        Expires, the x-amz-* parameters and the resource with its sub-resources."""
        values = dict(pairs)
        key_id = values.get("AWSAccessKeyId", "")
        own = self.credentials(key_id) if _KEY_ID.fullmatch(key_id) else None
        token = values.get("x-amz-security-token", "").encode()
        if own is None or not hmac.compare_digest(token, own.session_token.encode()):
            raise SignatureRefused(
                "unrecognized", "The security token included in the request is invalid."
            )
        expires = values.get("Expires", "")
        amz = sorted((k.lower(), v) for k, v in pairs if k.lower().startswith("x-amz-"))
        resource = path
        sub = sorted((k, v) for k, v in pairs if k in _V2_SUBRESOURCES)
        if sub:
            resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in sub)
        to_sign = "\n".join(
            [
                method.upper(),
                values.get("Content-MD5", headers.get("content-md5", "")),
                values.get("Content-Type", headers.get("content-type", "")),
                expires,
                *(f"{k}:{v}" for k, v in amz),
                resource,
            ]
        )
        digest = hmac.new(own.secret_access_key.encode(), to_sign.encode(), hashlib.sha1)
        expected = base64.b64encode(digest.digest()).decode("ascii")
        if not hmac.compare_digest(expected.encode(), values.get("Signature", "").encode()):
            raise SignatureRefused(
                "signature",
                "The request signature we calculated does not match the signature you provided.",
            )
        if not expires.isdigit() or now.timestamp() > int(expires):
            raise SignatureRefused("expired", "Request has expired")


# -- the secret file --------------------------------------------------------------------------


def _read_secret(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc}", hint=f"delete {path}: it is made again"
        ) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(file.fileno(), 0o600)  # made open to others by hand: tightened
        text = file.read(4 * _SECRET_BYTES).decode("ascii", errors="replace").strip()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise InputError(
            f"{path} is not a key made by tool",
            hint=f"delete {path}: a new one is made (running handlers' credentials stop working)",
        )
    return bytes.fromhex(text)


def _create_secret(path: Path) -> bytes:
    """Write a new secret, or read the one another command wrote first: written whole to a
    file of its own, then linked into place (a link either appears whole or fails)."""
    private_parents(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_bytes(_SECRET_BYTES).hex() + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    secret = _read_secret(path)
    assert secret is not None
    return secret


# -- SigV4 pieces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    credential: tuple[str, list[str]]  # key id, scope (date, region, service, aws4_request)
    signed_headers: list[str]
    signature: str
    token: str
    stamp: str
    signed_at: datetime
    presigned: bool
    expires: int = 0


def _from_header(authorization: str, headers: dict[str, str]) -> _Parsed:
    match = _AUTHORIZATION.fullmatch(authorization.strip())
    if match is None:
        raise SignatureRefused(
            "incomplete",
            "The request signature does not conform to AWS standards: only Signature Version 4 "
            f"({_ALGORITHM}) is accepted",
        )
    signed = match["headers"].split(";")
    stamp = headers.get("x-amz-date", "")
    if "host" not in signed or "x-amz-date" not in signed:
        raise SignatureRefused(
            "incomplete", "The request signature must sign the host and x-amz-date headers."
        )
    return _Parsed(
        credential=_credential(match["credential"], stamp),
        signed_headers=signed,
        signature=match["signature"],
        token=headers.get("x-amz-security-token", ""),
        stamp=stamp,
        signed_at=_timestamp(stamp),
        presigned=False,
    )


def _from_query(pairs: list[tuple[str, str]]) -> _Parsed:
    values = dict(pairs)
    if values.get("X-Amz-Algorithm") != _ALGORITHM:
        raise SignatureRefused("incomplete", f"X-Amz-Algorithm must be {_ALGORITHM}")
    stamp = values.get("X-Amz-Date", "")
    signed = values.get("X-Amz-SignedHeaders", "").split(";")
    signature = values.get("X-Amz-Signature", "")
    try:
        expires = int(values.get("X-Amz-Expires", ""))
    except ValueError:
        expires = -1
    if "host" not in signed or not re.fullmatch(r"[0-9a-f]{64}", signature):
        raise SignatureRefused("incomplete", "The presigned URL is not a complete SigV4 one.")
    if not 0 < expires <= MAX_PRESIGNED_SECONDS:
        raise SignatureRefused(
            "incomplete", f"X-Amz-Expires must be between 1 and {MAX_PRESIGNED_SECONDS} seconds"
        )
    return _Parsed(
        credential=_credential(values.get("X-Amz-Credential", ""), stamp),
        signed_headers=signed,
        signature=signature,
        token=values.get("X-Amz-Security-Token", ""),
        stamp=stamp,
        signed_at=_timestamp(stamp),
        presigned=True,
        expires=expires,
    )


def _credential(credential: str, stamp: str) -> tuple[str, list[str]]:
    key_id, _, rest = credential.partition("/")
    scope = rest.split("/")
    if len(scope) != 4 or scope[3] != "aws4_request" or not stamp.startswith(scope[0]):
        raise SignatureRefused(
            "incomplete", "The credential scope must be <date>/<region>/<service>/aws4_request."
        )
    return key_id, scope


def _timestamp(stamp: str) -> datetime:
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRefused(
            "incomplete", f"X-Amz-Date {stamp!r} is not a basic ISO 8601 timestamp"
        ) from None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&") if query else []:
        key, _, value = item.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _canonical_path(path: str, service: str) -> str:
    """S3 signs the path as sent; every other service the path with dot segments and empty
    segments removed, encoded once more (botocore's SigV4Auth and S3SigV4Auth)."""
    if service == "s3":
        return path or "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    normalized = "/" + "/".join(kept) + ("/" if path.endswith("/") and kept else "")
    return quote(normalized, safe="/~")


def _payload_hash(request: SignedRequest, presigned: bool, service: str) -> str:
    declared = request.headers.get("x-amz-content-sha256")
    if declared:
        return declared
    if presigned:
        return "UNSIGNED-PAYLOAD" if service == "s3" else hashlib.sha256(request.body).hexdigest()
    return hashlib.sha256(request.body).hexdigest() if request.body else _EMPTY_SHA256
