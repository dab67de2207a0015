from mirix_desktop.memory.search import fts_query, keyword_terms


def test_stopwords_and_duplicates_are_dropped() -> None:
    assert keyword_terms("What did Caroline's sister say about the budget budget?") == [
        "caroline",
        "sister",
        "say",
        "budget",
    ]


def test_fts_syntax_in_user_input_stays_literal() -> None:
    query = fts_query(keyword_terms('NEAR("a" b) OR * column:value "quoted'))
    assert query == '"near" OR "b" OR "column" OR "value" OR "quoted"'


def test_non_ascii_words_are_terms() -> None:
    assert keyword_terms("Café Zürich naïve") == ["café", "zürich", "naïve"]
