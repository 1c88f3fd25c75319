"""TokenSequencer: vocabulary order, reserved ids, padding and truncation, unknown
tokens, determinism, clone / pickle, errors, and the scikit-learn checks that apply
to text input."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_nn.preprocessing import TokenSequencer

DOCS = [
    "The cat sat on the mat.",
    "The dog sat on the log!",
    "A cat and a dog: the end",
    "zebra",
]


def test_token_sequencer_vocabulary_by_frequency_then_alphabet():
    seq = TokenSequencer().fit(DOCS)
    # the: 5; cat, dog, on, sat: 2 (alphabetical); and, end, log, mat, zebra: 1
    # ("a" is one character: not a token of the default pattern)
    expected = ["the", "cat", "dog", "on", "sat", "and", "end", "log", "mat", "zebra"]
    assert list(seq.vocabulary_) == expected
    assert seq.vocabulary_ == {token: i + 2 for i, token in enumerate(expected)}


def test_token_sequencer_reserves_padding_and_unknown_ids():
    seq = TokenSequencer(max_length=6).fit(DOCS)
    ids = seq.transform(["the unicorn sat", ""])
    assert ids.dtype == np.int64 and ids.shape == (2, 6)
    assert_array_equal(ids, [[2, 1, 6, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    assert min(seq.vocabulary_.values()) == 2


def test_token_sequencer_truncates_and_pads_at_the_end():
    seq = TokenSequencer(max_length=3).fit(DOCS)
    ids = seq.transform(["the cat sat on the mat", "dog"])
    assert_array_equal(ids, [[2, 3, 6], [4, 0, 0]])  # the first 3 tokens are kept


def test_token_sequencer_vocabulary_size_and_min_frequency():
    seq = TokenSequencer(vocabulary_size=4).fit(DOCS)
    assert seq.vocabulary_ == {"the": 2, "cat": 3}
    assert_array_equal(seq.transform(["dog cat the zebra"])[0, :4], [1, 3, 2, 1])
    seq = TokenSequencer(min_frequency=2).fit(DOCS)
    assert list(seq.vocabulary_) == ["the", "cat", "dog", "on", "sat"]
    seq = TokenSequencer(vocabulary_size=None).fit(DOCS)
    assert len(seq.vocabulary_) == 10


def test_token_sequencer_tokenises_as_count_vectorizer():
    docs = ["Hello, WORLD! x-ray café 42", "hello hello"]
    for kwargs in ({}, {"lowercase": False}, {"token_pattern": r"(?u)\b\w+\b"}):
        seq = TokenSequencer(**kwargs).fit(docs)
        cv = CountVectorizer(**kwargs).fit(docs)
        assert set(seq.vocabulary_) == set(cv.vocabulary_)
    # bytes are decoded as UTF-8, as CountVectorizer does
    seq = TokenSequencer().fit(docs)
    assert_array_equal(
        seq.transform([b"caf\xc3\xa9 hello"]), seq.transform(["café hello"])
    )


def test_token_sequencer_is_deterministic_and_fit_transform_matches():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    docs = [" ".join(rng.choice(words, 12)) for _ in range(40)]
    seq = TokenSequencer(max_length=10, vocabulary_size=12)
    ids = seq.fit_transform(docs)
    assert_array_equal(ids, clone(seq).fit(docs).transform(docs))
    # the documents' order does not change the vocabulary (ties alphabetical)
    order = rng.permutation(len(docs))
    again = clone(seq).fit([docs[i] for i in order])
    assert again.vocabulary_ == seq.vocabulary_
    # each row depends on its document only (sample order and subset invariance)
    assert_array_equal(seq.transform([docs[i] for i in order]), ids[order])
    assert_array_equal(seq.transform(docs[5:9]), ids[5:9])


def test_token_sequencer_reads_generators_once():
    seq = TokenSequencer(max_length=4)
    ids = seq.fit_transform(doc for doc in DOCS)
    assert_array_equal(ids, TokenSequencer(max_length=4).fit(DOCS).transform(DOCS))
    assert_array_equal(seq.transform(iter(DOCS)), ids)
    assert seq.transform([]).shape == (0, 4)


def test_token_sequencer_clone_pickle_and_params():
    seq = TokenSequencer(max_length=7, vocabulary_size=50, lowercase=False)
    assert clone(seq).get_params() == seq.get_params()
    fitted = seq.fit(DOCS)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.vocabulary_ == fitted.vocabulary_
    assert_array_equal(restored.transform(DOCS), fitted.transform(DOCS))
    assert not hasattr(clone(fitted), "vocabulary_")
    assert fitted.set_params(max_length=2).transform(DOCS).shape == (4, 2)
    assert not hasattr(fitted, "n_features_in_")  # text, as CountVectorizer
    names = fitted.get_feature_names_out()
    assert list(names) == ["tokensequencer0", "tokensequencer1"]


def test_token_sequencer_refuses_bad_input():
    seq = TokenSequencer()
    with pytest.raises(ValueError, match="string object received"):
        seq.fit("the cat sat")
    with pytest.raises(TypeError, match="document 1 is a int"):
        seq.fit(["the cat", 3])
    with pytest.raises(TypeError, match="document 0 is a float"):
        seq.fit([np.nan])
    with pytest.raises(TypeError, match="iterable of str documents, got int"):
        seq.fit(5)
    with pytest.raises(ValueError, match="Empty vocabulary"):
        seq.fit(["a b", "!"])
    with pytest.raises(ValueError, match="Empty vocabulary"):
        TokenSequencer(min_frequency=3).fit(["cat dog"])
    with pytest.raises(NotFittedError):
        TokenSequencer().transform(DOCS)
    fitted = TokenSequencer().fit(DOCS)
    with pytest.raises(ValueError, match="string object received"):
        fitted.transform("the cat")
    with pytest.raises(ValueError, match="not a regular expression"):
        TokenSequencer(token_pattern="(").fit(DOCS)


@pytest.mark.parametrize(
    "params",
    [
        {"max_length": 0},
        {"vocabulary_size": 2},
        {"vocabulary_size": 10.0},
        {"min_frequency": 0},
        {"lowercase": "yes"},
        {"token_pattern": None},
    ],
)
def test_token_sequencer_validates_parameters(params):
    with pytest.raises(InvalidParameterError):
        TokenSequencer(**params).fit(DOCS)


# scikit-learn's common tests skip text transformers (CountVectorizer included):
# parametrize_with_checks yields nothing for an estimator whose tags say
# two_d_array=False. The checks below need no numeric 2-D data and apply as they
# are; the data-driven ones (fit returns self, idempotent fit, sample order and
# subset invariance, pickling) are rewritten above with text.
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_param_validation",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
]


@pytest.mark.parametrize("check", API_CHECKS)
def test_token_sequencer_scikit_learn_api_checks(check):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(estimator_checks, check)("TokenSequencer", TokenSequencer())


def test_token_sequencer_fit_returns_self_and_keeps_params():
    seq = TokenSequencer(max_length=5)
    params = seq.get_params()
    assert seq.fit(DOCS) is seq
    assert seq.get_params() == params
    vocabulary = dict(seq.vocabulary_)
    seq.transform(["new words here"])  # transform changes nothing
    assert seq.vocabulary_ == vocabulary
    seq.fit(DOCS)  # fitting again gives the same
    assert seq.vocabulary_ == vocabulary
