"""Text to sequences of token ids, for ``sklearn_nn.layers.Embedding``."""

import re
from collections import Counter
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer

from ._validation import Interval, _fit_context, check_is_fitted

__all__ = ["TokenSequencer"]

#: the id of padding (after the end of a short document)
PADDING_ID = 0
#: the id of tokens outside the vocabulary
UNKNOWN_ID = 1


class TokenSequencer(TransformerMixin, BaseEstimator):
    """Turn raw documents into fixed-length rows of token ids.

    ``fit`` learns a vocabulary, the most frequent tokens of the training documents;
    ``transform`` replaces each token of a document by its id and pads or truncates
    the sequence to ``max_length`` ids, as Keras's ``TextVectorization`` with
    ``output_mode="int"`` and ``output_sequence_length=max_length``. Tokens are
    found as ``CountVectorizer(lowercase, token_pattern)`` finds them.

    Ids: 0 is padding, 1 an unknown token (not in the vocabulary), and the
    vocabulary's tokens are 2, 3, ... in order of decreasing frequency in the
    training documents (ties in alphabetical order), so every id is below
    ``vocabulary_size``: ``Embedding(input_dim=vocabulary_size, ...,
    mask_zero=True)`` takes the output (with ``vocabulary_size=None``, every id is
    below ``len(vocabulary_) + 2``).

    Parameters
    ----------
    max_length : int, default=100
        Ids per document: longer documents keep their first ``max_length`` tokens,
        shorter ones are padded with 0 at the end.
    vocabulary_size : int or None, default=20000
        Number of ids, the two reserved ones included: the vocabulary keeps the
        ``vocabulary_size - 2`` most frequent tokens. None keeps every token.
    lowercase : bool, default=True
        Convert the documents to lowercase before tokenising.
    token_pattern : str, default=r"(?u)\\b\\w\\w+\\b"
        Regular expression of a token, as in ``CountVectorizer`` (by default words
        of 2 or more alphanumeric characters; punctuation is dropped). With one
        capturing group, the group is the token.
    min_frequency : int, default=1
        Tokens seen fewer times in the training documents are left out of the
        vocabulary (and become unknown).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Each token of the vocabulary and its id (2, 3, ...), in id order.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : Token counts per document.
    sklearn_nn.layers.Embedding : Learned vectors of token ids.

    Notes
    -----
    As ``CountVectorizer``, it takes an iterable of str (or bytes, decoded as
    UTF-8) rather than a 2-D array, and sets no ``n_features_in_``.

    Examples
    --------
    >>> from sklearn_nn.preprocessing import TokenSequencer
    >>> docs = ["the cat sat", "the dog sat on the mat"]
    >>> seq = TokenSequencer(max_length=5).fit(docs)
    >>> seq.vocabulary_
    {'the': 2, 'sat': 3, 'cat': 4, 'dog': 5, 'mat': 6, 'on': 7}
    >>> seq.transform(["the cat ate the mat", "a dog"])
    array([[2, 4, 1, 2, 6],
           [5, 0, 0, 0, 0]])
    """

    _parameter_constraints = {
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "vocabulary_size": [Interval(Integral, 3, None, closed="left"), None],
        "lowercase": ["boolean"],
        "token_pattern": [str],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        max_length=100,
        vocabulary_size=20000,
        lowercase=True,
        token_pattern=r"(?u)\b\w\w+\b",
        min_frequency=1,
    ):
        self.max_length = max_length
        self.vocabulary_size = vocabulary_size
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.min_frequency = min_frequency

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, raw_documents, y=None):
        """Learn the vocabulary of the documents.

        Parameters
        ----------
        raw_documents : iterable of str
            The training documents (read once: a generator works).
        y : None
            Ignored.

        Returns
        -------
        self : TokenSequencer
            The fitted transformer.
        """
        counts = Counter()
        for tokens in self._token_lists(raw_documents):
            counts.update(tokens)
        self._learn_vocabulary(counts)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, raw_documents, y=None):
        """Learn the vocabulary and return the documents' id rows, in one pass.

        Parameters
        ----------
        raw_documents : iterable of str
            The training documents (read once: a generator works).
        y : None
            Ignored.

        Returns
        -------
        ids : ndarray of shape (n_documents, max_length), dtype int64
            The documents' token ids (see ``transform``).
        """
        token_lists = list(self._token_lists(raw_documents))
        counts = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        self._learn_vocabulary(counts)
        return self._ids(token_lists)

    def transform(self, raw_documents):
        """Each document as a row of ``max_length`` token ids.

        Parameters
        ----------
        raw_documents : iterable of str
            The documents.

        Returns
        -------
        ids : ndarray of shape (n_documents, max_length), dtype int64
            Row i holds the ids of document i's first ``max_length`` tokens (1 for
            tokens outside the vocabulary), then 0 up to ``max_length``.
        """
        check_is_fitted(self)
        return self._ids(self._token_lists(raw_documents))

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the positions in the sequence.

        Parameters
        ----------
        input_features : None
            Ignored (text has no input features), as in ``CountVectorizer``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"tokensequencer0"`` to ``"tokensequencer{max_length - 1}"``.
        """
        check_is_fitted(self)
        return np.asarray(
            [f"tokensequencer{i}" for i in range(self.max_length)], dtype=object
        )

    def __sklearn_tags__(self):
        """Text input, as ``CountVectorizer``: no 2-D array, strings."""
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _token_lists(self, raw_documents):
        """Each document's tokens (a generator); errors for what is not text."""
        if isinstance(raw_documents, (str, bytes)):
            raise ValueError(
                "Iterable over raw text documents expected, string object received."
            )
        try:
            documents = iter(raw_documents)
        except TypeError:
            raise TypeError(
                "TokenSequencer takes an iterable of str documents, got "
                f"{type(raw_documents).__name__}."
            ) from None
        analyzer = self._analyzer()
        for i, doc in enumerate(documents):
            if not isinstance(doc, (str, bytes)):
                raise TypeError(
                    "TokenSequencer takes an iterable of str documents; document "
                    f"{i} is a {type(doc).__name__}: {doc!r:.60}."
                )
            yield analyzer(doc)

    def _analyzer(self):
        """CountVectorizer's word analyzer for these parameters (not kept on self:
        a closure does not pickle)."""
        try:
            re.compile(self.token_pattern)
        except re.error as exc:
            raise ValueError(
                f"token_pattern {self.token_pattern!r} is not a regular expression: "
                f"{exc}."
            ) from None
        return CountVectorizer(
            lowercase=self.lowercase, token_pattern=self.token_pattern
        ).build_analyzer()

    def _learn_vocabulary(self, counts):
        """``vocabulary_`` from the token counts: most frequent first, ties
        alphabetical."""
        kept = [(-c, token) for token, c in counts.items() if c >= self.min_frequency]
        if not kept:
            raise ValueError(
                "Empty vocabulary: the documents have no token matching "
                f"token_pattern {self.token_pattern!r} seen at least min_frequency="
                f"{self.min_frequency} times."
            )
        kept.sort()
        if self.vocabulary_size is not None:
            kept = kept[: self.vocabulary_size - 2]
        self.vocabulary_ = {
            token: i for i, (_, token) in enumerate(kept, start=UNKNOWN_ID + 1)
        }

    def _ids(self, token_lists):
        """The (n, max_length) id rows of the documents' tokens (an iterable)."""
        vocabulary, length = self.vocabulary_, self.max_length
        rows = [
            [vocabulary.get(token, UNKNOWN_ID) for token in tokens[:length]]
            for tokens in token_lists
        ]
        out = np.full((len(rows), length), PADDING_ID, dtype=np.int64)
        for row, ids in zip(out, rows, strict=True):
            row[: len(ids)] = ids
        return out
