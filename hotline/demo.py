"""Demo data for `hotline demo`: the demo log-ins and a few hundred realistic Anshan cases.

Cases are registered through the real operation (`register_case`, with the past registration time),
so numbers, clocks and receipts are what intake makes. Their later history (routing, decisions,
mediation, verification, answers) is then written the way the workflow would have written it: the
case changed directly and each step appended to its audit trail with `record_event`, at plausible
later times that never lie in the future. Everything is drawn from `random.Random(2026)`.

The data is written for the Anshan region pack (addresses, bureaus, stations)."""
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app
from sqlalchemy import select
from stdnum.cn import ric, uscc

from hotline.auth.models import User
from hotline.auth.operations import create_user
from hotline.cases.models import Case
from hotline.cases.operations import record_event, register_case
from hotline.cases.schemas import parse_case
from hotline.deadlines import calendar
from hotline.deadlines.models import CaseClock
from hotline.deadlines.operations import calendar_overrides, clocks_of, meet_clock, start_clock
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.portal.ratings import LOW_SCORE, rate_case
from hotline.reference.models import Answer, Bureau, Category, Division, RoutingRule, StatutoryGround
from hotline.reference.operations import read_pack
from hotline.sms.models import SmsMessage
from hotline.types import utcnow

SEED = 2026
BATCH = 50
HISTORY_DAYS = 182
RECENT_DAYS = 10
RATED_SHARE = 0.6  # closed complaints the consumer rates (一事一评)
RATING_WEIGHTS = {"mediated": (62, 26, 7, 3, 2), None: (30, 30, 18, 12, 10)}  # scores 5, 4, 3, 2, 1
RATING_COMMENTS = {5: ("处理很及时，谢谢工作人员", "调解很耐心，问题解决了"),
                   4: ("基本满意", "处理得还可以，就是时间长了点"), 3: ("一般", "结果还行，沟通不太及时"),
                   2: ("等了很久才有回复", "对处理结果不太满意"), 1: ("问题没有解决", "没人跟我联系过")}

# (username, password, role, display name, bureau code); the station user gets the pack's first station.
# The passwords are meant to be public: the README lists them for trying the demo.
DEMO_USERS = (
    ("operator", "demo-operator-1", "operator", "王话务", None),
    ("station", "demo-station-1", "station", "李站务", None),
    ("tiexi", "demo-bureau-1", "bureau", "赵立新", "tiexi"),
    ("tiedong", "demo-bureau-2", "bureau", "孙东梅", "tiedong"),
    ("supervisor", "demo-supervisor-1", "supervisor", "陈督办", None),
    ("admin", "demo-admin-1", "admin", "系统管理员", None),
)

KIND_WEIGHTS = {"complaint": 55, "consultation": 25, "report": 12, "suggestion": 5}  # + linked reports
CHANNEL_WEIGHTS = {
    "complaint": {"phone": 50, "web": 14, "national_platform": 18, "station": 8, "walk_in": 7, "letter": 3},
    "report": {"phone": 45, "web": 20, "national_platform": 17, "letter": 8, "walk_in": 5, "station": 5},
    "consultation": {"phone": 75, "web": 10, "national_platform": 5, "walk_in": 5, "station": 5},
    "suggestion": {"phone": 40, "web": 35, "letter": 10, "national_platform": 10, "station": 5},
}
# Division codes of the business's district; "gaoxin" and "jingkai" are the zones (keyword rules).
DISTRICT_WEIGHTS = {"210302": 22, "210303": 18, "210304": 14, "210381": 12, "210311": 8, "gaoxin": 8,
                    "210321": 5, "210323": 5, "jingkai": 5}
TRIAGE_SHARE = 0.03
STALLED_SHARE = 0.10  # decisions that come late (or not yet): the overdue queue is never empty

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋于杜叶程魏苏吕丁"
            "任卢姚沈钟姜崔谭陆范汪廖石金贾夏付方邹熊白孟秦邱侯江尹薛闫段雷史陶贺毛郝顾邵武钱戴严孔常汤康乔")
GIVEN_NAMES = ("建国", "秀兰", "桂英", "淑珍", "丽娟", "志强", "伟", "芳", "娜", "敏", "静", "磊", "洋", "艳",
               "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂兰", "红梅", "春燕",
               "宇航", "子涵", "浩然", "欣怡", "梓轩", "一诺", "雨萱", "思远", "佳怡", "海波", "玉梅", "凤霞",
               "立新", "国庆", "德胜", "晓东", "丽华", "文博", "雪", "鹏", "亚楠", "振华")
BRANDS = ("鑫源", "恒通", "金利", "福瑞", "顺达", "华宇", "宏远", "佳美", "百利", "德福", "天成", "永鑫", "嘉禾",
          "盛世", "隆达", "聚福", "万家", "瑞祥", "新世纪", "金鼎", "锦华", "宏运", "祥和", "美佳", "益康",
          "乐享", "优品", "康泰", "博远", "润丰", "福满", "鸿运", "晟通", "金港", "悦享", "东方红", "千禧")
COMMUNITIES = ("明达新区", "园林小区", "绿化小区", "湖南小区", "山南小区", "胜利花园", "铁西五道街小区",
               "曙光小区", "千山雅苑", "万水河畔", "站前小区", "和平新城", "兴盛家园", "深沟寺小区")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187",
                   "188", "189")

# Streets of each district's business addresses (the street office or town comes from divisions.json);
# none contains the name or alias of another division, so an address resolves to the street it names.
ROADS = {
    "210302": ("二一九路", "胜利南路", "园林路", "东山街", "五一路", "解放东路", "南中华路", "站前街"),
    "210303": ("人民路", "兴盛路", "永乐路", "繁荣路", "大陆街", "共和街", "铁西三道街", "西六里路"),
    "210304": ("胜利北路", "友好路", "曙光路", "灵山街", "立山路", "北中华路"),
    "210311": ("千山中路", "千山西路", "温泉路", "建设路"),
    "210321": ("人民街", "平安路", "新华路", "府前路"),
    "210323": ("阜昌路", "中央路", "北环路", "雅河路"),
    "210381": ("东四道街", "西四道街", "铁路北街", "永安路", "人民路"),
}
# Addresses in the development zones, each caught by a keyword routing rule.
ZONE_ADDRESSES = {
    "gaoxin": ("辽宁省鞍山市高新区越岭路{n}号", "辽宁省鞍山市铁东区鞍千路{n}号", "辽宁省鞍山市高新区千山路{n}号",
               "辽宁省鞍山市鞍山软件园{b}号楼", "辽宁省鞍山市立山区科技路{n}号", "辽宁省鞍山高新区激光产业园{b}号厂房"),
    "jingkai": ("辽宁省鞍山经济开发区西环路{n}号", "辽宁省鞍山市铁西区达道湾街道工业路{n}号",
                "辽宁省鞍山市经开区通达路{n}号", "辽宁省鞍山经济技术开发区西环路{n}号"),
}
HAICHENG_ZONE = "辽宁省海城市海城经济开发区通海路{n}号"
OUT_OF_CITY = ("辽宁省沈阳市和平区太原北街{n}号", "辽宁省沈阳市沈河区中街路{n}号", "辽宁省大连市中山区人民路{n}号",
               "辽宁省营口市站前区渤海大街{n}号", "辽宁省辽阳市白塔区中华大街{n}号", "广东省广州市白云区机场路{n}号",
               "浙江省杭州市余杭区文一西路{n}号")
VAGUE_ADDRESSES = ("鞍山市{z}购物广场（具体地址不详）", "鞍山站附近{z}商行", "辽宁省鞍山市{z}大市场内")

BUSINESS_NAMES = {
    "phone": ("{d}{z}通讯器材商店", "{z}手机广场", "鞍山{z}数码科技有限公司"),
    "gym": ("{z}健身会所", "鞍山{z}体育健身有限公司"),
    "restaurant": ("{z}麻辣烫", "{z}烧烤", "{z}饺子馆", "鞍山{z}餐饮管理有限公司"),
    "heating": ("鞍山{z}热力有限公司", "鞍山市{z}供暖有限公司"),
    "car": ("鞍山{z}二手车经纪有限公司", "{d}{z}二手车行"),
    "car4s": ("鞍山{z}汽车销售服务有限公司",),
    "beauty": ("{z}美容美体会所", "{z}养生美容馆"),
    "supermarket": ("{z}生活超市", "{z}便利店", "{d}{z}购物中心"),
    "appliance": ("{z}电器商场", "鞍山{z}家电销售有限公司"),
    "furniture": ("{z}家居广场", "鞍山{z}定制家居有限公司"),
    "decoration": ("鞍山{z}装饰工程有限公司", "鞍山市{z}装饰设计有限公司"),
    "training": ("{z}艺术培训学校", "鞍山{z}教育咨询有限公司"),
    "telecom": ("{d}{z}通信营业厅",),
    "express": ("{z}快递{d}营业部",),
    "ebike": ("{z}电动车行", "{d}{z}电动车专卖店"),
    "jewelry": ("{z}玉器商行", "岫岩{z}玉雕厂门市"),
    "goldshop": ("{z}珠宝金行", "{z}黄金首饰店"),
    "medbeauty": ("鞍山{z}医疗美容诊所",),
    "eshop": ("鞍山{z}电子商务有限公司", "{d}{z}日用品商行"),
    "clothing": ("{z}服装店", "{z}服饰商行"),
    "software": ("鞍山{z}网络科技有限公司",),
    "hotel": ("{z}宾馆", "{z}快捷酒店"),
    "laundry": ("{z}洗衣店", "{z}干洗连锁店"),
    "agri": ("{z}农资商店", "{d}{z}种子化肥经销处"),
    "property": ("鞍山{z}物业服务有限公司",),
    "health": ("{z}健康咨询服务部", "鞍山{z}生物科技有限公司"),
    "pharmacy": ("{z}大药房", "鞍山{z}医药连锁有限公司{d}店"),
    "market": ("{d}{z}农贸市场",),
    "kids": ("{z}母婴玩具店", "{z}儿童用品商店"),
}
ONLINE_SHOPS = {"restaurant": "{z}（{d}店）", "clothing": "{z}服饰旗舰店", "eshop": "{z}家电专营店",
                "phone": "{z}数码专营店", "health": "{z}健康生活馆", "appliance": "{z}电器旗舰店"}
REPEAT_SHARE = 0.3  # of a business type's cases go to the first business of that type
RUNAWAY = ("gym", "beauty")  # prepaid businesses that close: the business no longer takes part (T03)


@dataclass
class Template:
    """One kind of case, with the variations it is drawn with (str.format fields, see `_context`)."""

    kind: str
    weight: int
    subjects: tuple[str, ...]
    description: str
    demand: str
    goods: str | None
    service: str | None
    issue: str | None
    amount: tuple[int, int] | None
    business: str
    online: float = 0.0
    platforms: tuple[str, ...] = ("淘宝", "京东", "拼多多")
    months: tuple[int, ...] = ()
    districts: tuple[str, ...] = ()
    also_report: float = 0.0
    uscc: float = 0.3
    picks: dict[str, tuple[str, ...]] = field(default_factory=dict)


RURAL = ("210321", "210323", "210381", "210311")
TEMPLATES = (
    Template("complaint", 8, ("手机屏幕漏液，商家拒绝保修", "新买手机屏幕漏液拒绝保修"),
             "{date}在{biz}购买智能手机一部，价格{amount}元。使用约{n}个月后屏幕出现漏液、黑斑，送到售后，"
             "对方以“人为挤压损坏”为由拒绝保修，要求自费更换屏幕{fee}元。本人未摔未压，有购机发票和三包凭证。",
             "要求按三包规定免费维修或更换", "G0101", None, "I0901", (1299, 6999), "phone", online=0.3,
             picks={"fee": ("680", "980", "1280", "1500")}),
    Template("complaint", 7, ("健身房闭店无法退卡", "健身房突然闭店，会员卡余额无法退还"),
             "{date}在{biz}办理健身年卡，花费{amount}元。近日健身房突然闭店，门口贴出“装修升级暂停营业”告示，"
             "前台和教练电话均无法接通，卡内尚有约{n}个月未使用。",
             "要求退还剩余会费{part}元", None, "S1302", "I1101", (1280, 6800), "gym", also_report=0.1),
    Template("complaint", 6, ("外卖食品有异物", "外卖{food}中吃出{thing}"),
             "{date}晚通过{platform}在“{shop}”点了{food}，实付{amount}元，食用时发现{thing}，"
             "已拍照并保留剩余食品。联系商家只同意退一份餐费。",
             "要求退款并赔偿", "G0202", "S0304", "I0102", (18, 98), "restaurant", online=1.0,
             platforms=("美团", "饿了么"), also_report=0.15,
             picks={"food": ("麻辣烫", "盖浇饭", "炸鸡套餐", "烤冷面", "酸菜鱼", "水饺"),
                    "thing": ("头发", "钢丝球碎屑", "塑料片", "一只苍蝇", "创可贴")}),
    Template("complaint", 6, ("供暖温度不达标", "暖气不热，室温仅{temp}度"),
             "家住{community}，今年11月1日供暖以来室温长期只有{temp}℃左右，低于18℃的供热标准。"
             "多次拨打{biz}报修电话，工作人员上门放风后仍不热。今年采暖费{amount}元已全额缴纳。",
             "要求尽快维修达标，并按规定退还不达标期间的采暖费", None, "S1101", "I0102", (1800, 3200),
             "heating", months=(11, 12, 1, 2, 3), uscc=0.8, picks={"temp": ("12", "13", "14", "15", "16")}),
    Template("complaint", 4, ("二手车里程表调表", "购买的二手车实际里程与合同不符"),
             "{date}在{biz}购买二手轿车一辆，成交价{amount}元，车况说明写明无重大事故。后到4S店保养，"
             "{km}，车辆被调过里程表。",
             "要求退车退款，并按消费者权益保护法第五十五条赔偿", "G0601", None, "I0503", (36000, 128000),
             "car", also_report=0.3, uscc=0.8,
             picks={"km": ("仪表显示3.2万公里，维修记录显示实际里程已达11.6万公里",
                           "仪表显示4.5万公里，维修记录显示实际里程已达13.2万公里",
                           "仪表显示5.8万公里，维修记录显示实际里程已达15.7万公里")}),
    Template("complaint", 6, ("预付卡美容院跑路", "美容院关门，储值卡余额无法退还"),
             "在{biz}办理美容储值卡，累计充值{amount}元，卡内余额约{part}元。{date}前去做护理时发现店门紧锁，"
             "店长和老板电话关机，会员微信群已解散，现场有十余名会员遇到同样情况。",
             "要求退还卡内余额", None, "S1302", "I1101", (2000, 15000), "beauty", also_report=0.15),
    Template("complaint", 5, ("直播间买的羽绒服含绒量不符", "直播间宣称90%白鸭绒，实测含绒量不足"),
             "{date}在{platform}直播间“{shop}”购买羽绒服一件，价格{amount}元，主播宣称“90%白鸭绒、充绒量200克”。"
             "收货后感觉很薄，自费送检，检测报告显示含绒量仅为{pct}%。",
             "要求退货退款，并按欺诈给予三倍赔偿", "G0301", "S0303", "I0702", (299, 1299), "clothing",
             online=1.0, platforms=("抖音", "快手"), months=(9, 10, 11, 12, 1, 2),
             picks={"pct": ("31", "45", "52", "60")}),
    Template("complaint", 6, ("超市销售过期食品", "在超市买到过期{food}"),
             "{date}在{biz}购买{food}，价格{amount}元，回家后发现已超过保质期{n}天，购物小票和商品均已保留。",
             "要求退款并按食品安全法第一百四十八条支付赔偿金", "G0201", "S0501", "I0103", (9, 168),
             "supermarket", also_report=0.3,
             picks={"food": ("酸奶", "面包", "火腿肠", "进口饼干", "速冻水饺", "牛肉干")}),
    Template("complaint", 4, ("空调安装后不制冷，拖延维修", "新买空调不制冷，售后一拖再拖"),
             "{date}在{biz}购买空调一台，价格{amount}元，安装后制冷效果很差，室温降不下来。报修{n}次，"
             "售后只加了一次氟，至今未解决。",
             "要求更换新机或退货", "G0103", "S0107", "I0902", (2399, 7999), "appliance",
             online=0.2, months=(6, 7, 8, 9)),
    Template("complaint", 3, ("定制衣柜板材与合同不符", "定制家具有刺鼻异味"),
             "{date}在{biz}定制全屋衣柜，合同价{amount}元，约定使用E0级板材。安装后屋内异味很重，"
             "自行检测甲醛超标，拆开柜体发现板材标识与合同不符。",
             "要求更换合同约定的板材或退款", "G0403", None, "I0602", (8000, 36000), "furniture", uscc=0.6),
    Template("complaint", 3, ("装修公司拖延工期", "家装工程停工，装修公司推诿"),
             "{date}与{biz}签订家庭装修合同，合同价{amount}元，约定{days}天完工，已付七成款。目前已超期{n}0天，"
             "工地长期无人施工，项目经理推诿。",
             "要求按合同完工并支付违约金，否则退还未施工部分款项", None, "S0601", "I0602", (30000, 120000),
             "decoration", uscc=0.7, picks={"days": ("60", "75", "90")}),
    Template("complaint", 4, ("培训机构拒不退费", "孩子{course}课程退费难"),
             "{date}在{biz}给孩子报了{course}课程，一次性缴费{amount}元共{lessons}课时，已上{n}课时。"
             "因老师频繁更换要求退费，机构以“优惠课程不退费”为由拒绝。",
             "要求退还剩余课时费", None, "S0202", "I0603", (2800, 12800), "training",
             picks={"course": ("美术", "舞蹈", "编程", "口才", "围棋", "钢琴"), "lessons": ("48", "72", "96")}),
    Template("complaint", 3, ("手机套餐被擅自开通增值业务", "话费被多扣，增值业务未经同意开通"),
             "本人在{biz}办理的手机套餐，{date}起每月被多扣{fee}元，查询发现被开通了从未申请的增值业务。"
             "营业厅称是办理宽带时一并开通的，但本人并未签字确认。",
             "要求取消业务并退还多扣费用", None, "S0404", "I0303", (36, 360), "telecom",
             picks={"fee": ("10", "15", "19.9", "29")}),
    Template("complaint", 3, ("快递丢件拒绝赔偿", "快递包裹丢失，网点只赔运费"),
             "{date}通过{biz}寄送{item}，声明价值{amount}元并支付了保价费。物流显示已签收但收件人并未收到，"
             "网点称包裹丢失，只同意按运费的三倍赔偿。",
             "要求按保价金额赔偿", None, "S1202", "I0202", (300, 3000), "express",
             picks={"item": ("一部手机", "一台笔记本电脑", "两箱海鲜", "一件羊绒大衣")}),
    Template("complaint", 3, ("电动车电池鼓包商家不给换", "电动自行车电池半年即损坏"),
             "{date}在{biz}购买电动自行车一辆，价格{amount}元，商家承诺电池保修一年。使用{n}个月后电池鼓包、"
             "无法充电，商家称是充电不当导致，拒绝更换。",
             "要求按承诺免费更换电池", "G0602", None, "I0901", (1899, 4599), "ebike"),
    Template("complaint", 3, ("岫玉{jade}以次充好", "购买的玉器与宣传不符"),
             "{date}在{biz}购买岫玉{jade}一件，价格{amount}元，店员称是“老坑岫玉、天然A货”。"
             "后经有资质的机构鉴定为染色处理的普通石英岩。",
             "要求退货退款，并按欺诈给予三倍赔偿", "G1002", None, "I0503", (1800, 26000), "jewelry",
             districts=("210323",), also_report=0.2, picks={"jade": ("手镯", "吊坠", "摆件")}),
    Template("complaint", 2, ("金饰品克重不足", "金项链实际重量少于标签"),
             "{date}在{biz}购买足金项链一条，价格{amount}元，{gram}。",
             "要求补足差价或退货", "G1001", None, "I0401", (3800, 12000), "goldshop",
             picks={"gram": ("标签标注10.52克，到检测机构复称只有9.80克", "标签标注8.36克，复称只有7.91克",
                             "标签标注12.10克，复称只有11.42克")}),
    Template("complaint", 2, ("医美项目效果与宣传不符", "医美项目术后出现不良反应"),
             "{date}在{biz}做了{proj}项目，花费{amount}元。术前宣传“无恢复期、效果立竿见影”，术后面部红肿、"
             "色沉，诊所只同意免费再做一次。",
             "要求退还项目费用并承担后续治疗费用", None, "S1002", "I0701", (3800, 28000), "medbeauty",
             uscc=0.7, picks={"proj": ("光子嫩肤", "热玛吉", "水光针", "皮秒祛斑")}),
    Template("complaint", 5, ("网店拒绝七天无理由退货", "网购{goods}不支持七天无理由退货"),
             "{date}在{platform}店铺“{shop}”购买{goods}，价格{amount}元，收货后未拆封、未使用，在七日内申请"
             "无理由退货，商家以“特价商品不退不换”为由拒绝。",
             "要求办理退货退款", "G0104", "S0301", "I0903", (89, 1699), "eshop", online=1.0,
             picks={"goods": ("空气炸锅", "电动牙刷", "破壁机", "电煮锅", "吸尘器")}),
    Template("complaint", 2, ("会员自动续费未提醒", "APP会员到期后被自动扣费"),
             "本人曾开通{biz}运营的{app}月度会员，{date}起被连续自动续费{n}次，续费前未收到任何提醒，"
             "取消入口隐蔽，累计扣费{amount}元。",
             "要求退还自动续费扣款", None, "S0305", "I0601", (25, 360), "software", districts=("gaoxin",),
             uscc=0.9, picks={"app": ("“鞍心听”有声书", "“千山健身”", "“快学”网课")}),
    Template("complaint", 2, ("宾馆押金不退", "退房后押金被扣"),
             "{date}入住{biz}，交押金{amount}元。退房时前台称床单有污渍，扣留全部押金，本人不认可。",
             "要求退还押金", None, "S0102", "I0603", (100, 500), "hotel"),
    Template("complaint", 2, ("饭店收取开瓶费", "饭店包间设最低消费"),
             "{date}在{biz}聚餐，自带白酒被收取开瓶费，包间另被要求最低消费，合计多收{amount}元，"
             "菜单和店内均未事先告知。",
             "要求退还开瓶费及不合理收费", None, "S0101", "I0601", (200, 1500), "restaurant"),
    Template("complaint", 3, ("干洗店洗坏衣服", "{cloth}送洗后{damage}"),
             "{date}将{cloth}送到{biz}干洗，取衣时发现{damage}。店家只愿意按洗衣费的十倍赔偿，"
             "该衣服购买价{amount}元，有购物凭证。",
             "要求按衣物价值合理赔偿", "G0301", "S0104", "I0202", (800, 4800), "laundry",
             picks={"cloth": ("羊绒大衣", "羽绒服", "真丝连衣裙"),
                    "damage": ("严重缩水", "大面积褪色", "面料起泡变形")}),
    Template("complaint", 2, ("玉米种子出苗率低", "购买的种子发芽率不足"),
             "{date}在{biz}购买玉米种子，共花费{amount}元，种植{mu}亩。出苗后发现出苗率不足五成，"
             "同村多户遇到同样情况，怀疑种子质量有问题。",
             "要求赔偿种子款及减产损失", "G0901", None, "I0102", (2000, 18000), "agri",
             months=(5, 6, 7), districts=RURAL, picks={"mu": ("20", "35", "50", "80")}),
    Template("complaint", 2, ("服装城买的衣服起球掉色",),
             "{date}在{biz}购买{cloth}，价格{amount}元，穿了两次就严重起球，洗后掉色染了其他衣服，"
             "商家称“批发价不退不换”。",
             "要求退货退款", "G0301", "S0501", "I0102", (120, 980), "clothing", districts=("210381",),
             picks={"cloth": ("毛呢外套", "针织衫", "牛仔裤")}),
    Template("complaint", 2, ("物业收取不合理费用", "物业强收{fee}"),
             "小区物业{biz}{date}起要求业主额外缴纳{fee}，不缴就不给办理门禁卡，收费依据未公示。",
             "要求停止收取并退还已收费用", None, "S0602", "I0303", (100, 800), "property",
             picks={"fee": ("电梯维护费", "二次供水费", "垃圾清运费", "停车管理费")}),
    Template("complaint", 2, ("4S店强制收取金融服务费",),
             "{date}在{biz}购买新车，办理贷款时被要求另交“金融服务费”{amount}元，不交就不给办理贷款，"
             "也不开具发票。",
             "要求退还金融服务费", "G0601", None, "I0303", (2000, 8000), "car4s", uscc=0.8),
    Template("complaint", 3, ("老人参加会销买高价保健品", "保健品会议营销夸大功效"),
             "家中老人{date}在{biz}参加“健康讲座”，被推销保健食品，对方宣称能治疗高血压、糖尿病，"
             "花费{amount}元购买{n}盒。老人服用后擅自停了降压药，血压明显升高。",
             "要求退货退款", "G0204", "S0504", "I0701", (2980, 19800), "health", also_report=0.4),
    # Reports (举报): leads on violations, to be verified.
    Template("report", 4, ("超市销售过期食品", "超市货架上有过期{food}"),
             "{date}在{biz}发现货架上多件{food}已超过保质期仍在销售，已拍照留存。",
             "请依法查处", "G0201", "S0501", "I0103", None, "supermarket",
             picks={"food": ("酸奶", "面包", "火腿肠", "进口饼干", "速冻水饺")}),
    Template("report", 3, ("药店未明码标价",),
             "{date}在{biz}购药，发现多种药品没有标价签，结账价格明显高于其他药店，店员说“以电脑价为准”。",
             "请依法查处", "G0701", None, "I0302", None, "pharmacy"),
    Template("report", 3, ("农贸市场商户缺斤短两", "市场摊位秤不准"),
             "{date}在{biz}买{veg}，{weight}。该摊位经常有人反映秤有问题。",
             "请查处并检定计量器具", "G0205", "S0502", "I0401", None, "market",
             picks={"veg": ("排骨", "草莓", "鸡蛋", "带鱼"),
                    "weight": ("摊主称3斤，回家复称只有2.4斤", "摊主称5斤，回家复称只有4.1斤",
                               "摊主称2斤，回家复称只有1.6斤")}),
    Template("report", 2, ("销售假冒化肥",),
             "{date}在{biz}购买的复合肥包装标称“总养分45%”，与正规品牌包装相似但印刷粗糙，"
             "怀疑是假冒产品，附近多名农户都买过。",
             "请依法查处", "G0902", None, "I0501", None, "agri", months=(5, 6, 7, 8), districts=RURAL),
    Template("report", 2, ("儿童玩具无3C认证",),
             "{date}在{biz}看到销售的儿童电动玩具没有3C标志和中文说明书，小零件容易脱落，存在安全隐患。",
             "请依法查处", "G0404", None, "I0203", None, "kids"),
    Template("report", 2, ("烧烤店后厨卫生差", "饭店未悬挂食品经营许可证"),
             "{biz}后厨卫生条件差，{date}发现员工不戴口罩、生熟不分，店内未悬挂食品经营许可证。",
             "请依法检查", None, "S0101", "I0203", None, "restaurant"),
    Template("report", 2, ("直播间虚假宣传保健品功效",),
             "{platform}直播间“{shop}”{date}直播时宣称其销售的{prod}“七天降血糖”“可以替代药物”，属于虚假宣传。",
             "请依法查处", "G0204", "S0303", "I0702", None, "health", online=1.0, platforms=("抖音", "快手"),
             picks={"prod": ("苦瓜片", "桑叶茶", "益生菌粉")}),
    Template("report", 2, ("网店刷单虚构好评",),
             "{platform}店铺“{shop}”组织刷单，{date}本人收到其短信，称好评返现{fee}元，店铺销量和评价大量虚构。",
             "请依法查处", None, "S0301", "I0703", None, "eshop", online=1.0, picks={"fee": ("5", "10", "20")}),
    Template("report", 2, ("先涨价后打折，虚构原价促销",),
             "{biz}{date}前后开展“五折特惠”活动，本人发现其标注的原价在活动前一周刚上调过，属于虚构原价。",
             "请依法查处价格违法行为", "G0103", "S0501", "I0301", None, "appliance"),
    Template("report", 1, ("骚扰营销电话，怀疑个人信息被泄露",),
             "本人{date}在{biz}咨询过装修报价，此后每天接到多家装修、建材公司的推销电话，"
             "对方能准确说出本人姓名和小区。",
             "请查处泄露个人信息的行为", None, "S0601", "I1001", None, "decoration"),
    Template("report", 2, ("保健品会销虚假宣传",),
             "{biz}在{community}附近租用门市开展“免费健康讲座”，{date}起每天组织老人听课，宣称产品能治病、不用吃药。",
             "请依法查处", "G0204", "S0504", "I0701", None, "health"),
)

# Consultations: the answer-bank entry and the caller's question; a category where it is obvious.
CONSULTATIONS = (
    ("A001", ("网购衣服不想要了，能不能七天无理由退货", "网上买的东西拆封了还能无理由退货吗"), (None, "S0301", None)),
    ("A002", ("新买的手机十天就坏了能退吗", "手机三包期是多长时间"), ("G0101", None, "I0901")),
    ("A003", ("健身卡办了不想练了能退吗", "预付卡商家不给退怎么办"), (None, "S1301", "I1101")),
    ("A004", ("网购退货运费应该谁出",), (None, "S0301", None)),
    ("A005", ("买到过期食品怎么索赔", "食品假一赔十怎么主张"), ("G0201", None, "I0103")),
    ("A006", ("商家卖假货能不能退一赔三",), (None, None, "I0503")),
    ("A007", ("怎么在网上投诉商家", "12315小程序怎么用"), (None, None, None)),
    ("A008", ("投诉之后多久有结果", "投诉几天能受理"), (None, None, None)),
    ("A009", ("开发商延期交房找谁", "装修公司合同纠纷归谁管"), ("G0501", "S0601", None)),
    ("A010", ("暖气不热找谁反映", "室温不达标能退采暖费吗"), (None, "S1101", None)),
    ("A011", ("快递丢了怎么赔", "快递保价怎么算"), (None, "S1202", None)),
    ("A012", ("先涨价后打折算不算价格欺诈",), (None, None, "I0301")),
    ("A013", ("市场的秤不准怎么投诉",), (None, "S0502", "I0401")),
    ("A014", ("美发店办卡被强制推销怎么办",), (None, "S0103", None)),
    ("A015", ("孩子培训班不想上了怎么退费",), (None, "S0202", None)),
    ("A016", ("买二手车发现是事故车怎么办",), ("G0601", None, None)),
    ("A017", ("总接到推销电话，怀疑个人信息泄露",), (None, None, "I1003")),
    ("A018", ("直播间买的东西和描述不符怎么办",), (None, "S0303", None)),
    ("A019", ("饭店收开瓶费合法吗", "商家写“概不退换”有效吗"), (None, None, "I0601")),
    ("A020", ("商家不给开发票怎么办",), (None, None, None)),
)
# Suggestions: subject, description, topic of the reply, district of the place concerned (None: city-wide).
SUGGESTIONS = (
    ("建议在农贸市场设置公平秤", "经常在{biz}买菜，担心秤不准，建议市场入口设置公平秤方便复称。",
     "农贸市场计量器具监管", "210303", "market"),
    ("建议加强校园周边食品店检查", "{biz}附近小卖部售卖“三无”辣条和散装零食，建议加强检查。",
     "校园周边食品安全检查", "210304", "supermarket"),
    ("建议规范预付卡发卡行为", "最近美容院、健身房闭店跑路较多，建议对预付卡经营者实行资金存管。",
     "预付式消费监管", None, None),
    ("建议供暖期公布热力公司报修电话", "每年供暖期找不到报修电话，建议在小区公告栏公布各热力公司报修电话。",
     "供热服务质量监督", None, None),
    ("建议12315增加办理进度短信提醒", "投诉后不知道进度，建议每个环节都发短信提醒。", "投诉办理进度告知", None, None),
    ("建议景区明示停车收费标准", "在{biz}附近停车收费不透明，建议明示收费标准。", "景区周边价格监管", "210311",
     "market"),
    ("建议整治直播带货虚假宣传", "直播间夸大宣传很多，老年人容易上当，建议加强网络直播营销监管。",
     "网络直播营销监管", None, None),
    ("建议商场增设消费维权服务站", "{biz}人流量大，建议设立12315维权服务站，方便现场解决纠纷。",
     "维权服务站建设", "210302", "supermarket"),
)

DECLINE_WEIGHTS = {"D01": 25, "D02": 15, "D03": 25, "D04": 5, "D05": 20, "D07": 5, "D08": 5}
TERMINATE_WEIGHTS = {"T01": 15, "T02": 5, "T03": 35, "T04": 30, "T05": 5, "T06": 5, "T08": 5}
REPORT_DECLINE_WEIGHTS = {"R01": 40, "R02": 45, "R03": 15}
NO_CASE_WEIGHTS = {"N01": 50, "N02": 35, "N03": 5, "N04": 10}


@dataclass
class Spec:
    """A case to register: when, how, and what its later history is made of."""

    at: datetime
    kind: str
    channel: str
    payload: dict
    template: Template | None = None
    route: tuple[Bureau, str, str] | None = None  # (bureau, rule, reason); None: no routing (centre answers)
    triage: str | None = None  # reason routing could not place it
    assign_to: str | None = None  # bureau code a supervisor assigns a triaged case to; None: out of the city
    stalled: bool = False
    hold: bool = False  # left as registered (the routing worker picks it up)
    answer: Answer | None = None  # the answer-bank entry for a consultation
    topic: str | None = None  # what a suggestion's reply is about
    linked: bool = False


def _label(rule: RoutingRule) -> str:
    """How a routing decision names its rule (as the router does): `#1010 division=210303`."""
    return f"#{rule.position} {rule.match}={rule.value}"


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _amount_text(value: Decimal) -> str:
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


class DemoLoader:
    def __init__(self, users: dict[str, User]):
        self.rng = random.Random(SEED)
        # Some businesses draw complaint after complaint (a gym that closed, a car dealer): a separate
        # stream decides, so the rest of the demo stays as it was. They make the disclosure list.
        self.repeat_rng = random.Random(SEED + 1)
        self.repeat_businesses: dict[str, tuple[dict, object]] = {}
        self.now = utcnow()
        self.zone = ZoneInfo(current_app.config["TIMEZONE"])
        self.today = self.now.astimezone(self.zone).date()
        self.overrides = calendar_overrides()
        self.users = users
        self.operator, self.station_user = users["operator"], users["station"]
        self.supervisor = users["supervisor"]
        self.bureaus = {b.code: b for b in db.session.scalars(select(Bureau))}
        self.bureau_users = {u.bureau.code: u for u in users.values() if u.role == "bureau" and u.bureau}
        self.divisions = {d.code: d for d in db.session.scalars(select(Division))}
        self.streets: dict[str, list[Division]] = {}
        for d in self.divisions.values():
            self.streets.setdefault(d.parent_code, []).append(d)
        rules = list(db.session.scalars(select(RoutingRule).where(RoutingRule.active)
                                        .order_by(RoutingRule.position)))
        self.keyword_rules = [r for r in rules if r.match == "keyword"]
        self.division_rules = {r.value: r for r in rules if r.match == "division"}
        # demo cases are received within the last half year: Order 121's grounds
        self.grounds = {g.code: g for g in db.session.scalars(select(StatutoryGround).where(
            StatutoryGround.version == "order-121", StatutoryGround.active))}
        self.answers = {a.code: a for a in db.session.scalars(select(Answer))}
        self.issues = {c.code: c.name for c in db.session.scalars(select(Category).where(Category.axis == "issue"))}
        self.used_phones: set[str] = set()
        # Ratings draw from a stream of their own, so the cases themselves stay what the main stream makes.
        self.rating_rng = random.Random(SEED + 1)

    # ---- small draws -------------------------------------------------------------------------
    def _weighted(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)

    def _phone(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if number in self.used_phones:
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(number, "CN")):
                self.used_phones.add(number)
                return number

    def _uscc(self, division: str, individual: bool) -> str:
        """A code that passes GB 32100 (and the GB 11714 organisation-code check inside it)."""
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        body = "MA" + "".join(self.rng.choice(alphabet) for _ in range(6))
        values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
        check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        org = body + {10: "X", 11: "0"}.get(check, str(check))
        head = ("92" if individual else "91") + division + org
        return head + uscc.calc_check_digit(head)

    def _id_number(self, division: str) -> str:
        while True:  # the area code must have existed in the birth year (stdnum checks that)
            born = date(1955, 1, 1) + timedelta(days=self.rng.randrange(365 * 50))
            body = f"{division}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if ric.is_valid(number):
                return number

    def _local(self, day: date, hours: float) -> datetime:
        local = datetime.combine(day, time(0), tzinfo=self.zone) + timedelta(hours=hours)
        return local.astimezone(UTC).replace(microsecond=0)

    def _office(self, at: datetime) -> datetime:
        """The first moment in office hours (working days, 08:30-17:00 local) at or after `at`."""
        local = at.astimezone(self.zone)
        day = local.date()
        working = calendar.is_working_day(day, self.overrides)
        if working and time(8, 30) <= local.time() < time(17, 0):
            return at
        if not working or local.time() >= time(17, 0):
            day += timedelta(days=1)
            while not calendar.is_working_day(day, self.overrides):
                day += timedelta(days=1)
        return self._local(day, 8.5 + self.rng.uniform(0, 3))

    def _later(self, at: datetime, low_hours: float, high_hours: float) -> datetime:
        return self._office(at + timedelta(hours=self.rng.uniform(low_hours, high_hours))).replace(microsecond=0)

    # ---- addresses and routing ---------------------------------------------------------------
    def _district(self, template: Template | None) -> str:
        if template and template.districts and self.rng.random() < 0.75:
            return self.rng.choice(template.districts)
        return self._weighted(DISTRICT_WEIGHTS)

    def _address(self, district: str) -> tuple[str, Division | None]:
        """A business address in the district (or zone), and the street office or town it names."""
        n, b = self.rng.randint(1, 388), self.rng.randint(1, 28)
        if district in ZONE_ADDRESSES:
            return self.rng.choice(ZONE_ADDRESSES[district]).format(n=n, b=b), None
        if district == "210381" and self.rng.random() < 0.1:
            return HAICHENG_ZONE.format(n=n), None
        street = self.rng.choice(self.streets.get(district) or [self.divisions[district]])
        road = self.rng.choice(ROADS[district])
        if district == "210381":  # 海城市 is a county-level city: its addresses skip 鞍山市
            return f"辽宁省海城市{street.name}{road}{n}号", street
        return f"辽宁省鞍山市{self.divisions[district].name}{street.name}{road}{n}号", street

    def _route(self, address: str, street: Division | None, district: str) -> tuple[Bureau, str, str]:
        """What the router decides: keyword rules in order, then the division (its rule and reason)."""
        for rule in self.keyword_rules:
            if rule.value in address:
                return rule.bureau, _label(rule), f"经营者地址含“{rule.value}” → {rule.bureau.short_name}"
        rule = self.division_rules[district]
        division = street or self.divisions[district]
        reason = f"经营者地址位于{division.name} → {rule.bureau.short_name}"
        return rule.bureau, _label(rule), reason

    def _business(self, template: Template, spec: Spec, district: str, triage: str | None) -> dict:
        z = self.rng.choice(BRANDS)
        d = self.divisions[district].name if district in self.divisions and triage != "out_of_city" else ""
        online = self.rng.random() < template.online
        street = None
        name = self.rng.choice(BUSINESS_NAMES[template.business]).format(z=z, d=d)
        business = {"name": name}
        if triage == "out_of_city":
            business["address"] = self.rng.choice(OUT_OF_CITY).format(n=self.rng.randint(1, 388))
            city = business["address"][3:6]
            business["name"] = name.replace("鞍山市", city).replace("鞍山", city[:2]).replace("岫岩", city[:2])
        elif triage == "vague":
            business["address"] = self.rng.choice(VAGUE_ADDRESSES).format(z=z)
        else:
            business["address"], street = self._address(district)
        if online:
            business["platform"] = self.rng.choice(template.platforms)
            business["shop"] = ONLINE_SHOPS.get(template.business, "{z}官方旗舰店").format(z=z, d=d[:2] or "鞍山")
            if template.business != "restaurant" and triage is None:
                business["name"] = f"鞍山{z}电子商务有限公司"
        if district in self.divisions and self.rng.random() < template.uscc and not triage:
            business["uscc"] = self._uscc(district if district.isdigit() else "210300",
                                          individual="公司" not in business["name"])
        elif template.uscc and district in ZONE_ADDRESSES and self.rng.random() < template.uscc:
            business["uscc"] = self._uscc("210300", individual=False)
        if self.rng.random() < 0.45:
            business["phone"] = f"0412-{self.rng.choice('5678')}{self.rng.randrange(10 ** 6):06d}"
        if triage is None:
            spec.route = self._route(business["address"], street, district)
            return self._maybe_repeat(template, spec, business)
        return business

    def _maybe_repeat(self, template: Template, spec: Spec, business: dict) -> dict:
        first = self.repeat_businesses.setdefault(template.business, (dict(business), spec.route))
        if first[0] != business and self.repeat_rng.random() < REPEAT_SHARE:
            spec.route = first[1]
            return dict(first[0])
        return business

    # ---- the cases to register ---------------------------------------------------------------
    def _when(self, channel: str) -> datetime:
        for _ in range(100):
            recent = self.rng.random() < 0.14
            age = self.rng.uniform(0, RECENT_DAYS) if recent else self.rng.uniform(0, HISTORY_DAYS)
            day = self.today - timedelta(days=int(age))
            working = calendar.is_working_day(day, self.overrides)
            if channel in ("walk_in", "station", "letter") and not working:
                continue
            if channel == "phone" and not working and self.rng.random() < 0.6:
                continue
            start, end = {"phone": (8, 20), "web": (7, 23.5), "national_platform": (7, 23.5)}.get(channel,
                                                                                                (8.5, 16.5))
            at = self._local(day, self.rng.uniform(start, end))
            if at < self.now - timedelta(minutes=2):
                return at.replace(microsecond=0)
        return (self.now - timedelta(hours=1)).replace(microsecond=0)

    def _consumer(self, district: str, with_id: bool) -> dict:
        consumer = {"name": self._name(), "phone": self._phone()}
        if self.rng.random() < 0.4:
            home = self.rng.choice(["210302", "210303", "210304", "210311"])
            consumer["address"] = (f"辽宁省鞍山市{self.divisions[home].name}{self.rng.choice(COMMUNITIES)}"
                                   f"{self.rng.randint(1, 40)}号楼{self.rng.randint(1, 6)}单元")
        if with_id:
            consumer["id_number"] = self._id_number(district if district.isdigit() else "210302")
        return consumer

    def _context(self, template: Template, business: dict, at: datetime, amount: Decimal | None,
                 occurred: date) -> dict:
        ctx = {key: self.rng.choice(values) for key, values in template.picks.items()}
        ctx.update(date=f"{occurred.month}月{occurred.day}日", n=self.rng.randint(2, 9),
                   biz=business.get("name", ""), shop=business.get("shop", ""),
                   platform=business.get("platform", ""), community=self.rng.choice(COMMUNITIES))
        if amount is not None:
            ctx["amount"] = _amount_text(amount)
            ctx["part"] = _amount_text(_money(amount * Decimal(self.rng.randint(30, 80)) / 100).quantize(Decimal(1)))
        return ctx

    def _template(self, kind: str, at: datetime) -> Template:
        month = at.astimezone(self.zone).month
        choices = [t for t in TEMPLATES if t.kind == kind and (not t.months or month in t.months)]
        return self.rng.choices(choices, weights=[t.weight for t in choices])[0]

    def _amount(self, template: Template) -> Decimal | None:
        if template.amount is None:
            return None
        low, high = template.amount
        value = Decimal(self.rng.randint(low, high))
        if high > 2000:
            value = (value / 10).quantize(Decimal(1)) * 10 - (1 if self.rng.random() < 0.3 else 0)
        elif self.rng.random() < 0.4:
            value += Decimal(self.rng.choice((50, 80, 90, 99))) / 100
        return _money(value)

    def _case_spec(self, kind: str, allow_link: bool) -> Spec:
        channel = self._weighted(CHANNEL_WEIGHTS[kind])
        at = self._when(channel)
        spec = Spec(at=at, kind=kind, channel=channel, payload={})
        # Late decisions: some closed late, and (from the last two months) a handful still overdue.
        stalled_share = 2 * STALLED_SHARE if timedelta(days=10) < self.now - at < timedelta(days=60) else STALLED_SHARE
        spec.stalled = self.rng.random() < stalled_share
        spec.hold = self.now - at < timedelta(hours=3) and self.rng.random() < 0.5
        if kind in ("complaint", "report"):
            self._dispute(spec, allow_link)
        elif kind == "consultation":
            self._consultation(spec)
        else:
            self._suggestion(spec)
        payload = spec.payload
        payload.update(kind=kind, channel="walk_in" if channel == "station" else channel)
        if channel == "letter":  # opened a few days before it was logged
            day = at.astimezone(self.zone).date() - timedelta(days=self.rng.randint(1, 3))
            payload["received_at"] = self._local(day, self.rng.uniform(9, 16)).isoformat()
        elif channel == "national_platform":  # filed on the national platform, fetched later
            payload["received_at"] = (at - timedelta(seconds=self.rng.randint(1800, 72000))).isoformat()
        return spec

    def _dispute(self, spec: Spec, allow_link: bool) -> None:
        template = self._template(spec.kind, spec.at)
        spec.template = template
        district = "210302" if spec.channel == "station" and self.rng.random() < 0.7 else self._district(template)
        triage = None
        # A few more in the last day and a half, so the supervisor's triage queue is not empty.
        if self.rng.random() < (0.2 if self.now - spec.at < timedelta(hours=36) else TRIAGE_SHARE):
            triage = "out_of_city" if self.rng.random() < 0.7 else "vague"
            spec.triage = "地址不在本市" if triage == "out_of_city" else "地址无法确定所属区县"
            if triage == "vague":
                spec.assign_to = self.division_rules[district].bureau.code if district in self.division_rules \
                    else district
        business = self._business(template, spec, district, triage)
        amount = self._amount(template)
        received = spec.at.astimezone(self.zone).date() - timedelta(days=4 if spec.channel == "letter" else 1)
        occurred = received - timedelta(days=self.rng.randint(0, 40))
        if template.months and occurred.month not in template.months:
            occurred = received
        ctx = self._context(template, business, spec.at, amount, occurred)
        anonymous = spec.kind == "report" and self.rng.random() < 0.4
        consumer = {"anonymous": True} if anonymous else self._consumer(
            district, with_id=spec.channel in ("walk_in", "station") and self.rng.random() < 0.5)
        payload = {
            "consumer": consumer, "business": business, "subject": self.rng.choice(template.subjects).format(**ctx),
            "description": template.description.format(**ctx), "demand": template.demand,
            "category": {k: v for k, v in (("goods", template.goods), ("service", template.service),
                                           ("issue", template.issue)) if v},
            "occurred_on": occurred.isoformat(),
        }
        if amount is not None:
            payload["amount"] = str(amount)
        if spec.kind == "complaint" and allow_link and self.rng.random() < template.also_report:
            payload["also_report"] = True
            spec.linked = True
        spec.payload = payload

    def _consultation(self, spec: Spec) -> None:
        code, questions, (goods, service, issue) = self.rng.choice(CONSULTATIONS)
        question = self.rng.choice(questions)
        spec.answer = self.answers.get(code)
        consumer = {"name": self._name(), "phone": self._phone()} if self.rng.random() < 0.85 else {}
        spec.payload = {
            "consumer": consumer, "subject": f"咨询：{question}", "description": f"来电人咨询{question}。",
            "category": {k: v for k, v in (("goods", goods), ("service", service), ("issue", issue)) if v},
        }
        if spec.channel in ("phone", "walk_in", "station") and spec.answer and self.rng.random() < 0.8:
            spec.payload.update(answer=spec.answer.body, answer_code=spec.answer.code)

    def _suggestion(self, spec: Spec) -> None:
        subject, description, topic, district, business_kind = self.rng.choice(SUGGESTIONS)
        spec.topic = topic
        business = {}
        if district:
            z = self.rng.choice(BRANDS)
            name = self.rng.choice(BUSINESS_NAMES[business_kind]).format(z=z, d=self.divisions[district].name)
            address, street = self._address(district)
            business = {"name": name, "address": address}
            spec.route = self._route(address, street, district)
        consumer = {"name": self._name(), "phone": self._phone()} if self.rng.random() < 0.8 else {}
        spec.payload = {"consumer": consumer, "business": business, "subject": subject,
                        "description": description.format(biz=business.get("name", "该处"))}

    def specs(self, n_cases: int) -> list[Spec]:
        specs, total = [], 0
        while total < n_cases:
            spec = self._case_spec(self._weighted(KIND_WEIGHTS), allow_link=n_cases - total >= 2)
            specs.append(spec)
            total += 2 if spec.linked else 1
        # Repeat callers: the operator's console shows their earlier cases.
        named = [s for s in specs if s.payload.get("consumer", {}).get("phone")
                 and not s.payload["consumer"].get("anonymous")]
        self.rng.shuffle(named)
        for _ in range(min(15, len(named) // 4)):
            name, phone = self._name(), self._phone()
            for _ in range(self.rng.randint(2, 4)):
                if named:
                    named.pop().payload["consumer"].update(name=name, phone=phone)
        return sorted(specs, key=lambda s: s.at)

    # ---- history -----------------------------------------------------------------------------
    def _event(self, case: Case, action: str, actor: User | None, to_status: str, at: datetime, *,
               reason: str | None = None, note: str | None = None, data: dict | None = None) -> None:
        event = record_event(case, action, actor, from_status=case.status, to_status=to_status, reason=reason,
                             note=note, data=data, at=at)
        if actor is None and action != "route" and case.bureau is not None:
            event.actor_label = case.bureau.short_name  # a bureau without a demo user still acts as itself
        case.status = to_status
        if to_status == "closed":
            case.closed_at = at

    def _ground(self, weights: dict[str, int]) -> StatutoryGround:
        return self.grounds[self._weighted(weights)]

    def _flag(self, case: Case, clocks: list[CaseClock | None]) -> None:
        """An open case whose clock ran out without its action is overdue."""
        if case.status == "closed":
            return
        for clock in clocks:
            if clock is None or clock.met_at is not None or clock.due_at >= self.now:
                continue
            if case.status == "suspended" and clock.clock == "mediation":
                continue
            case.overdue = True

    def history(self, case: Case, spec: Spec) -> datetime | None:
        """Write what happened to the case after registration; returns when its routing job was done."""
        if case.status != "registered" or spec.hold:  # answered on the spot, or still waiting for routing
            return None
        clocks: list[CaseClock | None] = list(clocks_of(case.id))
        first = clocks[0] if clocks else None
        start = case.registered_at
        if spec.route is None and spec.triage is None:
            # A consultation or suggestion with no place to route to: the centre answers it.
            at = self._later(start, 1, 30)
            if at > self.now:
                return None
            self._answer(case, self.operator, at, first, spec)
            return at
        routed = start + timedelta(seconds=self.rng.randint(30, 720))
        if routed > self.now:
            return None
        if spec.triage:
            at = self._triage(case, spec, routed, first, clocks)
            if at is None:
                self._flag(case, clocks)
                return routed
        else:
            bureau, rule, reason = spec.route
            case.bureau, case.routing_rule, case.routing_reason = bureau, rule, reason
            self._event(case, "route", None, "pending", routed, note=reason, data={"rule": rule, "bureau": bureau.code})
            at = routed
        handler = self.bureau_users.get(case.bureau.code)
        if handler is not None:  # automatic assignment within the bureau (one demo handler each)
            case.assignee = handler
        flow = {"complaint": self._complaint, "report": self._report}.get(case.kind, self._reply)
        flow(case, spec, at, first, clocks)
        self._flag(case, clocks)
        if case.kind == "complaint" and case.status == "closed":
            self._rate(case)
        return routed

    def _rate(self, case: Case) -> None:
        """一事一评: about 60 % of closed complaints are rated by the consumer a day or three after closing,
        mostly 4-5 (less so when the complaint was declined or mediation failed)."""
        rng = self.rating_rng
        if rng.random() >= RATED_SHARE:
            return
        at = (case.closed_at + timedelta(hours=rng.uniform(20, 72))).replace(microsecond=0)
        if at > self.now:
            return  # not rated yet
        score = rng.choices((5, 4, 3, 2, 1), weights=RATING_WEIGHTS.get(case.outcome, RATING_WEIGHTS[None]))[0]
        comment = rng.choice(RATING_COMMENTS[score]) if rng.random() < 0.4 else None
        fault = rng.random() < 0.5 if score <= LOW_SCORE else None
        rate_case(case, score, comment, fault, now=at)

    def _triage(self, case: Case, spec: Spec, routed: datetime, first: CaseClock | None,
                clocks: list) -> datetime | None:
        self._event(case, "route", None, "triage", routed, reason=spec.triage,
                    note=f"经营者地址：{case.business_address}")
        address = case.business_address or ""
        if spec.assign_to is None:
            case.routing_rule = "triage:outside-city"
            case.routing_reason = f"经营者地址在鞍山市以外（{address[3:6]}），需指挥中心转办"
        else:
            case.routing_rule = "triage:no-division"
            case.routing_reason = f"经营者地址“{address}”无法对应到鞍山市的区县"
        clock = start_clock(case, "triage", routed)
        clocks.append(clock)
        at = self._later(routed, 0.5, 20)
        if at > self.now or self.now - routed < timedelta(hours=36):
            return None
        meet_clock(clock, at)
        if spec.assign_to is None:
            self._event(case, "withdraw", self.operator, "closed", at,
                        reason="经营者不在本市，已告知消费者向经营者所在地市场监管部门（可通过全国12315平台）反映，"
                               "消费者同意撤回")
            case.outcome = "withdrawn"
            meet_clock(first, at)
            return None
        bureau = self.bureaus[spec.assign_to]
        note = f"经电话向来电人核实，经营场所位于{bureau.short_name}辖区，指派{bureau.short_name}办理"
        self._event(case, "assign", self.supervisor, "pending", at, note=note, data={"bureau": bureau.code})
        case.bureau, case.routing_rule, case.routing_reason = bureau, "manual:supervisor", f"指挥中心指派：{note}"
        return at

    def _complaint(self, case: Case, spec: Spec, start: datetime, first: CaseClock | None, clocks: list) -> None:
        actor = self.bureau_users.get(case.bureau.code)
        delay = self.rng.uniform(9, 60) * 24 if spec.stalled else self.rng.uniform(2, 100)
        at = self._later(start, delay, delay + 1)
        if at > self.now:
            return
        meet_clock(first, at)
        roll = self.rng.random()
        if roll < 0.04:
            self._event(case, "withdraw", self.operator, "closed", at,
                        reason="消费者来电称已与经营者自行协商解决，申请撤回投诉")
            case.outcome = "withdrawn"
            return
        if roll < 0.17:
            ground = self._ground(DECLINE_WEIGHTS)
            case.ground_code = ground.code
            self._event(case, "decline", actor, "closed", at, reason=ground.text, note=ground.legal_basis,
                        data={"ground": ground.code})
            case.outcome = "declined"
            return
        self._event(case, "accept", actor, "accepted", at, note="经审查符合受理条件，予以受理，组织双方调解")
        mediation = start_clock(case, "mediation", at)
        clocks.append(mediation)
        if self.rng.random() < 0.06:  # waiting for a test report: the mediation clock stops
            paused = self._later(at, 20, 120)
            if paused <= self.now and self.now - paused < timedelta(days=20):
                self._event(case, "suspend", actor, "suspended", paused, reason="testing",
                            note="商品送检测机构检测，检测期间不计入调解期限")
                return
        days = self.rng.choices(((1, 10), (10, 30), (30, 55), (60, 90)), weights=(40, 40, 14, 6))[0]
        hours = self.rng.uniform(*days) * 24
        end = self._later(at, hours, hours + 1)
        if end > self.now:
            return
        meet_clock(mediation, end)
        runaway = spec.template is not None and spec.template.business in RUNAWAY
        if (runaway and self.rng.random() < 0.6) or self.rng.random() < 0.2:
            ground = self.grounds["T03"] if runaway else self._ground(TERMINATE_WEIGHTS)
            case.ground_code = ground.code
            self._event(case, "terminate", actor, "closed", end, reason=ground.text,
                        note="已告知消费者可依法通过诉讼等途径解决", data={"ground": ground.code})
            case.outcome = "terminated"
            notice = start_clock(case, "mediation_notice", end)
            told = self._later(end, 2, 48)
            if notice is not None and told <= self.now:
                meet_clock(notice, told)
            return
        amount = case.amount
        if amount:
            share = self.rng.choice((Decimal(1), Decimal(1), Decimal(1), Decimal("0.8"), Decimal("0.6"),
                                     Decimal("0.5")))
            recovered = min(amount, _money(amount * share))
            agreement = (f"被投诉人退还全部款项{recovered}元" if recovered == amount
                         else f"被投诉人退还（补偿）消费者{recovered}元，消费者放弃其他请求")
        else:
            recovered, agreement = None, "被投诉人向消费者赔礼道歉并承诺整改"
        case.recovered_amount = recovered
        self._event(case, "settle", actor, "closed", end, note=f"经调解，双方达成协议：{agreement}",
                    data={"agreement": agreement, "recovered_amount": str(recovered) if recovered else None})
        case.outcome = "mediated"

    def _report(self, case: Case, spec: Spec, start: datetime, first: CaseClock | None, clocks: list) -> None:
        actor = self.bureau_users.get(case.bureau.code)
        at = self._later(start, 2, 50)
        if at > self.now:
            return
        if self.rng.random() < 0.12:
            ground = self._ground(REPORT_DECLINE_WEIGHTS)
            case.ground_code = ground.code
            self._event(case, "decline", actor, "closed", at, reason=ground.text, note=ground.legal_basis,
                        data={"ground": ground.code})
            case.outcome = "declined"
            meet_clock(first, at)
            self._tell_reporter(case, at)
            return
        self._event(case, "start_verification", actor, "verifying", at, note="已指派执法人员现场核查")
        hours = (self.rng.uniform(22, 60) if spec.stalled else self.rng.uniform(2, 16)) * 24
        end = self._later(at, hours, hours + 1)
        if end > self.now:
            return
        meet_clock(first, end)
        if self.rng.random() < 0.35:
            issue = self.issues.get(case.category_issue or "", "违法")
            self._event(case, "file_case", actor, "closed", end,
                        note=f"经现场核查，举报反映的{issue}问题基本属实，已立案调查")
            case.outcome = "case_filed"
        else:
            ground = self._ground(NO_CASE_WEIGHTS)
            case.ground_code = ground.code
            self._event(case, "no_case", actor, "closed", end, reason=ground.text, note=ground.legal_basis,
                        data={"ground": ground.code})
            case.outcome = "no_case"
        self._tell_reporter(case, end)

    def _tell_reporter(self, case: Case, decided: datetime) -> None:
        if case.consumer_anonymous or not case.consumer_phone:
            return
        notice = start_clock(case, "reporter_notice", decided)
        told = self._later(decided, 2, 60)
        if notice is not None and told <= self.now:
            meet_clock(notice, told)

    def _reply(self, case: Case, spec: Spec, start: datetime, first: CaseClock | None, clocks: list) -> None:
        hours = self.rng.uniform(120, 240) if spec.stalled else self.rng.uniform(4, 70)
        at = self._later(start, hours, hours + 1)
        if at <= self.now:
            self._answer(case, self.bureau_users.get(case.bureau.code), at, first, spec)

    def _answer(self, case: Case, actor: User | None, at: datetime, first: CaseClock | None, spec: Spec) -> None:
        note = data = None
        if spec.answer is not None:
            case.answer, case.answer_id = spec.answer.body, spec.answer.id
            note, data = f"answer bank {spec.answer.code}", {"answer": spec.answer.code}
        else:
            who = case.bureau.short_name if case.bureau else self.centre
            case.answer = (f"感谢您的建议。{who}已将建议转交相关科室研究，将在日常监管中加强{spec.topic or '相关'}"
                           "工作，并视情况纳入下一步工作安排。")
        self._event(case, "answer", actor, "closed", at, note=note, data=data)
        case.outcome = "answered"
        meet_clock(first, at)

    # ---- loading -----------------------------------------------------------------------------
    def _settle_outbox(self, batch: list[tuple[Case, datetime | None]]) -> None:
        """Jobs and receipts of the past were handled at the time: routing jobs are done when the case
        was routed, and receipts count as sent (no demo number is ever texted, whatever the backend)."""
        if not batch:
            return
        cases = {case.id: case for case, _ in batch}
        jobs = {f"route_case:{case.id}": (case.registered_at, done) for case, done in batch}
        for message in db.session.scalars(select(SmsMessage).where(SmsMessage.case_id.in_(list(cases)))):
            sent = cases[message.case_id].registered_at + timedelta(seconds=self.rng.randint(2, 30))
            message.created_at, message.status, message.sent_at = cases[message.case_id].registered_at, "sent", sent
            if "code" in message.params:
                message.params = {**message.params, "code": "******"}
            jobs[f"send_sms:{message.dedupe_key}"] = (message.created_at, sent)
        for job in db.session.scalars(select(OutboxJob).where(OutboxJob.dedupe_key.in_(list(jobs)))):
            created, done = jobs[job.dedupe_key]
            job.created_at = job.available_at = created
            job.done_at = done

    def load(self, n_cases: int) -> int:
        created, batch = 0, []
        for i, spec in enumerate(self.specs(n_cases), 1):
            actor = self.station_user if spec.channel == "station" else self.operator
            registered = register_case(parse_case(spec.payload), actor, now=spec.at)
            batch.append((registered.case, self.history(registered.case, spec)))
            created += 1
            if registered.linked is not None:
                report = replace(spec, kind="report", linked=False, stalled=self.rng.random() < STALLED_SHARE)
                batch.append((registered.linked.case, self.history(registered.linked.case, report)))
                created += 1
            if i % BATCH == 0:
                self._settle_outbox(batch)
                db.session.commit()
                batch = []
        self._settle_outbox(batch)
        db.session.commit()
        self._workflow_examples()
        self._alerts()
        return created

    def _alerts(self) -> None:
        """消费警示: a few confirmed subscribers, one alert published (its SMS go out through the relay)
        and one draft waiting for a supervisor."""
        from hotline.alerts.models import Subscription
        from hotline.alerts.operations import check_alert, create_alert, publish_alert
        districts = [None, "210302", "210303", "210304"]
        for i in range(24):
            at = self.now - timedelta(days=self.rng.randint(1, 120))
            db.session.add(Subscription(phone=self._phone(), district=districts[i % len(districts)],
                                        status="confirmed", channel="web", created_at=at, consent_at=at))
        supervisor = self.users["supervisor"]
        published = create_alert(check_alert({
            "title": "警惕健身、美容等预付卡经营者闭店跑路",
            "body": "近期我市陆续接到消费者反映，个别健身房、美容店在大量预售储值卡后突然闭店。市场监管部门提醒："
                    "办理预付卡前查看经营者资质和经营状况，签订书面合同，单次充值不宜过多；保存好合同、收据和付款记录；"
                    "经营者闭店或无法联系的，请及时拨打12315或登录全国12315平台投诉。依据《消费者权益保护法实施条例》"
                    "第二十二条，经营者以预收款方式提供商品或者服务的，应当与消费者订立书面合同。",
            "sms_text": "预付卡消费风险提示：充值勿过多，签书面合同，留存凭证，闭店请拨12315。"}), supervisor)
        db.session.flush()
        publish_alert(published.id, supervisor)
        create_alert(check_alert({
            "title": "冬季取暖电器选购提示",
            "body": "选购电暖器等取暖电器时，请认准CCC认证标志，查看产品说明和合格证，不购买无厂名厂址的产品。",
            "sms_text": "选购取暖电器认准CCC标志，勿买三无产品，有问题请拨12315。",
            "district": "210303"}), supervisor)
        db.session.commit()

    def _workflow_examples(self) -> None:
        """A few of today's steps taken through the real workflow, so every queue has something in it:
        extension requests waiting for the centre, and an out-of-city case transferred (移送)."""
        from hotline.cases.actions import ActionInput, take_action
        for code in ("tiexi", "tiedong"):
            handler = self.users[code]
            report = db.session.scalar(select(Case).where(Case.kind == "report", Case.status == "verifying",
                                                          Case.bureau_id == handler.bureau_id)
                                       .order_by(Case.received_at).limit(1))
            if report is not None:
                take_action(report, handler, ActionInput(
                    action="request_extension", reason="涉案经营者账目复杂，需调取平台交易记录，申请延长核查期限"))
        outside = db.session.scalar(select(Case).where(Case.status == "triage",
                                                       Case.routing_rule == "triage:outside-city")
                                    .order_by(Case.received_at).limit(1))
        if outside is not None:
            take_action(outside, self.users["supervisor"], ActionInput(action="transfer_out",
                                                                     receiver="全国12315平台"))
        db.session.commit()


def _demo_users(pack: dict) -> tuple[dict[str, User], list[tuple[str, str, str, str]]]:
    station_code = pack["stations"][0]["code"]
    users, logins = {}, []
    for username, password, role, display_name, bureau_code in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(username, password, role, display_name=display_name, bureau_code=bureau_code,
                               station_code=station_code if role == "station" else None)
        users[username] = user
        where = user.bureau.short_name if user.bureau else user.station.name if user.station else ""
        logins.append((username, password, role, where))
    return users, logins


def load_demo(n_cases: int) -> tuple[list[tuple[str, str, str, str]], int]:
    """Demo users (skipping any that exist) and, unless the demo has run before, `n_cases` cases.

    Returns the log-ins as (username, password, role, bureau or station) and how many cases were made."""
    region = current_app.config["REGION"]
    if region != "anshan":
        raise ValueError(f"the demo data is written for the anshan region pack, not {region!r}")
    pack = read_pack(region)
    users, logins = _demo_users(pack)
    db.session.commit()
    authors = [users["operator"].id, users["station"].id]
    if n_cases <= 0 or db.session.scalar(select(Case.id).where(Case.created_by_id.in_(authors)).limit(1)):
        return logins, 0
    loader = DemoLoader(users)
    loader.centre = pack["region"].get("centre_name", "12315指挥中心")
    made = loader.load(n_cases)
    from hotline.stats.refresh import drain
    drain()  # the supervisors' figures count the demo cases at once, not on the first worker pass
    return logins, made
