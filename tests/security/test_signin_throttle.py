"""Finding 4: sign-in throttling per account, per client address and overall, correct under
parallel requests (an attempt is admitted and charged before its password is checked).

A fake clock makes every figure exact: no test here measures time."""

from __future__ import annotations

import threading

import pytest

from gatekeeper.errors import GatekeeperError
from web.security import SignInThrottle, SignInThrottled, ThrottlePolicy, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock) -> SignInThrottle:
    return SignInThrottle(clock=clock)


def attempt(throttle: SignInThrottle, clock: Clock, user: str, ip: str) -> float:
    """One wrong guess made as soon as the throttle allows it."""
    wait = throttle.begin(user, ip)
    clock.now += wait
    throttle.failed(user, ip)
    return wait


def test_account_waits_double_after_three_failures_then_refuses(throttle, clock):
    waits = [attempt(throttle, clock, "head", "10.0.0.1") for _ in range(9)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 30]
    clock.now += 1  # the next slot is 30 s after the last: a short wait is still allowed
    assert throttle.begin("head", "10.0.0.1") == 29
    assert throttle.begin("head", "10.0.0.1") == 59  # queued behind the one above
    with pytest.raises(SignInThrottled) as refused:
        throttle.begin("head", "10.0.0.1")  # would wait 89 s: refused, not held open
    assert refused.value.retry_after > 60
    assert isinstance(refused.value, GatekeeperError)


def test_forty_parallel_guesses_queue_up_instead_of_all_being_checked(throttle):
    barrier = threading.Barrier(40)
    waits: list[float] = []
    refused: list[SignInThrottled] = []
    lock = threading.Lock()

    def guess():
        barrier.wait()
        try:
            wait = throttle.begin("Head", "203.0.113.9")
        except SignInThrottled as exc:
            with lock:
                refused.append(exc)
            return
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The clock stands still: each admitted guess is booked after the previous one.
    assert sorted(waits) == [0, 0, 0, 1, 3, 7, 15, 31]
    assert len(refused) == 32


def test_many_accounts_from_one_address_are_throttled(throttle, clock):
    waits = [attempt(throttle, clock, f"user{i}", "198.51.100.7") for i in range(14)]
    assert waits == [0] * 10 + [1, 2, 4, 8]
    # Another address is not slowed by that one.
    assert throttle.begin("someone", "198.51.100.8") == 0


def test_one_account_from_many_addresses_is_throttled(throttle, clock):
    waits = [attempt(throttle, clock, "dpo", f"192.0.2.{i}") for i in range(6)]
    assert waits == [0, 0, 0, 1, 2, 4]


def test_global_budget_spaces_attempts_from_everywhere(throttle):
    # A botnet: every guess from its own address, against its own account; the clock stands still.
    waits = []
    for i in range(160):
        try:
            waits.append(throttle.begin(f"user{i}", f"10.{i // 250}.{i % 250}.1"))
        except SignInThrottled:
            waits.append(None)
    assert waits[:100] == [0] * 100
    assert waits[100:103] == [1, 2, 3]  # one a second after the budget
    assert waits[159] == 60
    with pytest.raises(SignInThrottled):
        throttle.begin("anyone", "172.16.0.1")


def test_success_clears_the_account_and_refunds_the_address(throttle, clock):
    for _ in range(5):
        attempt(throttle, clock, "editor", "10.1.1.1")
    wait = throttle.begin("editor", "10.1.1.1")
    clock.now += wait
    throttle.succeeded("editor", "10.1.1.1")
    assert throttle.begin("editor", "10.1.1.1") == 0
    throttle.succeeded("editor", "10.1.1.1")
    # The address keeps its five failures: five more go through, then it waits.
    waits = [attempt(throttle, clock, f"x{i}", "10.1.1.1") for i in range(6)]
    assert waits == [0, 0, 0, 0, 0, 1]


def test_counts_are_forgotten_after_a_quiet_window(throttle, clock):
    for _ in range(8):
        attempt(throttle, clock, "head", "10.0.0.1")
    clock.now += 16 * 60
    assert throttle.begin("head", "10.0.0.1") == 0


def test_user_names_and_ipv6_addresses_are_normalised(throttle, clock):
    waits = [attempt(throttle, clock, name, "10.0.0.1") for name in ("Head", "HEAD", " head ", "ｈｅａｄ")]
    assert waits == [0, 0, 0, 1]
    assert throttle.begin("head", "10.0.0.2") == 2
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key(None) == "unknown"


def test_unreported_attempts_stay_charged(throttle, clock):
    for _ in range(4):
        throttle.begin("head", "10.0.0.1")  # requests that died before reporting
    assert throttle.begin("head", "10.0.0.1") > 0


def test_old_api_still_throttles_by_account():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for _ in range(3):
        assert throttle.wait_time("head") == 0
        throttle.failed("head")
    assert throttle.wait_time("head") == 1
    throttle.succeeded("head")
    assert throttle.wait_time("head") == 0


def test_policies_and_memory_bound_are_configurable(clock):
    throttle = SignInThrottle(
        account=ThrottlePolicy(free=1, base_s=5, cap_s=5, window_s=60),
        max_wait_s=7,
        clock=clock,
        max_tracked=50,
    )
    assert throttle.begin("a", "10.0.0.1") == 0
    assert throttle.begin("a", "10.0.0.1") == 5
    with pytest.raises(SignInThrottled):
        throttle.begin("a", "10.0.0.1")
    for i in range(200):
        clock.now += 61
        throttle.begin(f"u{i}", f"10.0.{i}.1")
    assert len(throttle._buckets) <= 50 + 3
