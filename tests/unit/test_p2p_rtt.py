"""The round-trip estimator (p2p.rtt) and the PONG event it is fed from (p2p.control)."""

from __future__ import annotations

import pytest

from p2p.control import Pong
from p2p.frames import FrameType, encode_frame
from p2p.rtt import MAX_OUTSTANDING, WINDOW, RttEstimator
from tests.unit.test_p2p_control import events, pair, pump


def test_the_estimate_is_the_median_of_the_last_samples() -> None:
    rtt = RttEstimator()
    assert rtt.rtt is None
    t = 0.0
    for sample in (0.120, 0.002, 0.003):  # a slow first answer (both nodes busy syncing), then the path
        rtt.sent(bytes([int(t)]), t)
        assert rtt.answered(bytes([int(t)]), t + sample) == pytest.approx(sample)
        t += 2.0
    assert rtt.rtt == pytest.approx(0.003) and rtt.latest == pytest.approx(0.003)
    for _ in range(WINDOW):
        rtt.sent(b"x", t)
        rtt.answered(b"x", t + 0.010)
        t += 2.0
    assert rtt.rtt == pytest.approx(0.010)  # only the last WINDOW samples count


def test_the_first_answer_is_the_estimate() -> None:
    rtt = RttEstimator()
    rtt.sent(b"a", 10.0)
    rtt.answered(b"a", 10.2)
    assert rtt.rtt == pytest.approx(0.2)


def test_a_pong_counts_only_once_and_only_for_a_ping_we_sent() -> None:
    rtt = RttEstimator()
    rtt.sent(b"mine", 1.0)
    assert rtt.answered(b"invented", 1.1) is None  # a peer cannot make up a round trip
    assert rtt.rtt is None
    assert rtt.answered(b"mine", 1.1) is not None
    before = rtt.rtt
    assert rtt.answered(b"mine", 9.0) is None  # replayed
    assert rtt.rtt == before


def test_only_the_last_pings_are_remembered() -> None:
    rtt = RttEstimator()
    for i in range(MAX_OUTSTANDING + 5):
        rtt.sent(bytes([i]), float(i))
    assert rtt.answered(bytes([0]), 100.0) is None  # forgotten: a late answer is no sample
    assert len(rtt._sent) == MAX_OUTSTANDING
    assert rtt.answered(bytes([MAX_OUTSTANDING + 4]), MAX_OUTSTANDING + 4.5) == pytest.approx(0.5)


def test_the_control_protocol_reports_the_echoed_opaque_as_a_pong() -> None:
    d, l, _, _ = pair()
    d.start()
    l.start()
    pump(d, l)
    events(d)
    d.ping(b"12345678")
    pump(d, l)
    assert events(d) == [Pong(b"12345678")]
    d.receive(encode_frame(FrameType.PONG, b"x" * 16))  # unsolicited: an event, which the estimator ignores
    assert events(d) == [Pong(b"x" * 16)]
