"""The topics of a text: our governance words kept whole, synonyms folded, filler and names dropped."""

import jieba

from maps.vocabulary import terms, vocabulary


def test_governance_words_come_out_whole():
    assert terms("楼道里有人飞线充电") == ["楼道", "飞线充电"]
    assert "占道经营" in terms("早上有人占道经营")


def test_synonyms_count_as_one_topic():
    assert terms("窨井盖被偷了") == ["井盖"]
    assert terms("夜里噪声很大") == ["噪音"]
    assert terms("门口有人摆摊") == ["占道经营"]


def test_each_topic_counts_once_per_text():
    assert terms("井盖井盖，窨井盖又丢了") == ["井盖"]


def test_filler_words_numbers_and_callers_names_are_not_topics():
    found = terms("王先生反映附近路灯不亮，电话 138 1234 5678，麻烦尽快处理")
    assert found == ["路灯"]


def test_the_word_lists_are_data_files_in_the_project():
    words = vocabulary()
    assert words.synonyms["窨井盖"] == "井盖"
    assert "反映" in words.stopwords
    assert "飞线充电" in words.words


def test_jiebas_shared_tokenizer_is_left_alone():
    terms("窨井盖被偷了")
    assert jieba.dt.FREQ.get("飞线充电") is None
