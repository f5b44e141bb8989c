"""The linear-time matcher: same answers as Python's `re.search` on the supported syntax,
refuses everything else, and stays fast on patterns that make a backtracking engine hang."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuwu.conditions import regex
from fuwu.conditions.regex import PatternError, Regex

ATOMS = st.sampled_from(
    ["a", "b", "中", ".", r"\.", r"\*", r"\d", r"\w", r"\s", r"\D", "[ab]", "[^a]", "[a-c1]",
     r"[\d_]", "[]a]", "[a-]", "x", " ", "{", "}", "]"]
)  # fmt: skip
QUANTIFIERS = st.sampled_from(["", "*", "+", "?", "*?", "+?", "{2}", "{1,3}", "{,2}", "{2,}"])


def _pattern(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    grouped = st.builds(
        lambda p, q, c: f"({c}{p}){q}", children, QUANTIFIERS, st.sampled_from(["", "?:"])
    )
    joined = st.lists(children, min_size=1, max_size=3).map("".join)
    alternatives = st.lists(children, min_size=2, max_size=3).map("|".join)
    return st.one_of(grouped, joined, alternatives)


PATTERNS = st.builds(
    lambda start, body, end: start + body + end,
    st.sampled_from(["", "^"]),
    st.recursive(st.builds(lambda a, q: a + q, ATOMS, QUANTIFIERS), _pattern, max_leaves=6),
    st.sampled_from(["", "$"]),
)
TEXTS = st.text(alphabet="ab中1 _.*x{}]\t-", max_size=12)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS, texts=st.lists(TEXTS, min_size=1, max_size=5))
def test_answers_like_python_re(pattern, texts):
    compiled = Regex(pattern)
    for text in texts:
        assert compiled.search(text) == bool(re.search(pattern, text)), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("", "", True),
        ("^$", "", True),
        ("$^", "", True),
        ("^", "abc", True),
        ("a$", "ba", True),
        ("a$", "ab", False),
        ("a.c", "a\nc", False),
        ("a[^b]c", "a\nc", True),
        (r"\s", "\u3000", True),  # ideographic space
        (r"\d", "٣", True),  # Arabic-Indic digit, as Python's \d
        (r"\w+@\w+", "联系 张三@例子", True),
        ("工单|投诉", "客户投诉", True),
        ("(ab){2}", "abab", True),
        ("(ab){3}", "abab", False),
        ("a{,}", "a{,}", True),
        ("a{x}", "a{x}", True),
        ("a|", "zzz", True),
        ("()*", "", True),
        ("(a*)*b", "aaaab", True),
    ],
)
def test_examples(pattern, text, expected):
    assert Regex(pattern).search(text) is expected
    assert bool(re.search(pattern, text)) is expected


@pytest.mark.parametrize(
    ("pattern", "reason", "position"),
    [
        ("*a", regex.NOTHING_TO_REPEAT, 0),
        ("^*", regex.NOTHING_TO_REPEAT, 0),
        ("a**", regex.MULTIPLE_REPEAT, 2),
        ("a{2}{3}", regex.MULTIPLE_REPEAT, 4),
        ("a*+", regex.POSSESSIVE, 2),
        ("a{3,2}", regex.MIN_OVER_MAX, 1),
        ("a{101}", regex.REPEAT_TOO_LARGE, 1),
        ("a)", regex.UNBALANCED, 1),
        ("(a", regex.UNTERMINATED_GROUP, 0),
        ("(?=a)", regex.UNSUPPORTED_GROUP, 1),
        ("(?i)a", regex.UNSUPPORTED_GROUP, 1),
        ("(?P<n>a)", regex.UNSUPPORTED_GROUP, 1),
        (r"(a)\1", regex.BAD_ESCAPE, 3),
        (r"\bword", regex.BAD_ESCAPE, 0),
        ("a\\", regex.BAD_ESCAPE, 2),
        ("[ab", regex.UNTERMINATED_SET, 0),
        ("[z-a]", regex.BAD_RANGE, 1),
        (r"[\d-z]", regex.BAD_RANGE, 1),
        ("(a{100}){100}", regex.TOO_COMPLEX, 0),
        ("a" * 201, regex.TOO_LONG, 200),
    ],
)
def test_refuses_what_it_does_not_support(pattern, reason, position):
    with pytest.raises(PatternError) as caught:
        Regex(pattern)
    assert (caught.value.reason, caught.value.position) == (reason, position)
    assert reason in regex.REASONS


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\s*\s*x", " " * 100_000),  # 31 s for 4,000 characters with re
        (".*.*.*x", "a" * 100_000),
        ("(a|aa)+$", "a" * 100_000 + "b"),
        ("(x+x+)+y", "x" * 100_000),
        ("(a{1,20}){1,20}z", "a" * 100_000),
    ],
)
def test_hostile_patterns_run_in_linear_time(pattern, text):
    compiled = Regex(pattern)
    started = time.perf_counter()
    assert compiled.search(text) is False
    assert time.perf_counter() - started < 2.0


def test_the_transition_cache_is_bounded():
    compiled = Regex("[a-z]+x")
    text = "".join(chr(0x4E00 + i) for i in range(regex.MAX_CACHED + 500))
    assert compiled.search(text) is False
    assert compiled._cached <= regex.MAX_CACHED
    assert compiled.search("abx") is True
