"""Sessions, CSRF tokens and throttling sign-in attempts (per account, per address, overall)."""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import secrets
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from gatekeeper.config import Settings
from gatekeeper.errors import PermissionDenied, TooManyAttempts


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept (0600) in the instance home."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written 0600 from the start and put in place whole: never readable by others, and a
        # process starting at the same moment never reads a half-written key.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:  # another process made it first: keep theirs
                pass
            except OSError:  # a file system without hard links
                os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    path.chmod(0o600)
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not secrets.compare_digest(
            expected.encode(), submitted.encode("utf-8", "replace")):
        raise PermissionDenied("the form's security token is missing or stale: reload the page")


def wait_words(seconds: int) -> str:
    """The wait as the Retry-After header says it: seconds under a minute, else whole minutes."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class SignInThrottled(TooManyAttempts):
    """Too many recent sign-in attempts: refused before the password is looked at.
    `retry_after` is the number of seconds after which an attempt would be considered (HTTP 429
    with a Retry-After header)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            f"too many sign-in attempts: try again in {wait_words(self.retry_after)}")


class LinkAttemptsThrottled(TooManyAttempts):
    """Too many portal links that do not work from one address (HTTP 429, Retry-After)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            "too many links that do not work were tried from your connection: wait "
            f"{wait_words(self.retry_after)}, then open the link from the school's e-mail again")


@dataclass(frozen=True)
class ThrottlePolicy:
    """One scope's budget: `free` attempts within `window_s` go straight through; after that
    each attempt is spaced from the previous one by `base_s * 2^n` seconds, at most `cap_s`."""

    free: int
    base_s: float = 1.0
    cap_s: float = 30.0
    window_s: float = 15 * 60.0

    def gap(self, attempt: int) -> float:
        """How long attempt number `attempt` (1-based, within the window) waits after the previous."""
        if attempt <= self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(attempt - self.free - 1, 62))


ACCOUNT_POLICY = ThrottlePolicy(free=3, base_s=1.0, cap_s=30.0)
ADDRESS_POLICY = ThrottlePolicy(free=10, base_s=1.0, cap_s=30.0)
GLOBAL_POLICY = ThrottlePolicy(free=100, base_s=1.0, cap_s=1.0)
MAX_WAIT_S = 60.0


@dataclass
class _Bucket:
    count: int = 0  # attempts charged within the window (every attempt is charged up front)
    last_slot: float = float("-inf")  # when the latest admitted attempt was (is) checked
    touched: float = 0.0
    pending: int = 0  # attempts admitted by begin() and not yet reported (account buckets only)


def client_key(client_ip: str | None) -> str:
    """Addresses as throttled: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64)."""
    if not client_ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return client_ip.strip()[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def account_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().casefold()[:200]


class SignInThrottle:
    """Slows and then refuses repeated sign-in attempts, per account, per client address and over
    the whole service, correctly under parallel requests.

    Use: ``wait = throttle.begin(username, client_ip)`` *before* checking the password (it raises
    SignInThrottled when the attempt would have to wait longer than `max_wait_s`), sleep `wait`
    seconds without blocking the event loop, check the password, then report
    ``throttle.failed(username, client_ip)`` or ``throttle.succeeded(username, client_ip)``.

    begin() charges the attempt to all three scopes and books its time slot in one step under a
    lock, so parallel guesses queue up one behind the other instead of all being checked at once;
    an attempt that is never reported stays charged, as a failure. Defaults: an account gets 3
    attempts straight through, then waits of 1, 2, 4 ... 30 s between attempts; a client address
    gets 10, then the same; the whole service 100 within 15 minutes, then one attempt a second.
    A success clears its account and refunds its charge to the address and the global budget.
    Counts are forgotten after 15 quiet minutes.
    """

    def __init__(
        self,
        account: ThrottlePolicy = ACCOUNT_POLICY,
        address: ThrottlePolicy = ADDRESS_POLICY,
        overall: ThrottlePolicy = GLOBAL_POLICY,
        max_wait_s: float = MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
    ) -> None:
        self.policies = {"account": account, "address": address, "global": overall}
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.max_tracked = max_tracked
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def _keys(self, username: str, client_ip: str | None) -> list[tuple[str, str]]:
        return [("account", account_key(username)), ("address", client_key(client_ip)), ("global", "")]

    def _bucket(self, key: tuple[str, str], now: float) -> _Bucket:
        """The live bucket for `key` (caller holds the lock); a quiet one starts again."""
        bucket = self._buckets.get(key)
        window = self.policies[key[0]].window_s
        if bucket is None or now - max(bucket.touched, bucket.last_slot) > window:
            if len(self._buckets) >= self.max_tracked:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(touched=now)
        return bucket

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if now - max(bucket.touched, bucket.last_slot) > self.policies[key[0]].window_s:
                del self._buckets[key]

    def begin(self, username: str, client_ip: str | None = None) -> float:
        """Admit one sign-in attempt: the seconds it must wait before its password is checked.
        Raises SignInThrottled (nothing charged) when that wait would exceed `max_wait_s`."""
        with self._lock:
            now = self.clock()
            keys = self._keys(username, client_ip)
            buckets = [self._bucket(key, now) for key in keys]
            slot = now
            for key, bucket in zip(keys, buckets, strict=True):
                gap = self.policies[key[0]].gap(bucket.count + 1)
                if gap:
                    slot = max(slot, bucket.last_slot + gap)
            wait = slot - now
            if wait > self.max_wait_s:
                raise SignInThrottled(wait)
            for bucket in buckets:
                bucket.count += 1
                bucket.last_slot = max(bucket.last_slot, slot)
                bucket.touched = now
            buckets[0].pending += 1
            return wait

    def failed(self, username: str, client_ip: str | None = None) -> None:
        """The attempt admitted by begin() had a wrong password: it stays charged. (Called
        without a preceding begin(), it charges a failure now, as the old API did.)"""
        with self._lock:
            now = self.clock()
            keys = self._keys(username, client_ip)
            account = self._bucket(keys[0], now)
            if account.pending > 0:
                account.pending -= 1
                account.touched = now
                return
            for key in keys:
                bucket = self._bucket(key, now)
                bucket.count += 1
                bucket.last_slot = max(bucket.last_slot, now)
                bucket.touched = now

    def succeeded(self, username: str, client_ip: str | None = None) -> None:
        """The right password: the account starts afresh; the address and the global budget get
        this attempt's charge back (their other failures stand)."""
        with self._lock:
            now = self.clock()
            keys = self._keys(username, client_ip)
            account = self._buckets.pop(keys[0], None)
            if account is not None and account.pending > 0:
                for key in keys[1:]:
                    bucket = self._bucket(key, now)
                    bucket.count = max(0, bucket.count - 1)

    def wait_time(self, username: str, client_ip: str | None = None) -> float:
        """The seconds an attempt for `username` would wait now, without admitting it (the
        portal asks first and charges only links that do not work, with failed())."""
        with self._lock:
            now = self.clock()
            slot = now
            for key in self._keys(username, client_ip):
                bucket = self._buckets.get(key)
                if bucket is not None and now - max(bucket.touched, bucket.last_slot) <= (
                    self.policies[key[0]].window_s
                ):
                    gap = self.policies[key[0]].gap(bucket.count + 1)
                    if gap:
                        slot = max(slot, bucket.last_slot + gap)
            return min(slot - now, self.max_wait_s)


LINK_PREFIX_CHARS = 8  # guesses at one link's first characters count together
LINK_POLICY = ThrottlePolicy(free=3, base_s=1.0, cap_s=30.0)


class LinkThrottle:
    """Portal links that do not work, counted per client address and per token prefix; links
    that work are never held back.

    The token is looked up first (links are 256-bit random: looking costs one indexed read and
    guessing is hopeless), so a parent whose address or link prefix a guesser shares still gets
    in. Only a failing attempt is charged, and once its address or prefix has failed more than
    3 times within 15 minutes it is answered 429 with a Retry-After (waits of 1, 2, 4 ... 30 s
    between attempts) instead of "this link does not work". A working link clears nothing.
    """

    def __init__(self, policy: ThrottlePolicy = LINK_POLICY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        never = ThrottlePolicy(free=10**9)  # no global budget another party could use up
        self._counts = SignInThrottle(account=policy, address=policy, overall=never, clock=clock)

    def failed(self, token: str, client_ip: str | None) -> None:
        """Charge one link that did not work; raise LinkAttemptsThrottled when its address or
        token prefix had to wait before trying again."""
        prefix = f"portal-link:{token[:LINK_PREFIX_CHARS]}"
        wait = self._counts.wait_time(prefix, client_ip)
        self._counts.failed(prefix, client_ip)
        if wait >= 1:
            raise LinkAttemptsThrottled(wait)


class NewLinksThrottled(TooManyAttempts):
    """Too many requests for a new portal link (HTTP 429, Retry-After)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many requests for a new link: wait {wait_words(self.retry_after)}"
                         " and try again, or contact the school office")


NEW_LINK_POLICY = ThrottlePolicy(free=3, base_s=60.0, cap_s=15 * 60.0, window_s=60 * 60.0)


class NewLinkThrottle:
    """Requests for a new portal link, counted per typed address and per client address
    alike whether or not the address is known (so the throttle gives no hint either): three
    within the hour go through, then each waits longer (1, 2, 4 ... 15 minutes)."""

    def __init__(self, policy: ThrottlePolicy = NEW_LINK_POLICY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        never = ThrottlePolicy(free=10**9)
        self._counts = SignInThrottle(account=policy, address=policy, overall=never,
                                      max_wait_s=0.0, clock=clock)

    def charge(self, address: str, client_ip: str | None) -> None:
        """Count one request, or raise NewLinksThrottled (nothing counted)."""
        try:
            self._counts.begin(f"new-link:{address}", client_ip)
        except SignInThrottled as exc:
            raise NewLinksThrottled(exc.retry_after) from None
