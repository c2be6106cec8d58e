"""The category tree: 部件, 事件 and 社会需求, with codes, limits, capabilities and keywords.

Modelled on the national digital city-management standard (GB/T 30428.2, CJ/T 214): big classes with
two-digit codes, small classes with four, under a two-letter kind prefix because the standard numbers
部件 and 事件 separately (BJ 部件, SJ 事件, XQ 社会需求). Limits are given on a big class and inherited
by its leaves unless a leaf says otherwise:

    sign   = (urgent minutes, normal working hours)     time to sign for (签收) a case
    reply  = (urgent hours, normal working days)        time to reply with the result (办结反馈)

`keywords` are what callers say; the hotline uses them to suggest a category. `capabilities` (needs
only) are the help a partner organisation must offer to be added as a collaborator; `collaborators`
are departments that help the lead unit (e.g. 民政 on hardship cases).

Loaded by `routing.demo.load` through `catalog.category_sync` (idempotent, by code).
"""

from __future__ import annotations

from typing import Any


def leaf(code: str, name: str, en: str, keywords: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "name_en": en, "keywords": keywords.split(), **extra}


def group(code: str, name: str, en: str, children: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "name_en": en, "children": children, **extra}


URGENT = "urgent"

CATALOG: list[dict[str, Any]] = [
    group(
        "BJ",
        "部件",
        "Components",
        kind="component",
        sign=(30, 2),
        reply=(24, 5),
        children=[
            group(
                "BJ01",
                "公用设施",
                "Public utilities",
                [
                    leaf("BJ0101", "上水井盖", "Water supply manhole cover", "上水井盖 自来水井盖 供水井盖 水表井"),
                    leaf("BJ0102", "污水井盖", "Sewage manhole cover", "污水井盖 下水道井盖 化粪池盖 污水井"),
                    leaf("BJ0103", "雨水井盖", "Storm drain cover", "雨水井盖 雨水篦子 下水口 雨箅子"),
                    leaf(
                        "BJ0104",
                        "井盖缺失",
                        "Missing manhole cover",
                        "井盖丢了 井盖缺失 没有井盖 井盖被偷 掉进井里",
                        urgency=URGENT,
                        sign=(15, 1),
                        reply=(4, 1),
                    ),
                    leaf("BJ0105", "电力井盖", "Power manhole cover", "电力井盖 电缆井 电力盖板"),
                    leaf("BJ0106", "燃气井盖", "Gas valve cover", "燃气井盖 天然气阀门井 煤气井盖"),
                    leaf("BJ0107", "路灯", "Street lamp", "路灯 路灯不亮 灯杆 路灯坏了 照明"),
                    leaf("BJ0108", "消防栓", "Fire hydrant", "消防栓 消火栓 消防水栓 漏水"),
                    leaf("BJ0109", "电力设施", "Power equipment", "电线杆 变压器 配电箱 电线 电缆"),
                    leaf("BJ0110", "燃气管道设施", "Gas pipes and regulators", "燃气管道 调压箱 天然气管 煤气管"),
                ],
            ),
            group(
                "BJ02",
                "道路交通",
                "Roads and traffic",
                [
                    leaf("BJ0201", "交通信号灯", "Traffic light", "红绿灯 信号灯 红绿灯坏了 信号灯不亮"),
                    leaf("BJ0202", "交通标志牌", "Traffic sign", "交通标志 指示牌 标志牌 限速牌"),
                    leaf("BJ0203", "交通护栏", "Traffic barrier", "护栏 隔离栏 道路护栏 栏杆"),
                    leaf("BJ0204", "公交站亭", "Bus shelter", "公交站 站台 候车亭 公交站牌"),
                    leaf("BJ0205", "人行天桥", "Footbridge", "天桥 人行天桥 过街天桥 地下通道"),
                    leaf("BJ0206", "道路设施破损", "Damaged road furniture", "路面破损 坑洼 路坑 人行道板 盲道"),
                    leaf("BJ0207", "电子监控", "Traffic camera", "电子眼 监控探头 摄像头 卡口"),
                ],
            ),
            group(
                "BJ03",
                "市容环境",
                "Streetscape",
                [
                    leaf("BJ0301", "公共厕所", "Public toilet", "公厕 公共厕所 厕所 卫生间"),
                    leaf("BJ0302", "垃圾箱", "Litter bin", "垃圾桶 垃圾箱 果皮箱 分类垃圾桶"),
                    leaf("BJ0303", "垃圾收集站", "Refuse collection point", "垃圾站 垃圾房 垃圾中转站 收集点"),
                    leaf("BJ0304", "户外广告设施", "Billboard structure", "广告牌 广告塔 灯箱 招牌"),
                ],
            ),
            group(
                "BJ04",
                "园林绿化",
                "Parks and greenery",
                [
                    leaf("BJ0401", "行道树", "Street tree", "行道树 树木 树枝 树歪了 枯树"),
                    leaf("BJ0402", "绿地", "Green space", "绿地 草坪 绿化带 草皮"),
                    leaf("BJ0403", "花坛花箱", "Flower bed", "花坛 花箱 花池 花钵"),
                    leaf("BJ0404", "公园设施", "Park facility", "公园 亭子 游园 步道"),
                ],
            ),
            group(
                "BJ05",
                "房屋土地",
                "Buildings and land",
                [
                    leaf("BJ0501", "危房", "Dangerous building", "危房 房屋开裂 墙体裂缝 房子要倒"),
                    leaf("BJ0502", "外墙脱落", "Falling facade", "外墙脱落 瓷砖掉落 墙皮脱落 高空坠物"),
                    leaf("BJ0503", "闲置空地", "Vacant lot", "空地 荒地 闲置地块 围挡"),
                ],
            ),
            group(
                "BJ06",
                "其他设施",
                "Other facilities",
                [
                    leaf("BJ0601", "健身设施", "Fitness equipment", "健身器材 健身设施 运动器材 单杠"),
                    leaf("BJ0602", "宣传栏", "Notice board", "宣传栏 公告栏 阅报栏 橱窗"),
                ],
            ),
        ],
    ),
    group(
        "SJ",
        "事件",
        "Events",
        kind="event",
        sign=(30, 2),
        reply=(24, 3),
        children=[
            group(
                "SJ01",
                "市容环境",
                "Streetscape",
                [
                    leaf("SJ0101", "私搭乱建", "Illegal structure", "私搭乱建 违章建筑 违建 乱搭棚子 加建"),
                    leaf("SJ0102", "暴露垃圾", "Exposed rubbish", "垃圾 垃圾没人收 乱扔垃圾 垃圾成堆"),
                    leaf("SJ0103", "积存渣土", "Piled spoil", "渣土 建筑垃圾 堆土 装修垃圾"),
                    leaf("SJ0104", "道路不洁", "Dirty road", "路面脏 道路不干净 泥巴 油污"),
                    leaf("SJ0105", "水域不洁", "Polluted water", "河道垃圾 水面漂浮物 河水发臭 水体污染"),
                    leaf("SJ0106", "焚烧垃圾", "Burning rubbish", "焚烧 烧垃圾 烧树叶 冒烟"),
                    leaf("SJ0107", "油烟污染", "Cooking fumes", "油烟 餐馆油烟 烧烤油烟 排烟"),
                    leaf("SJ0108", "噪声扰民", "Noise", "噪音 噪声 扰民 太吵 广场舞"),
                ],
            ),
            group(
                "SJ02",
                "宣传广告",
                "Advertising",
                [
                    leaf("SJ0201", "非法小广告", "Illegal flyers", "小广告 牛皮癣 乱贴 乱涂乱画"),
                    leaf("SJ0202", "违规户外广告", "Unauthorised billboard", "违规广告 广告牌违规 大型广告 楼顶广告"),
                    leaf("SJ0203", "非法悬挂横幅", "Illegal banner", "横幅 条幅 挂横幅 拉横幅"),
                    leaf("SJ0204", "占道宣传", "Promotion on the pavement", "占道促销 发传单 摆摊宣传 路演"),
                ],
            ),
            group(
                "SJ03",
                "施工管理",
                "Construction",
                [
                    leaf("SJ0301", "施工扰民", "Construction noise", "施工噪音 夜间施工 工地扰民 打桩"),
                    leaf("SJ0302", "工地扬尘", "Construction dust", "扬尘 工地灰尘 粉尘 尘土飞扬"),
                    leaf("SJ0303", "道路遗撒", "Spillage from trucks", "遗撒 渣土车 撒漏 泥头车"),
                    leaf("SJ0304", "违规占道施工", "Unauthorised road works", "占道施工 挖路 开挖 施工围挡"),
                    leaf("SJ0305", "工地安全隐患", "Unsafe building site", "工地安全 脚手架 塔吊 基坑"),
                ],
            ),
            group(
                "SJ04",
                "街面秩序",
                "Street order",
                [
                    leaf("SJ0401", "占道经营", "Street vending on the pavement", "占道经营 摆摊 小摊 地摊 夜市"),
                    leaf("SJ0402", "店外经营", "Trading outside the shop", "店外经营 出店经营 门口摆放 占用人行道"),
                    leaf("SJ0403", "流动摊贩", "Hawkers", "流动摊贩 游商 小贩 推车卖"),
                    leaf("SJ0404", "露天烧烤", "Open-air barbecue", "露天烧烤 烧烤摊 路边烧烤 烤串"),
                    leaf("SJ0405", "违章停车", "Illegal parking", "乱停车 违章停车 违停 堵路 占用车位"),
                    leaf("SJ0406", "废弃车辆", "Abandoned vehicle", "僵尸车 废弃车 报废车 长期停放"),
                    leaf("SJ0407", "乱堆物料", "Goods piled in the street", "乱堆乱放 堆物 杂物 占道堆放"),
                    leaf("SJ0408", "非机动车乱放", "Bicycles blocking the way", "共享单车 电动车乱停 自行车 乱放"),
                ],
            ),
            group(
                "SJ05",
                "突发事件",
                "Emergencies",
                urgency=URGENT,
                sign=(15, 1),
                reply=(4, 1),
                children=[
                    leaf("SJ0501", "路面塌陷", "Road collapse", "塌陷 路面下沉 地面塌了 天坑"),
                    leaf("SJ0502", "供水管爆裂", "Burst water main", "水管爆了 爆管 自来水管破裂 停水"),
                    leaf("SJ0503", "燃气泄漏", "Gas leak", "燃气泄漏 天然气味 煤气泄漏 闻到气味"),
                    leaf("SJ0504", "道路积水", "Flooded road", "积水 内涝 淹水 下水道堵 排水不畅"),
                    leaf("SJ0505", "树木倒伏", "Fallen tree", "树倒了 大树倒 断枝 树枝砸"),
                    leaf("SJ0506", "电力故障", "Power failure", "停电 断电 电线断了 电线起火"),
                    leaf("SJ0507", "交通事故", "Traffic accident", "车祸 交通事故 撞车 追尾"),
                ],
            ),
            group(
                "SJ06",
                "市场监管",
                "Market supervision",
                [
                    leaf("SJ0601", "食品安全", "Food safety", "食品安全 过期食品 食物中毒 卫生差"),
                    leaf("SJ0602", "价格欺诈", "Price fraud", "乱收费 价格欺诈 宰客 缺斤少两"),
                    leaf("SJ0603", "无证经营", "Unlicensed business", "无证经营 无照经营 黑作坊 无营业执照"),
                ],
            ),
            group(
                "SJ07",
                "公共服务",
                "Public services",
                [
                    leaf("SJ0701", "校园周边秩序", "Around schools", "学校周边 校门口 上下学 接送"),
                    leaf("SJ0702", "医疗卫生", "Health services", "医院 诊所 防疫 病媒 老鼠蟑螂"),
                    leaf("SJ0703", "拖欠工资", "Unpaid wages", "欠薪 拖欠工资 讨薪 工钱"),
                    leaf("SJ0704", "公交运营", "Bus service", "公交车 公交不来 线路 出租车拒载"),
                ],
            ),
        ],
    ),
    group(
        "XQ",
        "社会需求",
        "Social needs",
        kind="need",
        sign=(30, 2),
        reply=(48, 5),
        children=[
            group(
                "XQ01",
                "养老助老",
                "Elderly care",
                capabilities=["elderly_care"],
                collaborators=["minzheng"],
                children=[
                    leaf("XQ0101", "独居老人帮扶", "Old person living alone", "独居老人 空巢老人 孤寡老人 没人照顾"),
                    leaf("XQ0102", "助餐助浴", "Meals and bathing help", "助餐 老年食堂 送餐 助浴"),
                    leaf(
                        "XQ0103",
                        "老人走失",
                        "Missing old person",
                        "老人走失 老人不见了 找老人 迷路",
                        urgency=URGENT,
                        collaborators=["gongan", "minzheng"],
                    ),
                ],
            ),
            group(
                "XQ02",
                "困难帮扶",
                "Hardship",
                collaborators=["minzheng"],
                children=[
                    leaf(
                        "XQ0201",
                        "生活困难救助",
                        "Hardship relief",
                        "生活困难 低保 临时救助 吃不上饭 困难户",
                        capabilities=["hardship_relief"],
                    ),
                    leaf(
                        "XQ0202",
                        "残疾人帮扶",
                        "Disability help",
                        "残疾人 轮椅 无障碍 残疾",
                        capabilities=["disability_help"],
                    ),
                    leaf(
                        "XQ0203",
                        "困境儿童关爱",
                        "Children in difficulty",
                        "留守儿童 困境儿童 孩子没人管 儿童",
                        capabilities=["child_care"],
                    ),
                    leaf(
                        "XQ0204",
                        "就医困难",
                        "Medical hardship",
                        "看病难 医疗救助 大病 医药费",
                        capabilities=["medical_help"],
                        collaborators=["weijian"],
                    ),
                ],
            ),
            group(
                "XQ03",
                "矛盾纠纷",
                "Disputes",
                capabilities=["dispute_mediation"],
                children=[
                    leaf("XQ0301", "邻里纠纷", "Neighbour dispute", "邻居 邻里纠纷 吵架 漏水到楼下"),
                    leaf("XQ0302", "物业纠纷", "Property management dispute", "物业 物业费 小区管理 业委会"),
                    leaf(
                        "XQ0303",
                        "劳动纠纷",
                        "Labour dispute",
                        "劳动纠纷 劳动合同 辞退 工伤",
                        capabilities=["legal_aid", "dispute_mediation"],
                        collaborators=["renshe"],
                    ),
                    leaf(
                        "XQ0304",
                        "家庭矛盾",
                        "Family conflict",
                        "家庭矛盾 家暴 夫妻吵架 赡养",
                        capabilities=["dispute_mediation", "psychological"],
                    ),
                ],
            ),
            group(
                "XQ04",
                "安全隐患",
                "Safety hazards",
                urgency=URGENT,
                sign=(20, 1),
                reply=(24, 2),
                children=[
                    leaf("XQ0401", "消防安全隐患", "Fire hazard", "消防通道 堵塞 消防隐患 易燃物"),
                    leaf("XQ0402", "电动车违规充电", "Unsafe e-bike charging", "飞线充电 电动车充电 楼道充电 电瓶车"),
                    leaf("XQ0403", "高空抛物", "Objects thrown from height", "高空抛物 楼上扔东西 抛物"),
                    leaf(
                        "XQ0404",
                        "心理危机",
                        "Person in crisis",
                        "想不开 轻生 心理危机 情绪激动",
                        capabilities=["psychological"],
                        collaborators=["weijian"],
                    ),
                ],
            ),
            group(
                "XQ05",
                "志愿服务",
                "Volunteering",
                capabilities=["volunteer_cleanup"],
                children=[
                    leaf("XQ0501", "环境清洁志愿", "Clean-up volunteers", "志愿者 清洁 义务劳动 大扫除"),
                    leaf("XQ0502", "社区活动需求", "Community activity", "社区活动 文体活动 志愿服务 便民服务"),
                ],
            ),
        ],
    ),
]


def walk(nodes: list[dict[str, Any]] | None = None, parent: dict[str, Any] | None = None, inherited=None):
    """Yield (node, parent code, resolved fields) in tree order, each child after its parent.

    Resolved fields are what a database row needs: the node's own values, else its nearest ancestor's.
    """
    inherited = inherited or {}
    for node in nodes if nodes is not None else CATALOG:
        fields = {
            "kind": node.get("kind", inherited.get("kind")),
            "urgency": node.get("urgency", inherited.get("urgency", "normal")),
            "sign": node.get("sign", inherited.get("sign", (30, 2))),
            "reply": node.get("reply", inherited.get("reply", (24, 5))),
            "capabilities": node.get("capabilities", inherited.get("capabilities", [])),
            "collaborators": node.get("collaborators", inherited.get("collaborators", [])),
        }
        yield node, (parent["code"] if parent else None), fields
        if node.get("children"):
            yield from walk(node["children"], node, fields)


def leaves() -> list[dict[str, Any]]:
    return [node for node, _parent, _fields in walk() if not node.get("children")]
