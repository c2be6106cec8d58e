"""Category suggestions from what callers actually say, and learning from the agents' choices."""

from __future__ import annotations

import pytest

from hotline import classifier
from hotline.models import WordChoice
from routing import catalog
from routing.models import Category

URL = "/api/v1/hotline/suggest/categories/"

# Several ways callers put the same problem, on the real demo catalogue.
PHRASINGS = {
    "BJ0104": [
        "小区门口的井盖被偷了，晚上很危险",
        "路中间有个井盖丢了，差点掉进去",
        "人行道上没有井盖，一个大黑洞",
    ],
    "BJ0107": [
        "路灯坏了好几天了，晚上黑漆漆的",
        "我们这条街的路灯不亮",
        "小区外面马路上的路灯坏了一排",
    ],
    "SJ0405": [
        "有辆车违章停车，把路都堵死了",
        "楼下天天有人乱停车，车开不出去",
        "人行道上违停的车太多了",
    ],
    "SJ0108": [
        "晚上广场舞声音太大，吵得睡不着",
        "楼下酒吧噪音扰民到凌晨",
        "隔壁商铺大喇叭噪声很大",
    ],
    "SJ0502": [
        "水管爆了，马路上全是水",
        "自来水管破裂，水一直往外冒",
        "小区门口爆管了，到处都是水",
    ],
    "XQ0101": [
        "家里老人一个人住没人照顾",
        "隔壁有个独居老人好几天没出门",
        "社区里的孤寡老人需要有人帮帮他",
    ],
    "SJ0703": [
        "单位拖欠我三个月工资不给",
        "老板欠薪跑路了，我们去讨薪",
    ],
}


def test_a_word_shared_by_one_group_outweighs_an_incidental_word(world):
    # 井盖 is held by every manhole-cover leaf of one group; 车辆 only by 废弃车辆.
    suggestions = classifier.suggest("花果园附近井盖松动，车辆经过响声很大，担心有人踩空")
    assert suggestions[0]["name"].endswith("井盖"), [(s["code"], s["name"], s["score"]) for s in suggestions]


@pytest.mark.parametrize(
    ("code", "text"), [(code, text) for code, texts in PHRASINGS.items() for text in texts], ids=lambda v: str(v)
)
def test_the_category_callers_mean_is_suggested_first(world, code, text):
    suggestions = classifier.suggest(text)

    assert suggestions, text
    assert suggestions[0]["code"] == code, [(s["code"], s["name"], s["score"]) for s in suggestions]


def test_suggestions_say_why(world, agent, api):
    response = api(agent).get(URL, {"q": "路灯坏了好几天了"})

    assert response.status_code == 200
    first = response.json()[0]
    assert (first["code"], first["name"], first["group"]) == ("BJ0107", "路灯", "公用设施")
    assert "路灯坏了" in first["reasons"]["keywords"]


def test_only_leaf_categories_are_suggested(world):
    # 公用设施 (BJ01) is a group: its name may match, but a case cannot be filed under it.
    codes = [s["code"] for s in classifier.suggest("公用设施 井盖 路灯 交通设施")]

    assert codes and all(len(code) == 6 for code in codes)


def test_a_text_with_nothing_to_go_on_suggests_nothing(world):
    assert classifier.suggest("喂你好") == []
    assert classifier.suggest("") == []


def test_agents_choices_teach_the_suggester_their_phrasing(world, file_call):
    text = "工地上拉土的车把泥巴撒了一路"
    assert classifier.suggest(text)[0]["code"] != "SJ0303"

    for n in range(3):
        file_call(content=f"{text}（第{n + 1}次来电）", category="SJ0303", caller_phone=f"1390000000{n}")

    first = classifier.suggest(text)[0]
    assert first["code"] == "SJ0303"
    assert any(item["word"] == "泥巴" for item in first["reasons"]["learnt"])
    assert WordChoice.objects.get(word="泥巴", category__code="SJ0303").count == 3


def test_a_new_keyword_on_a_category_is_used_at_once(world):
    assert classifier.suggest("马路上有只死猫") == []
    lamp = Category.objects.get(code="SJ0104")
    catalog.category_update(category_id=lamp.pk, keywords=[*lamp.keywords, "死猫"])

    assert classifier.suggest("马路上有只死猫")[0]["code"] == "SJ0104"


def test_the_endpoint_refuses_an_empty_question(world, agent, api):
    assert api(agent).get(URL).status_code == 400
    assert "q" in api(agent).get(URL, {"q": ""}).json()
    assert api(agent).get(URL, {"q": "路灯", "limit": 99}).status_code == 400
