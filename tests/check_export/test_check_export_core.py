"""The checkers' fast paths agree with the standard library they stand in for."""

from __future__ import annotations

import ipaddress
import shlex

from hypothesis import given, settings, strategies as st

from pipeline.check_export.containerlab import _split
from pipeline.check_export.core import interface_version

OCTETS = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["01", "001", "00", "", "a", "-1"]))
PREFIXES = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["08", "024", "", "255.255.255.0", "x"]))


def reference_version(text: str):
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_interface(text).version
    except ValueError:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.lists(OCTETS, min_size=3, max_size=5), PREFIXES, st.sampled_from(["/", "", "//"]))
def test_interface_version_matches_ipaddress_for_ipv4_like_text(octets, prefix, slash):
    text = ".".join(octets) + slash + prefix
    assert interface_version(text) == reference_version(text)


@given(st.text(max_size=30))
def test_interface_version_matches_ipaddress_for_any_text(text):
    assert interface_version(text) == reference_version(text)


def test_interface_version_of_ipv6_and_bare_addresses():
    assert interface_version("2001:db8::1/64") == 6
    assert interface_version("10.0.0.1") is None  # a NIC address needs its prefix
    assert interface_version("10.0.0.1/24") == 4


@given(st.text(alphabet=st.sampled_from(list("ab 1/.\t\n\"'\\é#-\x0b")), max_size=25))
def test_split_matches_shlex(cmd):
    try:
        expected = shlex.split(cmd)
    except ValueError:
        expected = "error"
    try:
        got = _split(cmd)
    except ValueError:
        got = "error"
    assert got == expected


def _forked_check(folder, name):
    """In a forked checker process: its report and how many structures the check parked."""
    from pipeline.check_export import _check_forked, core

    report = _check_forked(folder, name)
    return report.to_dict(), len(core.PARKED or [])


def test_a_forked_checker_parks_what_it_built_and_reports_as_in_process(tmp_path):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from test_check_export_alcor import good_stream, write

    from pipeline.check_export import _check_one, core

    folder = tmp_path / "alcor"
    folder.mkdir()
    write(folder, good_stream())
    here = _check_one(folder, "alcor")
    assert here.checked > 0 and core.PARKED is None  # an ordinary process frees as usual
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
        forked, parked = pool.submit(_forked_check, folder, "alcor").result()
    assert forked == here.to_dict()
    assert parked == 3  # the stream, what it creates, its references: never freed one by one
